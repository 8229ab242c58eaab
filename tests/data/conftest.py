"""Fixtures that write small segmentation datasets into tmp_path (never into the repository)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from qtt_core.testing import make_shapes_data

PALETTE = {1: (255, 0, 0), 2: (0, 255, 0), 3: (0, 0, 255)}


def shapes(n: int, size: tuple[int, int] = (24, 32), num_classes: int = 1, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n`` pairs of (``H x W x 3`` uint8 image, ``H x W`` uint8 labels 0..num_classes)."""
    data = make_shapes_data(n_train=n, n_val=0, n_test=0, size=size, num_classes=num_classes, seed=seed).split("train")
    return [(data.images[i], data.masks[i]) for i in range(n)]


def colour_mask(labels: np.ndarray, palette: dict[int, tuple[int, int, int]] = PALETTE) -> np.ndarray:
    """Labels as an ``H x W x 3`` colour-coded mask (background black)."""
    rgb = np.zeros((*labels.shape, 3), dtype=np.uint8)
    for label, colour in palette.items():
        rgb[labels == label] = colour
    return rgb


def write_pairs(
    root: Path,
    pairs: list[tuple[np.ndarray, np.ndarray]],
    image_dir: str = "images",
    mask_dir: str = "masks",
    image_ext: str = ".png",
    mask_ext: str = ".png",
    mask_suffix: str = "",
    names: list[str] | None = None,
    **save_options,
) -> Path:
    """Save ``pairs`` (image array, mask array: H x W grey or H x W x 3 colour) as files."""
    (root / image_dir).mkdir(parents=True, exist_ok=True)
    (root / mask_dir).mkdir(parents=True, exist_ok=True)
    for index, (image, mask) in enumerate(pairs):
        name = names[index] if names else f"sample{index:02d}"
        Image.fromarray(image).save(root / image_dir / f"{name}{image_ext}")
        Image.fromarray(mask).save(root / mask_dir / f"{name}{mask_suffix}{mask_ext}", **save_options)
    return root


def binary_pairs(n: int = 6, size: tuple[int, int] = (24, 32), foreground: int = 255, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Binary pairs with masks in {0, foreground}."""
    return [(image, (labels > 0).astype(np.uint8) * foreground) for image, labels in shapes(n, size, 1, seed)]


def band_masks(n: int, values: list, size: tuple[int, int] = (24, 36), seed: int = 0) -> list[np.ndarray]:
    """``n`` masks where every entry of ``values`` (a grey value, or an RGB tuple) fills one
    vertical band, the bands in a different order in each mask."""
    rng = np.random.default_rng(seed)
    height, width = size
    edges = np.linspace(0, width, len(values) + 1).round().astype(int)
    colour = isinstance(values[0], tuple)
    masks = []
    for _ in range(n):
        mask = np.zeros((height, width, 3) if colour else (height, width), dtype=np.uint8)
        for band, k in enumerate(rng.permutation(len(values))):
            mask[:, edges[band] : edges[band + 1]] = values[k]
        masks.append(mask)
    return masks


def write_set(root: Path, masks: list[np.ndarray | Image.Image], seed: int = 0) -> Path:
    """Random images beside ``masks`` (arrays, or PIL images such as palette PNGs) as
    ``images/sampleNN.png`` + ``masks/sampleNN.png``."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for index, mask in enumerate(masks):
        mask = mask if isinstance(mask, Image.Image) else Image.fromarray(mask)
        Image.fromarray(rng.integers(0, 256, (mask.height, mask.width, 3), dtype=np.uint8)).save(root / "images" / f"sample{index:02d}.png")
        mask.save(root / "masks" / f"sample{index:02d}.png")
    return root


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file and folder below ``folder``."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every data test caches under its own tmp_path, never in the user's home."""
    monkeypatch.setenv("QTT_SEG_CACHE_DIR", str(tmp_path / "qtt-cache"))


@pytest.fixture
def binary_folder(tmp_path) -> Path:
    """6 pairs, PNG images and {0, 255} PNG masks in images/ + masks/."""
    return write_pairs(tmp_path / "binary", binary_pairs())


@pytest.fixture
def multiclass_folder(tmp_path) -> Path:
    """12 pairs with class ids {0, 1, 2, 3} in grey PNG masks."""
    return write_pairs(tmp_path / "multi", shapes(12, num_classes=3, seed=1))


@pytest.fixture
def gen():
    """The writers above, for tests: ``gen.write_pairs(root, gen.binary_pairs())``."""
    from types import SimpleNamespace

    return SimpleNamespace(
        shapes=shapes, colour_mask=colour_mask, write_pairs=write_pairs, binary_pairs=binary_pairs, snapshot=snapshot, PALETTE=PALETTE,
        band_masks=band_masks, write_set=write_set,
    )
