"""Views of a dataset with other splits, for the final refit on all labelled data but the test set."""

from __future__ import annotations

from typing import Any

import numpy as np

from qtt_core.data.protocol import SegmentationData, SegmentationSplit

__all__ = ["ConcatSplit", "TrainPlusVal"]


class ConcatSplit:
    """The samples of several splits, one after the other (a :class:`SegmentationSplit`)."""

    def __init__(self, *parts: SegmentationSplit):
        self._parts = parts
        self._where = [(part, index) for part in parts for index in range(len(part))]

    def __len__(self) -> int:
        return len(self._where)

    def image(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        part, local = self._where[index]
        return part.image(local, size=size)

    def mask(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        part, local = self._where[index]
        return part.mask(local, size=size)

    def name(self, index: int) -> str:
        part, local = self._where[index]
        return part.name(local)


class TrainPlusVal:
    """``data`` with its validation pairs added to the training split (a :class:`SegmentationData`).

    Validation and test stay as they are, so a session on this view still reports scores;
    validation scores are then on pairs it trained on and say nothing about generalisation.
    Everything else (``class_names``, ``num_channels``, ...) is read from ``data``.
    """

    def __init__(self, data: SegmentationData):
        self._data = data
        self.class_names = list(data.class_names)
        self.num_channels = data.num_channels

    @property
    def num_classes(self) -> int:
        return self._data.num_classes

    def split(self, name: str) -> SegmentationSplit:
        if name == "train":
            return ConcatSplit(self._data.split("train"), self._data.split("val"))
        return self._data.split(name)

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "_data":  # not set yet (unpickling): no recursion
            raise AttributeError(attribute)
        return getattr(self._data, attribute)
