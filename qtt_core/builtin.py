"""The core's own providers, registered as a default plugin like any other."""

from __future__ import annotations

from qtt_core.hookspecs import hookimpl
from qtt_core.metafeatures import DefaultMetaFeatures
from qtt_core.space.loading import builtin_space_specs


@hookimpl
def qtt_search_spaces():
    """Every YAML file shipped in ``search_spaces/``."""
    return builtin_space_specs()


@hookimpl
def qtt_meta_feature_extractors():
    return [DefaultMetaFeatures()]


def _dkl_performance(**kwargs):
    from qtt_core.surrogates import PerformancePredictor

    return PerformancePredictor(**kwargs)


def _gp_cost(**kwargs):
    from qtt_core.surrogates import CostPredictor

    return CostPredictor(**kwargs)


@hookimpl
def qtt_surrogates():
    """The deep-kernel GP performance predictor and the GP cost predictor (imported lazily)."""
    from qtt_core.specs import SurrogateSpec

    return [
        SurrogateSpec("dkl", "performance", _dkl_performance, "deep-kernel GP over configuration, meta-features, partial curve and epoch (BoTorch)"),
        SurrogateSpec("gp-cost", "cost", _gp_cost, "GP on log seconds per epoch from configuration and meta-features (BoTorch)"),
    ]


@hookimpl
def qtt_optimizers():
    """quick, quick-nometa, random and the portfolios (:mod:`qtt_core.optimizer.factory`)."""
    from qtt_core.optimizer.factory import builtin_optimizer_specs

    return builtin_optimizer_specs()
