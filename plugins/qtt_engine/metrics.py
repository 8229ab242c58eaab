"""Intersection over union and Dice, accumulated over a split (ignored pixels excluded)."""

from __future__ import annotations

import numpy as np

from qtt_core.adapter import ClassScores
from qtt_core.data.protocol import IGNORE_INDEX

__all__ = ["IoUAccumulator"]


class IoUAccumulator:
    """Per-class intersections and unions summed over all images of a split.

    The score is the IoU of class 1 for binary tasks and the mean IoU over the classes
    that occur (in the ground truth or the prediction) for multiclass tasks; background
    is not a class. A split where no class occurs at all scores 1.0.
    """

    def __init__(self, num_classes: int):
        self.num_classes = num_classes
        self.intersections = np.zeros(num_classes, dtype=np.int64)
        self.unions = np.zeros(num_classes, dtype=np.int64)

    def update(self, predicted: np.ndarray, truth: np.ndarray) -> None:
        """Add one image: ``predicted`` and ``truth`` are ``H x W`` label maps."""
        valid = truth != IGNORE_INDEX
        for index in range(self.num_classes):
            label = index + 1
            pred_k = (predicted == label) & valid
            true_k = (truth == label) & valid
            self.intersections[index] += int(np.count_nonzero(pred_k & true_k))
            self.unions[index] += int(np.count_nonzero(pred_k | true_k))

    def per_class(self) -> np.ndarray:
        """``K`` IoUs in [0, 1]; NaN for classes that never occur."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.unions > 0, self.intersections / np.maximum(self.unions, 1), np.nan)

    def per_class_dice(self) -> np.ndarray:
        """``K`` Dice coefficients in [0, 1] (``2 I / (|P| + |T|) = 2 I / (I + U)``); NaN where the IoU is."""
        with np.errstate(invalid="ignore", divide="ignore"):
            total = self.intersections + self.unions
            return np.where(self.unions > 0, 2 * self.intersections / np.maximum(total, 1), np.nan)

    def class_scores(self, class_names: list[str]) -> ClassScores:
        """Per-class IoU and Dice by name; None for a class that occurs in neither the masks nor
        the predictions (so :meth:`score` is the mean of the values that are not None)."""
        def named(values: np.ndarray) -> dict[str, float | None]:
            return {name: None if np.isnan(value) else float(value) for name, value in zip(class_names, values, strict=True)}

        return ClassScores(iou=named(self.per_class()), dice=named(self.per_class_dice()))

    def score(self) -> float:
        """The mean IoU over occurring classes, in [0, 1]."""
        ious = self.per_class()
        present = ious[~np.isnan(ious)]
        return float(present.mean()) if present.size else 1.0
