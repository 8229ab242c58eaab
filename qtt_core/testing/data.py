"""Small in-memory segmentation datasets, generated deterministically."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qtt_core.data.protocol import SPLIT_NAMES

__all__ = ["InMemoryData", "InMemorySplit", "make_shapes_data"]


@dataclass
class InMemorySplit:
    """Images (``N`` arrays ``H x W x 3`` uint8) and label maps (``H x W`` uint8)."""

    images: list[np.ndarray]
    masks: list[np.ndarray]
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        return _resize(self.images[index], size, nearest=False)

    def mask(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        return _resize(self.masks[index], size, nearest=True)

    def name(self, index: int) -> str:
        return self.names[index] if self.names else f"sample{index:04d}"


@dataclass
class InMemoryData:
    """A dataset held in memory, with named splits."""

    splits: dict[str, InMemorySplit]
    class_names: list[str]
    num_channels: int = 3

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def split(self, name: str) -> InMemorySplit:
        return self.splits[name]


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


def _resize(array: np.ndarray, size: tuple[int, int] | None, nearest: bool) -> np.ndarray:
    if size is None or tuple(array.shape[:2]) == tuple(size):
        return array
    from PIL import Image

    resample = Image.NEAREST if nearest else Image.BILINEAR
    return np.asarray(Image.fromarray(array).resize((size[1], size[0]), resample))
