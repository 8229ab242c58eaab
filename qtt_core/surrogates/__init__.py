"""Meta-learned predictors (BoTorch models): score at an epoch, and seconds per epoch.

- :class:`PerformancePredictor`: a deep-kernel GP (:class:`DeepKernelGP`) over the
  encoded configuration, the meta-features, the partial learning curve and the fidelity.
- :class:`CostPredictor`: a GP on log seconds per epoch, corrected by observed costs.
- :func:`meta_train_predictors`, :func:`save_predictors`, :func:`load_predictors`.
"""

from __future__ import annotations

from qtt_core.surrogates.cost import CostPredictor
from qtt_core.surrogates.dkl import DeepKernelGP
from qtt_core.surrogates.features import CURVE_FEATURES, MetaFeatureScaler, curve_summary, performance_inputs
from qtt_core.surrogates.pair import load_predictors, meta_train_predictors, save_predictors
from qtt_core.surrogates.performance import PerformancePredictor

__all__ = [
    "CURVE_FEATURES",
    "CostPredictor",
    "DeepKernelGP",
    "MetaFeatureScaler",
    "PerformancePredictor",
    "curve_summary",
    "load_predictors",
    "meta_train_predictors",
    "performance_inputs",
    "save_predictors",
]
