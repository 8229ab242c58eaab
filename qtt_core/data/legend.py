"""The legend of a dataset's labels: which mask value each label stands for, and back.

Label maps inside qtt-seg hold 0 for background, 1..K for the classes in classes-file order and
255 for ignored pixels, whatever values the user's masks use (a class with id 0 is label 1).
The legend is a JSON-ready dict that travels with tuned weights, so that predictions can be
written in the user's own values again (:func:`encode_labels`)::

    {"kind": "ids", "background": 0, "ignore": [255],
     "classes": [{"name": "Sky", "label": 1, "value": 0}, ...]}

``kind`` is the mask encoding's kind ("binary", "binary-threshold", "ids" or "colour");
``background`` is the background's value (an int, a colour "#RRGGBB", or None when the
dataset has none); values of colour encodings are "#RRGGBB" strings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qtt_core.data.classes import parse_colour
from qtt_core.data.protocol import IGNORE_INDEX
from qtt_core.errors import UsageError

__all__ = ["encode_labels", "legend_of"]


def legend_of(encoding: Any) -> dict[str, Any]:
    """The legend (module docstring) of a :class:`~qtt_core.data.masks.MaskEncoding`."""
    classes = [{"name": name, "label": label, "value": key} for label, (name, key) in enumerate(zip(encoding.class_names, encoding.class_keys, strict=True), start=1)]
    return {"kind": encoding.kind, "background": encoding.background_key, "ignore": list(encoding.ignore_keys), "classes": classes}


def encode_labels(labels: np.ndarray, legend: dict[str, Any]) -> np.ndarray:
    """An ``H x W`` label map in the user's mask values.

    Label 0 (no class) takes the background's value; where the dataset has no background, the
    first ignore value, else a value no class uses (255, or black/white for colours). Label 255
    takes the first ignore value, else the same fill.

    Args:
        labels: ``H x W`` uint8 labels (0, 1..K, 255).
        legend: from :func:`legend_of` (or a saved copy of it).

    Returns:
        ``H x W`` uint8 (uint16 when a value exceeds 255) for value encodings, ``H x W x 3``
        uint8 RGB for colour encodings.

    Raises:
        UsageError: a label the legend does not know.
    """
    colour = legend["kind"] == "colour"
    values = {entry["label"]: entry["value"] for entry in legend["classes"]}
    fill = _fill(legend, colour)
    values[0] = legend["background"] if legend["background"] is not None else fill
    values[IGNORE_INDEX] = legend["ignore"][0] if legend["ignore"] else fill
    present = np.unique(labels).tolist()
    unknown = [label for label in present if label not in values]
    if unknown:
        raise UsageError(f"labels {unknown} are not in the legend (labels 0..{len(legend['classes'])} and 255); the label map and the legend do not belong together")
    if colour:
        out = np.zeros((*labels.shape, 3), dtype=np.uint8)
        for label in present:
            out[labels == label] = parse_colour(values[label])
        return out
    top = max(int(values[label]) for label in present) if present else 0
    out = np.zeros(labels.shape, dtype=np.uint16 if top > 255 else np.uint8)
    for label in present:
        out[labels == label] = int(values[label])
    return out


def _fill(legend: dict[str, Any], colour: bool) -> int | str:
    """A value for pixels of no class when the dataset has no background."""
    if legend["ignore"]:
        return legend["ignore"][0]
    used = {entry["value"] for entry in legend["classes"]}
    if colour:
        return next((c for c in ("#000000", "#FFFFFF") if c not in used), "#000000")
    return next(v for v in [IGNORE_INDEX, *range(256, 65536)] if v not in used)
