"""The data layer: segmentation datasets as users have them (model-agnostic).

- :func:`load_dataset` gives a :class:`Dataset` (a :class:`SegmentationData`) from a folder,
  a CSV/Parquet table or a pandas DataFrame; :func:`check_dataset` lists every problem.
- Layouts: :mod:`~qtt_core.data.pairing`; files: :mod:`~qtt_core.data.readers`; mask
  encodings: :mod:`~qtt_core.data.masks`; the classes file: :mod:`~qtt_core.data.classes`;
  splits: :mod:`~qtt_core.data.splits`; the on-disk cache: :mod:`~qtt_core.data.cache`; labels
  back to mask values (for predictions): :mod:`~qtt_core.data.legend`.
"""

from __future__ import annotations

from qtt_core.data.classes import ClassesFile, ClassSpec, load_classes_file, parse_classes
from qtt_core.data.dataset import Dataset, DatasetSplit, check_dataset, load_dataset
from qtt_core.data.legend import encode_labels, legend_of
from qtt_core.data.masks import MaskEncoding
from qtt_core.data.protocol import IGNORE_INDEX, SPLIT_NAMES, SegmentationData, SegmentationSplit
from qtt_core.data.report import DataReport

__all__ = [
    "IGNORE_INDEX",
    "SPLIT_NAMES",
    "ClassSpec",
    "ClassesFile",
    "DataReport",
    "Dataset",
    "DatasetSplit",
    "MaskEncoding",
    "SegmentationData",
    "SegmentationSplit",
    "check_dataset",
    "encode_labels",
    "load_classes_file",
    "load_dataset",
    "legend_of",
    "parse_classes",
]
