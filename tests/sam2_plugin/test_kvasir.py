"""sam2-test trains on the Kvasir-SEG sample (../shared/data/real/kvasir_seg_sample, when present)."""

from __future__ import annotations

import pytest
from sam2_test_configs import FAST_LORA

from helpers import require_sam2, require_shared

require_sam2()

from qtt_core.adapter import SessionRequest  # noqa: E402
from qtt_core.data import load_dataset  # noqa: E402
from qtt_sam2 import Sam2Adapter  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_loss_falls_on_kvasir_polyps(tmp_path):
    data = load_dataset(require_shared("real", "kvasir_seg_sample", "Kvasir-SEG"), cache_dir=False)
    assert len(data.split("train")) >= 2
    session = Sam2Adapter().open_session(SessionRequest(model="sam2-test", data=data, workdir=tmp_path / "work", seed=0))
    try:
        zero_shot = session.zero_shot_score("val")
        reports = session.train("c", {**FAST_LORA, "batch_size": 1, "lr": 2e-3}, to_epoch=5)
    finally:
        session.close()
    assert [r.epoch for r in reports] == [1, 2, 3, 4, 5]
    losses = [r.train_loss for r in reports]
    assert min(losses[-2:]) < 0.8 * losses[0], losses
    assert 0.0 <= zero_shot <= 1.0 and all(0.0 <= r.score <= 1.0 for r in reports)
