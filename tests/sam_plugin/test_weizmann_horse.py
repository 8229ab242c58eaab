"""sam-tiny trains on a few real images (../shared/data/real/weizmann_horse, when present)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sam_test_configs import FAST

from qtt_core.adapter import SessionRequest
from qtt_sam import SamAdapter

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


class _HorseSplit:
    """gray/horseNNN.jpg with figure_ground/horseNNN.jpg (JPEG masks: threshold at 128)."""

    def __init__(self, root: Path, stems: list[str]):
        self.root, self.stems = root, stems

    def __len__(self) -> int:
        return len(self.stems)

    def image(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        picture = Image.open(self.root / "gray" / f"{self.stems[index]}.jpg").convert("RGB")
        return np.asarray(picture if size is None else picture.resize((size[1], size[0]), Image.BILINEAR))

    def mask(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        picture = Image.open(self.root / "figure_ground" / f"{self.stems[index]}.jpg").convert("L")
        binary = Image.fromarray((np.asarray(picture) >= 128).astype(np.uint8))
        return np.asarray(binary if size is None else binary.resize((size[1], size[0]), Image.NEAREST))

    def name(self, index: int) -> str:
        return self.stems[index]


class _Horses:
    class_names = ["horse"]
    num_channels = 1
    num_classes = 1

    def __init__(self, root: Path):
        stems = sorted(p.stem for p in (root / "gray").glob("*.jpg"))[:10]
        self.splits = {"train": stems[:6], "val": stems[6:8], "test": stems[8:10]}
        self.root = root

    def split(self, name: str) -> _HorseSplit:
        return _HorseSplit(self.root, self.splits[name])


def test_sam_tiny_trains_on_weizmann_horses(shared, tmp_path):
    root = shared("real", "weizmann_horse", "weizmann_horse_db")
    data = _Horses(root)
    session = SamAdapter().open_session(SessionRequest(model="sam-tiny", data=data, workdir=tmp_path))
    try:
        zero = session.zero_shot_score("val")
        reports = session.train("horse", {**FAST, "lr": 2e-3, "horizontal_flip": 1}, to_epoch=4)
        assert [r.epoch for r in reports] == [1, 2, 3, 4]
        assert all(np.isfinite(r.train_loss) and r.cost_s > 0 for r in reports)
        assert reports[-1].train_loss < reports[0].train_loss, [r.train_loss for r in reports]
        assert 0.0 <= zero <= 1.0 and 0.0 <= session.score("horse", "test") <= 1.0
    finally:
        session.close()
