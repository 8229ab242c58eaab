"""Meta-train, save and load the (performance, cost) predictor pair together.

A pair belongs to the prompt protocol of the meta-dataset it was meta-trained on (``box`` or
``none``, recorded as ``prompt`` in both JSON files; files without it are ``box``): learning
curves differ by protocol, so :func:`load_predictors_for` refuses a pair of another protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ConfigSpace import ConfigurationSpace

from qtt_core.errors import UsageError
from qtt_core.metadataset.table import MetaDataset
from qtt_core.surrogates.cost import CostPredictor
from qtt_core.surrogates.performance import PerformancePredictor

__all__ = ["load_predictors", "load_predictors_for", "meta_train_predictors", "save_predictors"]


def meta_train_predictors(
    meta: MetaDataset,
    space: ConfigurationSpace,
    seed: int = 0,
    steps: int = 300,
    n_pairs: int = 4000,
    prior_points: int = 800,
    performance_factory: Callable[..., PerformancePredictor] = PerformancePredictor,
    cost_factory: Callable[..., CostPredictor] = CostPredictor,
) -> tuple[PerformancePredictor, CostPredictor]:
    """Meta-train both predictors on ``meta`` (configurations of ``space``), seeded; both
    record ``meta.prompt``.

    Args:
        steps: Adam steps of the performance predictor.
        n_pairs: (partial curve, target epoch) examples sampled for it.
        prior_points: how many of them the prior-mean GP is fitted on.
        performance_factory / cost_factory: build the unfitted predictors (registered
            surrogates' ``factory``; default the deep-kernel GP and the GP cost model).
    """
    performance = performance_factory(space=space, max_epochs=meta.num_epochs, seed=seed, prior_points=prior_points)
    performance.meta_fit(meta, n_pairs=n_pairs, steps=steps)
    cost = cost_factory(space=space, seed=seed).meta_fit(meta)
    performance.prompt = cost.prompt = meta.prompt  # also for factories whose meta_fit does not
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


def load_predictors_for(folder: str | Path, space: ConfigurationSpace, prompt: str = "box") -> tuple[PerformancePredictor, CostPredictor]:
    """:func:`load_predictors`, refusing predictors meta-trained on a space other than ``space``
    or on runs of a prompt protocol other than ``prompt``.

    Two spaces match when they encode configurations alike: the same hyperparameters with
    the same values (conditions and defaults may differ).

    Raises:
        UsageError: files missing or of another format, fitted on runs of another prompt
            protocol, or on another space (the message names a hyperparameter or value that
            differs).
    """
    from qtt_core.space.encoding import SpaceEncoder

    performance, cost = load_predictors(folder)
    if performance.prompt != prompt:
        raise UsageError(
            f"predictors in {folder} were meta-trained on runs with prompt protocol {performance.prompt!r}, this run uses "
            f"{prompt!r}; fit them on runs of `qtt-seg meta build --prompt {prompt}` with `qtt-seg meta fit FILE --out DIR`, "
            "or drop --predictors"
        )
    theirs, ours = list(performance.encoder.feature_names), list(SpaceEncoder(space).feature_names)
    if theirs != ours:
        only_theirs = sorted(set(theirs) - set(ours))
        only_ours = sorted(set(ours) - set(theirs))
        difference = (
            f"they know {only_theirs[0]!r}, this space does not" if only_theirs
            else f"this space has {only_ours[0]!r}, they do not" if only_ours
            else "the same values in another order"
        )
        raise UsageError(
            f"predictors in {folder} were meta-trained on another search space ({difference}); "
            "fit them on this run's space with `qtt-seg meta fit FILE --space SPACE --out DIR`, or drop --predictors"
        )
    return performance, cost
