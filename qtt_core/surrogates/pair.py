"""Meta-train, save and load the (performance, cost) predictor pair together."""

from __future__ import annotations

from pathlib import Path

from ConfigSpace import ConfigurationSpace

from qtt_core.metadataset.table import MetaDataset
from qtt_core.surrogates.cost import CostPredictor
from qtt_core.surrogates.performance import PerformancePredictor

__all__ = ["load_predictors", "meta_train_predictors", "save_predictors"]


def meta_train_predictors(
    meta: MetaDataset,
    space: ConfigurationSpace,
    seed: int = 0,
    steps: int = 300,
    n_pairs: int = 4000,
    prior_points: int = 800,
) -> tuple[PerformancePredictor, CostPredictor]:
    """Meta-train both predictors on ``meta`` (configurations of ``space``), seeded.

    Args:
        steps: Adam steps of the performance predictor.
        n_pairs: (partial curve, target epoch) examples sampled for it.
        prior_points: how many of them the prior-mean GP is fitted on.
    """
    performance = PerformancePredictor(space, max_epochs=meta.num_epochs, seed=seed, prior_points=prior_points)
    performance.meta_fit(meta, n_pairs=n_pairs, steps=steps)
    cost = CostPredictor(space, seed=seed).meta_fit(meta)
    return performance, cost


def save_predictors(folder: str | Path, performance: PerformancePredictor, cost: CostPredictor) -> Path:
    """Write ``performance.{json,safetensors}`` and ``cost.{json,safetensors}`` into ``folder``."""
    folder = Path(folder)
    performance.save(folder)
    cost.save(folder)
    return folder


def load_predictors(folder: str | Path) -> tuple[PerformancePredictor, CostPredictor]:
    """Read what :func:`save_predictors` wrote.

    Raises:
        UsageError: a file is missing or of another format.
    """
    return PerformancePredictor.load(folder), CostPredictor.load(folder)
