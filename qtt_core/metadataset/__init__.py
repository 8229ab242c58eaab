"""Meta-datasets: recorded configurations, meta-features, learning curves and costs."""

from __future__ import annotations

from qtt_core.metadataset.io import (
    PUBLISHED_FEATURES,
    detect_format,
    read_meta_dataset,
    to_frame,
    write_meta_dataset,
)
from qtt_core.metadataset.named import (
    PUBLISHED_QTT_SEG_URL,
    fetch_meta_dataset_file,
    load_named_meta_dataset,
)
from qtt_core.metadataset.table import MetaDataset

__all__ = [
    "PUBLISHED_FEATURES",
    "PUBLISHED_QTT_SEG_URL",
    "MetaDataset",
    "detect_format",
    "fetch_meta_dataset_file",
    "load_named_meta_dataset",
    "read_meta_dataset",
    "to_frame",
    "write_meta_dataset",
]
