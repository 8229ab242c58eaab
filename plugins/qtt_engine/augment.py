"""Augmentations applied to image and label map together (prompts are drawn afterwards).

Geometric variants (flips, 90-degree rotations) are deterministic given their parameters,
so embeddings of a variant can be cached; colour jitter is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torchvision.transforms.v2 import functional as tvf

__all__ = ["Augmentation", "draw_augmentation"]


@dataclass(frozen=True)
class Augmentation:
    """Parameters of one augmentation.

    Attributes:
        hflip / vflip: mirror left-right / top-bottom.
        rot90: number of counter-clockwise quarter turns (0-3); inputs are square.
        brightness / contrast / saturation: colour factors (1.0 = unchanged).
    """

    hflip: bool = False
    vflip: bool = False
    rot90: int = 0
    brightness: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0

    @property
    def variant(self) -> tuple[int, int, int]:
        """The geometric part, a cache key: ``(hflip, vflip, rot90)``."""
        return (int(self.hflip), int(self.vflip), self.rot90)

    @property
    def has_colour(self) -> bool:
        return (self.brightness, self.contrast, self.saturation) != (1.0, 1.0, 1.0)

    def apply(self, image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Augmented copies of ``image`` (``H x W x 3`` uint8) and ``mask`` (``H x W`` uint8)."""
        if self.hflip:
            image, mask = image[:, ::-1], mask[:, ::-1]
        if self.vflip:
            image, mask = image[::-1], mask[::-1]
        if self.rot90:
            image, mask = np.rot90(image, self.rot90), np.rot90(mask, self.rot90)
        image, mask = np.ascontiguousarray(image), np.ascontiguousarray(mask)
        if self.has_colour:
            tensor = torch.from_numpy(np.array(image)).permute(2, 0, 1)  # a writable copy
            tensor = tvf.adjust_brightness(tensor, self.brightness)
            tensor = tvf.adjust_contrast(tensor, self.contrast)
            tensor = tvf.adjust_saturation(tensor, self.saturation)
            image = tensor.permute(1, 2, 0).contiguous().numpy()
        return image, mask


def draw_augmentation(
    rng: np.random.Generator,
    horizontal_flip: bool,
    vertical_flip: bool,
    random_rotate: bool,
    color_jitter: float,
) -> Augmentation:
    """Random augmentation parameters; always draws the same numbers from ``rng``.

    Args:
        color_jitter: strength s; factors are uniform in ``[1 - s, 1 + s]`` (0: none).
    """
    draws = rng.random(3)
    rot = int(rng.integers(0, 4))
    factors = rng.uniform(-1.0, 1.0, size=3) * color_jitter + 1.0
    return Augmentation(
        hflip=bool(horizontal_flip and draws[0] < 0.5),
        vflip=bool(vertical_flip and draws[1] < 0.5),
        rot90=rot if random_rotate else 0,
        brightness=float(factors[0]) if color_jitter > 0 else 1.0,
        contrast=float(factors[1]) if color_jitter > 0 else 1.0,
        saturation=float(factors[2]) if color_jitter > 0 else 1.0,
    )
