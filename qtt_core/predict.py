"""Predict image files with any tuned model: label-map PNGs and overlays (model-agnostic)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from qtt_core.adapter import TunedModel
from qtt_core.data.legend import encode_labels
from qtt_core.data.readers import read_image
from qtt_core.errors import UsageError

__all__ = ["boxes_from_label_map", "check_boxes_allowed", "overlay", "predict_files", "read_boxes_file"]

_PALETTE = np.array(
    [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240]],
    dtype=np.uint8,
)


def read_boxes_file(path: str | Path) -> dict[str, list[list[float]]]:
    """Boxes per image from a JSON file: ``{"image name or stem": [[x0, y0, x1, y1(, label)], ...]}``.

    Raises:
        UsageError: the file is missing or not of that shape.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UsageError(f"boxes file {path} cannot be read ({error}); give a JSON object of boxes per image") from None
    valid = isinstance(payload, dict) and all(
        isinstance(boxes, list) and all(isinstance(b, list) and len(b) in (4, 5) for b in boxes) for boxes in payload.values()
    )
    if not valid:
        raise UsageError(f"boxes file {path} must map image names to lists of [x0, y0, x1, y1] or [x0, y0, x1, y1, label]")
    return payload


def check_boxes_allowed(prompt: str, boxes_file: str | Path | None) -> None:
    """Raise when boxes are given to a model tuned without prompts (``prompt`` ``none``)."""
    if prompt == "none" and boxes_file is not None:
        raise UsageError(f"this model was tuned without prompts (--prompt none); it takes no boxes: drop --boxes {boxes_file}")


def predict_files(
    tuned: TunedModel, images: Sequence[str | Path], out_dir: str | Path, boxes_file: str | Path | None = None,
    prompt: str | None = None,
) -> list[Path]:
    """Segment each image file; write ``<stem>_mask.png`` and ``<stem>_overlay.png``.

    The mask holds the values of the masks the model was tuned on (its ``legend``: ids,
    colours, 0/255 for binary sets, the inverted values of ``--invert``); a model without a
    legend writes labels (0 background, 1..K classes).

    Images are read as training reads them (EXIF orientation applied, 16 bit scaled). Images
    without boxes in ``boxes_file`` (or all, without a file) use the whole image as box. A model
    tuned without prompts (``prompt`` ``none``) segments from the image alone: it takes no boxes
    file, and its overlays show no boxes.

    Args:
        prompt: the protocol the model was tuned with, ``box`` or ``none`` (default: the
            model's ``prompt`` attribute; ``qtt-seg predict`` passes the run's).

    Returns:
        The mask files written, in the order of ``images``.

    Raises:
        UsageError: a missing or unreadable image, two images with the same stem (their
            outputs would collide; refused before anything is written), a bad boxes file, or
            a boxes file for a model tuned without prompts.
    """
    check_boxes_allowed(prompt or getattr(tuned, "prompt", "box"), boxes_file)
    paths = [Path(image) for image in images]
    _check_images(paths)
    boxes_by_image = read_boxes_file(boxes_file) if boxes_file is not None else {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for image_path in paths:
        image, _ = read_image(image_path)
        boxes = boxes_by_image.get(image_path.name, boxes_by_image.get(image_path.stem))
        label = tuned.predict(image, boxes)
        mask_path = out / f"{image_path.stem}_mask.png"
        legend = getattr(tuned, "legend", None)
        Image.fromarray(encode_labels(label, legend) if legend else label).save(mask_path)
        overlay(image, label, boxes).save(out / f"{image_path.stem}_overlay.png")
        written.append(mask_path)
    return written


def _check_images(paths: Sequence[Path]) -> None:
    """Raise when an image is missing or two share a stem (case-insensitive filesystems too)."""
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise UsageError(f"image {missing[0]} does not exist")
    by_stem: dict[str, list[str]] = {}
    for path in paths:
        by_stem.setdefault(path.stem.casefold(), []).append(str(path))
    clashes = [" and ".join(group) for group in by_stem.values() if len(group) > 1]
    if clashes:
        raise UsageError(
            f"images with the same name would write the same <stem>_mask.png: {'; '.join(clashes)}; "
            "rename them or predict them into separate --out folders"
        )


def overlay(image: np.ndarray, label: np.ndarray, boxes: Sequence[Sequence[float]] | None = None, alpha: float = 0.5) -> Image.Image:
    """``image`` with each class painted in its colour at ``alpha`` opacity and the boxes drawn."""
    colours = _PALETTE[np.where(label == 0, 0, (label.astype(np.int64) - 1) % (len(_PALETTE) - 1) + 1)]
    painted = np.where(label[..., None] > 0, (1 - alpha) * image + alpha * colours, image).astype(np.uint8)
    picture = Image.fromarray(painted)
    draw = ImageDraw.Draw(picture)
    for box in boxes or []:
        draw.rectangle([float(v) for v in box[:4]], outline=(255, 255, 255), width=2)
    return picture


def boxes_from_label_map(label: np.ndarray, ignore_index: int = 255) -> list[list[float]]:
    """One ``[x0, y0, x1, y1, class]`` box per class present in an ``H x W`` label map (pixels)."""
    boxes = []
    for value in np.unique(label):
        if value in (0, ignore_index):
            continue
        rows, cols = np.nonzero(label == value)
        boxes.append([float(cols.min()), float(rows.min()), float(cols.max()), float(rows.max()), float(value)])
    return boxes
