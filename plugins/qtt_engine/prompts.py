"""Box prompts from label maps: one box per class present, optionally per connected component."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from qtt_core.data.protocol import IGNORE_INDEX

__all__ = ["BoxPrompts", "boxes_from_mask", "jitter_boxes"]


@dataclass
class BoxPrompts:
    """The prompts of one image and what each should segment.

    Attributes:
        boxes: ``N x 4`` float32 ``[x0, y0, x1, y1]`` in pixels, the coordinates of the first
            and last foreground column/row (SAM's convention: a one-pixel object at x=3, y=5
            gives ``[3, 5, 3, 5]``).
        labels: ``N`` int64 class labels (1..K).
        targets: ``N x H x W`` bool, the pixels each prompt should cover.
    """

    boxes: np.ndarray
    labels: np.ndarray
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def boxes_from_mask(mask: np.ndarray, per_component: bool = False) -> BoxPrompts:
    """Tight boxes around each class present in ``mask`` (``H x W`` uint8 label map).

    Args:
        per_component: one box per 8-connected component of each class instead of one
            box per class.
    """
    boxes, labels, targets = [], [], []
    for label in np.unique(mask):
        if label == 0 or label == IGNORE_INDEX:
            continue
        region = mask == label
        if per_component:
            components, count = ndimage.label(region, structure=np.ones((3, 3), dtype=bool))
            regions = [components == k for k in range(1, count + 1)]
        else:
            regions = [region]
        for part in regions:
            ys, xs = np.nonzero(part)
            boxes.append([xs.min(), ys.min(), xs.max(), ys.max()])
            labels.append(int(label))
            targets.append(part)
    height, width = mask.shape
    return BoxPrompts(
        np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        np.asarray(labels, dtype=np.int64),
        np.asarray(targets, dtype=bool).reshape(-1, height, width),
    )


def jitter_boxes(boxes: np.ndarray, jitter: float, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Move each box edge by up to ``jitter`` times the box's width/height, clipped to the image.

    Args:
        boxes: ``N x 4`` ``[x0, y0, x1, y1]`` in pixels.
        jitter: fraction of the box side; 0 returns the boxes unchanged (and draws nothing).
        size: ``(H, W)`` of the image, in pixels.

    Returns:
        ``N x 4`` float32 boxes with ``x1 >= x0`` and ``y1 >= y0``, inside ``[0, W-1] x [0, H-1]``.
    """
    if jitter <= 0 or len(boxes) == 0:
        return boxes.astype(np.float32)
    height, width = size
    sides = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1] * 2, axis=1)
    moved = boxes + rng.uniform(-jitter, jitter, size=boxes.shape) * sides
    moved[:, [0, 2]] = np.clip(moved[:, [0, 2]], 0, width - 1)
    moved[:, [1, 3]] = np.clip(moved[:, [1, 3]], 0, height - 1)
    moved[:, 2] = np.maximum(moved[:, 2], moved[:, 0])
    moved[:, 3] = np.maximum(moved[:, 3], moved[:, 1])
    return moved.astype(np.float32)
