"""The offline demo: a generated dataset written as files, then a tuning run on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from qtt_core.data.protocol import SPLIT_NAMES
from qtt_core.data.synthetic import TASK_FAMILIES, generate_task
from qtt_core.errors import UnknownNameError

__all__ = ["DEMO_TASK", "write_task_folder"]

#: the generated task family the demo tunes on
DEMO_TASK = "textured-binary"


def write_task_folder(task: str, folder: Path, seed: int = 0) -> Path:
    """Write a generated task as ``train|val|test/images/*.png`` and ``.../masks/*.png`` (0/255)."""
    if task not in TASK_FAMILIES:
        raise UnknownNameError(f"unknown task family {task!r}; known: {', '.join(TASK_FAMILIES)}")
    data = generate_task(TASK_FAMILIES[task], seed=seed)
    binary = data.num_classes == 1
    for split in SPLIT_NAMES:
        samples = data.split(split)
        for kind in ("images", "masks"):
            (folder / split / kind).mkdir(parents=True, exist_ok=True)
        for index in range(len(samples)):
            name = samples.name(index)
            Image.fromarray(samples.image(index)).save(folder / split / "images" / f"{name}.png")
            mask: Any = samples.mask(index)
            Image.fromarray((mask > 0).astype(np.uint8) * 255 if binary else mask).save(folder / split / "masks" / f"{name}.png")
    return folder
