"""Decoding image and mask files with Pillow (tifffile as a fallback for exotic TIFFs).

Images: PNG, JPEG, TIFF (also LZW), BMP, GIF (first frame); RGB, RGBA (alpha dropped), grey
8 and 16 bit (16 bit scaled so that the image's maximum becomes 255), palette; EXIF
orientation applied. Files Pillow refuses as decompression bombs (over twice
``Image.MAX_IMAGE_PIXELS`` pixels) raise :class:`UsageError`, like unreadable ones. Masks keep
their raw values: grey values, palette indices (with the palette) or RGB colours, so that
:mod:`qtt_core.data.masks` can decide the encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from qtt_core.errors import UsageError

__all__ = [
    "IMAGE_SUFFIXES",
    "JPEG_SUFFIXES",
    "RawMask",
    "probe_image",
    "read_header",
    "read_image",
    "read_mask",
    "resize_image",
    "resize_mask",
]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif"})
JPEG_SUFFIXES = frozenset({".jpg", ".jpeg"})
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap height and width
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
#: channels of colour masks that differ by at most this much count as grey (JPEG chroma noise)
GREY_TOLERANCE = 12


@dataclass
class RawMask:
    """A mask as stored: ``kind`` is "grey" (``values`` H x W integers), "palette" (``values``
    H x W indices, ``palette`` 256 x 3 uint8) or "colour" (``values`` H x W x 3 uint8)."""

    kind: str
    values: np.ndarray
    palette: np.ndarray | None = None
    lossy: bool = False

    def rgb(self) -> np.ndarray:
        """The mask as an ``H x W x 3`` uint8 RGB array (grey values above 255 are clipped)."""
        if self.kind == "colour":
            return self.values
        if self.kind == "palette":
            return self.palette[self.values]
        grey = np.clip(self.values, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)


def read_header(path: Path) -> tuple[tuple[int, int], int]:
    """``((H, W), channels)`` of an image file without decoding its pixels (EXIF applied).

    Raises:
        UsageError: the file cannot be opened as an image.
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
            if image.format in ("JPEG", "TIFF", "PNG", "WEBP") and image.getexif().get(0x0112) in _ROTATED:
                width, height = height, width
            return (height, width), _channels(image.mode)
    except Image.DecompressionBombError as error:
        raise _too_large(path, error) from None
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        if path.suffix.lower() in (".tif", ".tiff"):
            array = _read_tiff(path)
            return (int(array.shape[0]), int(array.shape[1])), 1 if array.ndim == 2 else int(array.shape[2])
        raise UsageError(f"{path} cannot be read as an image ({_reason(error, path)}); replace or remove it") from None


def read_image(path: Path) -> tuple[np.ndarray, int]:
    """Decode an image file.

    Returns:
        ``(image, channels)``: an ``H x W x 3`` uint8 RGB array and the file's channel count
        (1 grey, 3 colour, 4 with alpha).

    Raises:
        UsageError: unreadable or truncated file.
    """
    image = _open_decoded(path)
    if image is None:
        array = _read_tiff(path)
        channels = 1 if array.ndim == 2 else array.shape[2]
        return _to_rgb8(array), channels
    channels = _channels(image.mode)
    if image.mode in ("P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBA", "RGBa", "RGBX"):
        image = image.convert("RGB")
    if image.mode == "LA":
        image = image.convert("L")
    return _to_rgb8(np.asarray(image)), channels


def read_mask(path: Path) -> RawMask:
    """Decode a mask file keeping its raw values (see :class:`RawMask`)."""
    lossy = path.suffix.lower() in JPEG_SUFFIXES
    image = _open_decoded(path)
    if image is None:
        array = _read_tiff(path)
        return _colour_or_grey(array, lossy) if array.ndim == 3 else RawMask("grey", array.astype(np.int32), lossy=lossy)
    lossy = lossy or image.format == "JPEG"
    if image.mode in ("P", "PA"):
        palette = np.zeros((256, 3), dtype=np.uint8)
        colours = np.asarray(image.getpalette("RGB") or [], dtype=np.uint8).reshape(-1, 3)[:256]
        palette[: len(colours)] = colours
        values = np.asarray(image.convert("P") if image.mode == "PA" else image)
        return RawMask("palette", values.astype(np.int32), palette, lossy)
    if image.mode == "1":
        return RawMask("grey", np.asarray(image).astype(np.int32), lossy=lossy)
    if image.mode in _GREY_MODES:
        grey = image.getchannel(0) if image.mode == "LA" else image
        return RawMask("grey", np.asarray(grey).astype(np.int32), lossy=lossy)
    return _colour_or_grey(np.asarray(image.convert("RGB")), lossy)


