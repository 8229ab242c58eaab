"""The data cache: a pass over ~50 JPEG pairs without and with the on-disk cache.

Run: ``pytest benchmarks/test_data_cache.py --benchmark-only`` (CPU, a few seconds).
A pass reads every image and mask of the dataset at the training resolution and touches
every pixel, as a training epoch does.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from qtt_core.data import load_dataset

PAIRS = 50
SOURCE_HW = (384, 512)  # pixels of the generated JPEGs
TRAIN_HW = (256, 256)  # the resolution a pass asks for


@pytest.fixture(scope="module")
def jpeg_folder(tmp_path_factory):
    """50 JPEG images (noise + a bright disc) with JPEG masks of the disc."""
    root = tmp_path_factory.mktemp("jpegs")
    (root / "images").mkdir()
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0 : SOURCE_HW[0], 0 : SOURCE_HW[1]]
    for index in range(PAIRS):
        cy, cx, radius = rng.uniform(100, 280), rng.uniform(100, 400), rng.uniform(30, 90)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
        image = rng.integers(0, 120, size=(*SOURCE_HW, 3), dtype=np.uint8)
        image[disc] = 220
        Image.fromarray(image).save(root / "images" / f"case{index:03d}.jpg", quality=90)
        Image.fromarray(disc.astype(np.uint8) * 255).save(root / "masks" / f"case{index:03d}.jpg", quality=90)
    return root


def one_pass(data) -> int:
    """Read every pair at TRAIN_HW and touch every pixel; returns a checksum."""
    total = 0
    for split in ("train", "val", "test"):
        part = data.split(split)
        for index in range(len(part)):
            total += int(part.image(index, TRAIN_HW).sum()) + int(part.mask(index, TRAIN_HW).sum())
    return total


def test_first_pass_decodes(benchmark, jpeg_folder, tmp_path):
    """Empty cache: every JPEG is decoded, resized and written to the cache."""
    fresh = (tmp_path / f"cache{n}" for n in itertools.count())

    def setup():
        return (load_dataset(jpeg_folder, cache_dir=next(fresh)),), {}

    checksum = benchmark.pedantic(one_pass, setup=setup, rounds=3, iterations=1)
    assert checksum > 0
    benchmark.extra_info["pairs"] = PAIRS


def test_cached_pass(benchmark, jpeg_folder, tmp_path):
    """Warm cache: arrays are memory-mapped from .npy files, no JPEG is decoded."""
    data = load_dataset(jpeg_folder, cache_dir=tmp_path / "cache")
    expected = one_pass(data)
    misses = data.cache.misses
    checksum = benchmark.pedantic(one_pass, args=(data,), rounds=5, iterations=1)
    assert checksum == expected and data.cache.misses == misses
    benchmark.extra_info["pairs"] = PAIRS


def test_no_cache_pass(benchmark, jpeg_folder):
    """Caching off (``cache_dir=False``): the cost of every epoch without the cache."""
    data = load_dataset(jpeg_folder, cache_dir=False)
    benchmark.pedantic(one_pass, args=(data,), rounds=3, iterations=1)
