"""Meta-datasets: recorded configurations, meta-features, learning curves and costs."""

from __future__ import annotations

from qtt_core.metadataset.table import MetaDataset

__all__ = ["MetaDataset"]
