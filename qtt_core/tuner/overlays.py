"""Overlays of a few test images: ground truth and the tuned model's prediction side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from qtt_core.adapter import TunedModel
from qtt_core.predict import boxes_from_label_map, overlay

__all__ = ["write_overlays"]


def write_overlays(tuned: TunedModel, split, folder: Path, count: int = 4) -> list[Path]:
    """For the first ``count`` samples of ``split``: ``<name>.png`` = [ground truth | prediction],
    prompted with the ground truth's boxes (one per class present), or with nothing for a model
    tuned without prompts (``tuned.prompt == "none"``; no boxes are drawn then)."""
    folder.mkdir(parents=True, exist_ok=True)
    unprompted = getattr(tuned, "prompt", "box") == "none"
    written = []
    for index in range(min(count, len(split))):
        image, truth = split.image(index), split.mask(index)
        boxes = None if unprompted else boxes_from_label_map(truth)
        if unprompted:
            predicted = tuned.predict(image)
        else:
            predicted = tuned.predict(image, boxes) if boxes else np.zeros_like(truth)  # nothing to prompt: nothing predicted
        left = np.asarray(overlay(image, truth, boxes))
        right = np.asarray(overlay(image, predicted, boxes))
        gap = np.full((image.shape[0], 4, 3), 255, dtype=np.uint8)
        path = folder / f"{split.name(index)}.png"
        temporary = path.with_name(f".{path.stem}.tmp.png")
        Image.fromarray(np.concatenate([left, gap, right], axis=1)).save(temporary)
        temporary.replace(path)
        written.append(path)
    return written
