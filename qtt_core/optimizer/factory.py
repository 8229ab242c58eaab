"""The one place that maps optimiser names to classes.

``random``, ``portfolio`` (main effects over every hyperparameter), ``portfolio-nested`` and
``portfolio-lr-sched`` (grouped scores, :mod:`qtt_core.metadataset.grouped`) are the baselines
of :mod:`qtt_core.optimizer.baselines`;
``quick`` (meta-learned Quick-Tune) and ``quick-nometa`` (the same optimiser, predictors fit
only on the run's own observations) are :class:`qtt_core.optimizer.quick.QuickTuneOptimizer`,
imported only when asked for (it pulls in torch and BoTorch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qtt_core.errors import UnknownNameError, UsageError
from qtt_core.optimizer.base import Optimizer

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from qtt_core.metadataset.table import MetaDataset

__all__ = ["OPTIMIZER_NAMES", "make_optimizer", "meta_trained_predictors"]

#: every name :func:`make_optimizer` knows, in the order benchmarks show them
OPTIMIZER_NAMES = ("quick", "quick-nometa", "random", "portfolio", "portfolio-nested", "portfolio-lr-sched")
#: the grouped portfolios: name -> constructor options (see :class:`~qtt_core.optimizer.baselines.GroupedPortfolio`)
GROUPED_PORTFOLIOS = {
    "portfolio-nested": {},
    "portfolio-lr-sched": {"names": ("lr", "sched"), "shrinkage": 0.0},
}


def make_optimizer(
    name: str,
    *,
    candidates: Sequence[Mapping[str, Any]],
    space: ConfigurationSpace | None,
    metafeatures: Mapping[str, float] | None,
    meta_train: MetaDataset | None,
    max_epochs: int,
    seed: int,
    **options: Any,
) -> Optimizer:
    """Build the optimiser called ``name`` over ``candidates``.

    Args:
        name: one of :data:`OPTIMIZER_NAMES`.
        candidates: the pool, plain dicts of active hyperparameters.
        space: the candidates' search space (the predictors' encoding).
        metafeatures: the target dataset's meta-features by name (used by ``quick``).
        meta_train: recorded runs on other datasets: the portfolio's ranking, and what
            ``quick`` meta-trains its predictors on (unless ``predictors`` is in ``options``).
            Ignored by ``random`` and ``quick-nometa``.
        max_epochs: the most epochs any configuration is trained to.
        seed: makes the optimiser deterministic.
        **options: passed to the optimiser's constructor (``Portfolio``: ``unrecorded_order``, ``normalise``;
            ``quick``: ``predictors`` and its own settings).

    Raises:
        UnknownNameError: ``name`` is not known (the message lists the names).
        UsageError: ``quick``/``quick-nometa`` asked for but not available in this install.
    """
    if name == "random":
        from qtt_core.optimizer.baselines import RandomSearch

        return RandomSearch(candidates, max_epochs=max_epochs, seed=seed, **options)
    if name == "portfolio":
        from qtt_core.optimizer.baselines import Portfolio

        return Portfolio(candidates, meta_train, max_epochs=max_epochs, seed=seed, space=space, **options)
    if name in GROUPED_PORTFOLIOS:
        from qtt_core.optimizer.baselines import GroupedPortfolio

        optimizer = GroupedPortfolio(
            candidates, meta_train, max_epochs=max_epochs, seed=seed, space=space, **{**GROUPED_PORTFOLIOS[name], **options}
        )
        optimizer.name = name
        return optimizer
    if name in ("quick", "quick-nometa"):
        quick_class = _quick_tune_class()
        if name == "quick-nometa":
            options = {**options, "predictors": None}
            meta_train = None
        optimizer = quick_class(
            candidates, space, metafeatures, max_epochs, seed, meta_train=meta_train, **options
        )
        optimizer.name = name
        return optimizer
    raise UnknownNameError(f"unknown optimiser {name!r}; known: {', '.join(OPTIMIZER_NAMES)}")


def meta_trained_predictors(
    name: str, *, meta_train: MetaDataset, space: ConfigurationSpace | None, seed: int
) -> Any | None:
    """Predictors the optimiser ``name`` would meta-train on ``meta_train``, built once.

    Pass them as ``predictors=`` to several :func:`make_optimizer` calls to meta-train once
    instead of once per optimiser (the optimiser copies them, so runs do not share state).

    Returns:
        The ``(performance, cost)`` pair for ``quick``; None for optimisers without predictors.
    """
    if name != "quick":
        return None
    _quick_tune_class()  # the clear error when Quick-Tune is not installed
    from qtt_core.surrogates.pair import meta_train_predictors

    return meta_train_predictors(meta_train, space, seed=seed)


def _quick_tune_class() -> type[Optimizer]:
    try:
        from qtt_core.optimizer.quick import QuickTuneOptimizer
    except ImportError as error:
        raise UsageError(
            f"the Quick-Tune optimiser is not available in this install ({error}); "
            "use --optimizers random,portfolio"
        ) from None
    return QuickTuneOptimizer