def resize_image(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Bilinear resize of an ``H x W x 3`` uint8 image to ``size`` = ``(H, W)`` pixels."""
    if size is None or tuple(image.shape[:2]) == tuple(size):
        return image
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.BILINEAR))


def resize_mask(mask: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """Nearest-neighbour resize of an ``H x W`` uint8 label map to ``size`` = ``(H, W)``."""
    if size is None or tuple(mask.shape[:2]) == tuple(size):
        return mask
    return np.asarray(Image.fromarray(mask).resize((size[1], size[0]), Image.NEAREST))


def _open_decoded(path: Path) -> Image.Image | None:
    """The decoded, EXIF-oriented first frame; None for TIFFs that only tifffile reads."""
    try:
        with Image.open(path) as image:
            image.load()
            oriented = ImageOps.exif_transpose(image)
            return oriented if oriented is not image else image.copy()
    except Image.DecompressionBombError as error:
        raise _too_large(path, error) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        if path.suffix.lower() in (".tif", ".tiff") and "truncated" not in str(error):
            return None
        raise UsageError(f"{path} cannot be read as an image ({_reason(error, path)}); replace or remove it") from None


def _too_large(path: Path, error: Image.DecompressionBombError) -> UsageError:
    """The error for an image over Pillow's pixel limit (``Image.MAX_IMAGE_PIXELS``)."""
    return UsageError(
        f"{path} is too large to decode safely ({_reason(error, path)}); "
        f"resize it to at most {Image.MAX_IMAGE_PIXELS} pixels (Pillow's MAX_IMAGE_PIXELS) or remove it"
    )


def _read_tiff(path: Path) -> np.ndarray:
    try:
        import tifffile
    except ImportError:
        raise UsageError(f"{path} is a TIFF that Pillow cannot decode; install tifffile to read it (pip install 'qtt-seg[tiff]')") from None
    try:
        array = np.asarray(tifffile.imread(path, key=0))
    except Exception as error:  # noqa: BLE001 - any decoder failure is the file's fault
        raise UsageError(f"{path} cannot be read as an image ({_reason(error, path)}); replace or remove it") from None
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] not in (1, 3, 4):
        array = np.moveaxis(array, 0, 2)  # planar configuration
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return array


def _colour_or_grey(rgb: np.ndarray, lossy: bool) -> RawMask:
    red, green, blue = (rgb[:, :, k].astype(np.int32) for k in range(3))  # per-channel: fast
    spread = np.maximum(np.maximum(np.abs(red - green), np.abs(red - blue)), np.abs(green - blue))
    if int(spread.max(initial=0)) <= (GREY_TOLERANCE if lossy else 0):
        return RawMask("grey", (red + green + blue + 1) // 3, lossy=lossy)
    return RawMask("colour", np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8), lossy=lossy)


def _to_rgb8(array: np.ndarray) -> np.ndarray:
    """Any grey/RGB(A) array, any integer or float depth, as ``H x W x 3`` uint8."""
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.dtype != np.uint8:
        is_float = array.dtype.kind == "f"
        array = array.astype(np.float64)
        top = float(array.max(initial=0.0))
        scale = 255.0 / top if top > 255 or (is_float and 0 < top <= 1.0) else 1.0
        array = np.clip(np.rint(array * scale), 0, 255).astype(np.uint8)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    return np.ascontiguousarray(array[:, :, :3])


def _channels(mode: str) -> int:
    if mode in _GREY_MODES:
        return 1
    return 4 if mode in ("RGBA", "PA", "LA", "RGBa") else 3


def _reason(error: BaseException, path: Path | None = None) -> str:
    text = str(error)
    if path is not None:
        text = text.replace(f" '{path}'", "").replace(f" {path}", "")
    text = " ".join(text.split()) or type(error).__name__
    return text if len(text) < 120 else text[:117] + "..."


def probe_image(path: Path) -> tuple[tuple[int, int], int]:
    """Fully decode a file to find truncation; returns ``((H, W), channels)`` (EXIF applied).

    Raises:
        UsageError: unreadable or truncated file.
    """
    image = _open_decoded(path)
    if image is None:
        array = _read_tiff(path)
        return (int(array.shape[0]), int(array.shape[1])), 1 if array.ndim == 2 else int(array.shape[2])
    return (image.height, image.width), _channels(image.mode)
