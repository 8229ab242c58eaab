"""Test doubles for qtt-seg and for plugin authors (like ``botorch.utils.testing``).

- :class:`InMemoryData` / :func:`make_shapes_data`: small generated segmentation datasets;
  :func:`qtt_core.testing.aerial.write_aerial_set` writes a colour-coded five-class aerial-style set.
- :class:`MockAdapter`: a model adapter with deterministic synthetic learning curves.
- :func:`check_adapter`, :func:`check_extractor`, :func:`check_space`: the conformance
  checks that the test suite runs over every registered provider.
- :class:`MockPerformancePredictor`, :class:`MockCostPredictor`, :class:`FunctionModel`:
  predictors computed from plain functions, and :func:`synthetic_meta_dataset` (imported
  lazily: they need BoTorch).
"""

from __future__ import annotations

from qtt_core.testing.adapter import MockAdapter, MockSession, synthetic_curve
from qtt_core.testing.conformance import check_adapter, check_extractor, check_space
from qtt_core.testing.data import InMemoryData, InMemorySplit, make_shapes_data

_LAZY = {"FunctionModel", "MockCostPredictor", "MockPerformancePredictor", "synthetic_meta_dataset"}

__all__ = [
    "FunctionModel",
    "InMemoryData",
    "InMemorySplit",
    "MockAdapter",
    "MockCostPredictor",
    "MockPerformancePredictor",
    "MockSession",
    "check_adapter",
    "check_extractor",
    "check_space",
    "make_shapes_data",
    "synthetic_curve",
    "synthetic_meta_dataset",
]


def __getattr__(name: str):
    if name in _LAZY:
        from qtt_core.testing import predictors

        return getattr(predictors, name)
    raise AttributeError(f"module 'qtt_core.testing' has no attribute {name!r}")
