"""The most-frequent-class baseline: what predicting one class on every pixel scores.

Every run reports it (``result.json``'s ``baseline_class`` and ``baseline_test_iou``). The
class is the most frequent foreground class 1..K by pixel count in the *training* masks
(ignored pixels and background excluded: predicting background everywhere scores 0), and its
score is the engine's rule (``qtt_engine.metrics.IoUAccumulator``): per-class intersections
and unions summed over a split's images, the mean IoU over the classes that occur in the truth
or the prediction (the IoU of class 1 for binary data), ignored pixels excluded, 1.0 for a
split where no class occurs at all.

Predicting class ``c`` on every pixel makes every pixel's intersections and unions follow from
the split's label histogram alone: for ``c``, intersection = pixels labelled ``c``, union =
pixels not ignored; for any other class ``k``, intersection 0, union = pixels labelled ``k``.
So one pass over the masks (in row blocks, memory-light) is all it takes.

Example::

    from qtt_core.data.baseline import most_frequent_class_baseline

    baseline = most_frequent_class_baseline(data)     # any SegmentationData
    print(baseline.class_name, baseline.test_iou)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from qtt_core.data.protocol import IGNORE_INDEX, SegmentationData, SegmentationSplit

__all__ = ["Baseline", "constant_class_ious", "constant_class_score", "label_counts", "most_frequent_class", "most_frequent_class_baseline"]

#: rows of a mask counted at once (bounds the temporary integer copy ``np.bincount`` makes)
ROWS_PER_BLOCK = 256


@dataclass(frozen=True)
class Baseline:
    """The most-frequent-class baseline of a dataset.

    Attributes:
        class_id: the predicted label, 1..K.
        class_name: its name (``class_names[class_id - 1]``).
        val_iou / test_iou: the score of predicting it on every pixel of the split, in [0, 1].
        test_iou_per_class: class name -> IoU on the test split, None for a class in neither
            the test masks nor the prediction.
    """

    class_id: int
    class_name: str
    val_iou: float
    test_iou: float
    test_iou_per_class: dict[str, float | None]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Baseline:
        return cls(**payload)


def label_counts(split: SegmentationSplit) -> np.ndarray:
    """Pixels per label value over every mask of ``split``: 256 int64 counts (index = value)."""
    counts = np.zeros(256, dtype=np.int64)
    for index in range(len(split)):
        mask = np.asarray(split.mask(index))
        for start in range(0, mask.shape[0], ROWS_PER_BLOCK):
            counts += np.bincount(mask[start : start + ROWS_PER_BLOCK].ravel(), minlength=256)[:256]
    return counts


def most_frequent_class(train_counts: np.ndarray, num_classes: int) -> int:
    """The label 1..K with the most training pixels (the lowest one on a tie or without any)."""
    return int(np.argmax(train_counts[1 : num_classes + 1])) + 1


def constant_class_ious(counts: np.ndarray, label: int, num_classes: int) -> np.ndarray:
    """``K`` IoUs of predicting ``label`` on every pixel of a split with label histogram ``counts``;
    NaN for a class in neither the truth nor the prediction."""
    classes = np.arange(1, num_classes + 1)
    intersections = np.where(classes == label, counts[label], 0).astype(np.int64)
    valid = int(counts.sum() - counts[IGNORE_INDEX])
    unions = np.where(classes == label, valid, counts[classes]).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(unions > 0, intersections / np.maximum(unions, 1), np.nan)


def constant_class_score(counts: np.ndarray, label: int, num_classes: int) -> float:
    """The mean of :func:`constant_class_ious` over classes that occur; 1.0 when none does."""
    ious = constant_class_ious(counts, label, num_classes)
    present = ious[~np.isnan(ious)]
    return float(present.mean()) if present.size else 1.0


def most_frequent_class_baseline(data: SegmentationData) -> Baseline:
    """The baseline of ``data``: one pass over the training, validation and test masks."""
    num_classes = int(data.num_classes)
    label = most_frequent_class(label_counts(data.split("train")), num_classes)
    val, test = label_counts(data.split("val")), label_counts(data.split("test"))
    names = list(data.class_names)
    per_class = {name: None if np.isnan(v) else float(v) for name, v in zip(names, constant_class_ious(test, label, num_classes), strict=True)}
    return Baseline(
        class_id=label, class_name=names[label - 1], val_iou=constant_class_score(val, label, num_classes),
        test_iou=constant_class_score(test, label, num_classes), test_iou_per_class=per_class,
    )
