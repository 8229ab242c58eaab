"""What the rest of qtt-seg reads from a dataset: decoded arrays, split by split.

Model adapters and meta-feature extractors only use these protocols, so any object with
these methods works (the data layer's loaders, ``qtt_core.testing``'s in-memory data, ...).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["IGNORE_INDEX", "SPLIT_NAMES", "SegmentationData", "SegmentationSplit"]

#: label value excluded from losses and metrics
IGNORE_INDEX = 255
SPLIT_NAMES = ("train", "val", "test")


@runtime_checkable
class SegmentationSplit(Protocol):
    """The samples of one split."""

    def __len__(self) -> int:
        """Number of image/mask pairs."""
        ...

    def image(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """Image ``index`` as an ``H x W x 3`` uint8 RGB array (grey images repeated).

        Args:
            size: ``(H, W)`` in pixels to resize to (bilinear), or None for the original size.
        """
        ...

    def mask(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """Label map ``index`` as an ``H x W`` uint8 array.

        0 is background, 1..K the foreground classes, :data:`IGNORE_INDEX` (255) is ignored.

        Args:
            size: ``(H, W)`` in pixels to resize to (nearest neighbour), or None.
        """
        ...

    def name(self, index: int) -> str:
        """A short name for sample ``index`` (its image file's stem)."""
        ...


@runtime_checkable
class SegmentationData(Protocol):
    """A dataset with train, val and test splits.

    Attributes:
        class_names: the K foreground classes; label ``i + 1`` is ``class_names[i]``.
        num_channels: channels of the original images (1 grey, 3 colour, 4 with alpha).
    """

    class_names: list[str]
    num_channels: int

    @property
    def num_classes(self) -> int:
        """K, the number of foreground classes (1 for binary segmentation)."""
        ...

    def split(self, name: str) -> SegmentationSplit:
        """The split ``name`` ("train", "val" or "test")."""
        ...
