"""Arrays of one pair, decoded through the cache: the image and its label map at a size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qtt_core.data.cache import ArrayCache
from qtt_core.data.masks import MaskEncoding
from qtt_core.data.pairing import Pair
from qtt_core.data.readers import read_header, read_image, read_mask, resize_image, resize_mask
from qtt_core.data.validate import size_mismatch_message
from qtt_core.errors import UsageError

__all__ = ["RESIZE_MODES", "decode_image", "decode_mask"]

RESIZE_MODES = ("error", "mask_to_image", "image_to_mask")


def decode_image(pair: Pair, size: tuple[int, int] | None, resize: str, cache: ArrayCache, root: Path) -> np.ndarray:
    """The pair's image as ``H x W x 3`` uint8 at ``size`` = ``(H, W)`` (bilinear), or at its
    own size (the mask's with ``resize="image_to_mask"``).

    Raises:
        UsageError: unreadable file, or image and mask sizes differ with ``resize="error"``.
    """
    size = _size(size)

    def compute() -> np.ndarray:
        target = _check_sizes(pair, resize, root)
        image, _ = read_image(pair.image)
        if resize == "image_to_mask":
            image = resize_image(image, target)
        return resize_image(image, size)

    return cache.get(pair.image, f"image|{resize}|{size}", compute)


def decode_mask(pair: Pair, size: tuple[int, int] | None, encoding: MaskEncoding, resize: str, cache: ArrayCache, root: Path) -> np.ndarray:
    """The pair's label map as ``H x W`` uint8 (0 background, 1..K, 255 ignored) at ``size``
    (nearest neighbour), or at its own size (the image's with ``resize="mask_to_image"``).

    Raises:
        UsageError: unreadable file, or image and mask sizes differ with ``resize="error"``.
    """
    size = _size(size)

    def compute() -> np.ndarray:
        target = _check_sizes(pair, resize, root)
        labels, _ = encoding.decode(read_mask(pair.mask))
        if resize == "mask_to_image":
            labels = resize_mask(labels, target)
        return resize_mask(labels, size)

    return cache.get(pair.mask, f"mask|{encoding.signature()}|{resize}|{size}|{pair.image}", compute)


def _check_sizes(pair: Pair, resize: str, root: Path) -> tuple[int, int] | None:
    """The size both arrays end up at, ``(H, W)``; raises when they differ and may not.

    ``resize="keep"`` (internal: class presence for splits) skips the check.
    """
    if resize == "keep":
        return None
    image_hw, _ = read_header(pair.image)
    mask_hw, _ = read_header(pair.mask)
    if image_hw != mask_hw and resize == "error":
        raise UsageError(size_mismatch_message(pair, root, image_hw, mask_hw))
    return mask_hw if resize == "image_to_mask" else image_hw


def _size(size: tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    height, width = (int(v) for v in size)
    if height < 1 or width < 1:
        raise UsageError(f"size {size} must be (H, W) with positive pixels")
    return (height, width)
