"""The offline demo: a generated dataset written as files, then a tuning run on it (or two: with
box prompts and without, see ``qtt-seg demo --prompt``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from qtt_core.data.protocol import SPLIT_NAMES
from qtt_core.data.synthetic import TASK_FAMILIES, generate_task
from qtt_core.errors import UnknownNameError
from qtt_core.predict import boxes_from_label_map

__all__ = ["DEMO_TASK", "write_task_folder"]

#: the generated task family the demo tunes on
DEMO_TASK = "textured-binary"


def write_task_folder(task: str, folder: Path, seed: int = 0, test_boxes: Path | None = None) -> Path:
    """Write a generated task as ``train|val|test/images/*.png`` and ``.../masks/*.png`` (0/255).

    Args:
        test_boxes: where to write the test images' boxes from their ground truth, in the format
            of ``qtt-seg predict --boxes`` (``{"<name>.png": [[x0, y0, x1, y1, class], ...]}``,
            pixels; one box per class present), or None.
    """
    if task not in TASK_FAMILIES:
        raise UnknownNameError(f"unknown task family {task!r}; known: {', '.join(TASK_FAMILIES)}")
    data = generate_task(TASK_FAMILIES[task], seed=seed)
    binary = data.num_classes == 1
    boxes: dict[str, list[list[float]]] = {}
    for split in SPLIT_NAMES:
        samples = data.split(split)
        for kind in ("images", "masks"):
            (folder / split / kind).mkdir(parents=True, exist_ok=True)
        for index in range(len(samples)):
            name = samples.name(index)
            Image.fromarray(samples.image(index)).save(folder / split / "images" / f"{name}.png")
            mask: Any = samples.mask(index)
            Image.fromarray((mask > 0).astype(np.uint8) * 255 if binary else mask).save(folder / split / "masks" / f"{name}.png")
            if split == "test":
                boxes[f"{name}.png"] = boxes_from_label_map(np.asarray(mask))
    if test_boxes is not None:
        lines = ",\n".join(f" {json.dumps(name)}: {json.dumps(image_boxes)}" for name, image_boxes in boxes.items())
        Path(test_boxes).write_text("{\n" + lines + "\n}\n")  # one image a line
    return folder
