"""Small in-memory segmentation datasets, generated deterministically.

:class:`InMemoryData` and :class:`InMemorySplit` live in :mod:`qtt_core.data.synthetic` (the
generated task families return them too) and are re-exported here for tests and plugin authors.
"""

from __future__ import annotations

import numpy as np

from qtt_core.data.protocol import SPLIT_NAMES
from qtt_core.data.synthetic import InMemoryData, InMemorySplit

__all__ = ["InMemoryData", "InMemorySplit", "make_shapes_data"]


def make_shapes_data(
    n_train: int = 8,
    n_val: int = 4,
    n_test: int = 4,
    size: tuple[int, int] = (64, 64),
    num_classes: int = 1,
    seed: int = 0,
) -> InMemoryData:
    """Random ellipses and rectangles on noisy backgrounds; class k drawn in its own colour.

    Args:
        size: ``(H, W)`` of every image, in pixels.
        num_classes: foreground classes (1 = binary).
    """
    rng = np.random.default_rng(seed)
    counts = dict(zip(SPLIT_NAMES, (n_train, n_val, n_test), strict=True))
    splits = {}
    for split, count in counts.items():
        images, masks = [], []
        for _ in range(count):
            image, mask = _scene(rng, size, num_classes)
            images.append(image)
            masks.append(mask)
        splits[split] = InMemorySplit(images, masks, [f"{split}{i:03d}" for i in range(count)])
    return InMemoryData(splits, [f"class{k + 1}" for k in range(num_classes)])


def _scene(rng: np.random.Generator, size: tuple[int, int], num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    height, width = size
    image = rng.normal(90, 20, size=(height, width, 3))
    mask = np.zeros((height, width), dtype=np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    for label in range(1, num_classes + 1):
        cy, cx = rng.uniform(0.25, 0.75) * height, rng.uniform(0.25, 0.75) * width
        ry, rx = rng.uniform(0.1, 0.25) * height, rng.uniform(0.1, 0.25) * width
        if rng.random() < 0.5:
            region = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        else:
            region = (np.abs(yy - cy) <= ry) & (np.abs(xx - cx) <= rx)
        mask[region] = label
        colour = np.array([60 + 60 * label, 200 - 40 * label, 120]) % 256
        image[region] = colour + rng.normal(0, 10, size=(int(region.sum()), 3))
    return np.clip(image, 0, 255).astype(np.uint8), mask
