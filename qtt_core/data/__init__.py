"""The data layer: segmentation datasets as users have them (model-agnostic)."""

from __future__ import annotations

from qtt_core.data.protocol import IGNORE_INDEX, SPLIT_NAMES, SegmentationData, SegmentationSplit

__all__ = ["IGNORE_INDEX", "SPLIT_NAMES", "SegmentationData", "SegmentationSplit"]
