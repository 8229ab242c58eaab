"""Optimisers by name: the built-ins, registered through the ``qtt_optimizers`` hook like any
plugin's, and :func:`make_optimizer`, which builds one from a registry.

``random``, ``portfolio`` (main effects over every hyperparameter), ``portfolio-nested`` and
``portfolio-lr-sched`` (grouped scores, :mod:`qtt_core.metadataset.grouped`) are the baselines
of :mod:`qtt_core.optimizer.baselines`;
``quick`` (meta-learned Quick-Tune) and ``quick-nometa`` (the same optimiser, predictors fit
only on the run's own observations) are :class:`qtt_core.optimizer.quick.QuickTuneOptimizer`,
imported only when asked for (it pulls in torch and BoTorch).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qtt_core.optimizer.base import Optimizer
from qtt_core.specs import OptimizerSpec

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from qtt_core.metadataset.table import MetaDataset
    from qtt_core.registry import Registry

__all__ = ["OPTIMIZER_NAMES", "builtin_optimizer_specs", "make_optimizer", "meta_trained_predictors"]

#: the built-in names, in the order benchmarks show them
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
    registry: Registry | None = None,
    **options: Any,
) -> Optimizer:
    """Build the optimiser called ``name`` over ``candidates``.

    Args:
        name: an optimiser of ``registry`` (the built-ins: :data:`OPTIMIZER_NAMES`).
        candidates: the pool, plain dicts of active hyperparameters.
        space: the candidates' search space (the predictors' encoding).
        metafeatures: the target dataset's meta-features by name (used by ``quick``).
        meta_train: recorded runs on other datasets: the portfolio's ranking, and what
            ``quick`` meta-trains its predictors on (unless ``predictors`` is in ``options``).
            Ignored by ``random`` and ``quick-nometa``.
        max_epochs: the most epochs any configuration is trained to.
        seed: makes the optimiser deterministic.
        registry: where optimisers are registered (default: a new :class:`~qtt_core.registry.Registry`).
        **options: passed to the optimiser's factory (``Portfolio``: ``unrecorded_order``, ``normalise``;
            ``quick``: ``predictors`` and its own settings).

    Raises:
        UnknownNameError: ``name`` is not registered (the message lists the names).
    """
    if registry is None:
        from qtt_core.registry import Registry

        registry = Registry()
    spec = registry.optimizers.get(name)
    optimizer = spec.factory(
        candidates=candidates, space=space, metafeatures=metafeatures, meta_train=meta_train, max_epochs=max_epochs, seed=seed, **options
    )
    optimizer.name = name
    return optimizer


def builtin_optimizer_specs() -> list[OptimizerSpec]:
    """The core's optimisers, in :data:`OPTIMIZER_NAMES` order (each imported when built)."""
    return [
        OptimizerSpec("quick", functools.partial(_quick, meta_learned=True), "Quick-Tune: meta-learned predictors, freeze-thaw, cost-aware", uses_predictors=True),
        OptimizerSpec("quick-nometa", functools.partial(_quick, meta_learned=False), "Quick-Tune with predictors fit on the run's own epochs only"),
        OptimizerSpec("random", _random, "random order, each configuration trained to the last epoch"),
        OptimizerSpec("portfolio", _portfolio, "the meta-dataset's ranking by main effects of every hyperparameter"),
        *(
            OptimizerSpec(name, functools.partial(_grouped, **settings), "the meta-dataset's ranking by grouped scores")
            for name, settings in GROUPED_PORTFOLIOS.items()
        ),
    ]


def _random(*, candidates, space, metafeatures, meta_train, max_epochs, seed, **options) -> Optimizer:
    from qtt_core.optimizer.baselines import RandomSearch

    return RandomSearch(candidates, max_epochs=max_epochs, seed=seed, **options)


def _portfolio(*, candidates, space, metafeatures, meta_train, max_epochs, seed, **options) -> Optimizer:
    from qtt_core.optimizer.baselines import Portfolio

    return Portfolio(candidates, meta_train, max_epochs=max_epochs, seed=seed, space=space, **options)


def _grouped(*, candidates, space, metafeatures, meta_train, max_epochs, seed, **options) -> Optimizer:
    from qtt_core.optimizer.baselines import GroupedPortfolio

    return GroupedPortfolio(candidates, meta_train, max_epochs=max_epochs, seed=seed, space=space, **options)


def _quick(*, candidates, space, metafeatures, meta_train, max_epochs, seed, meta_learned: bool, **options) -> Optimizer:
    from qtt_core.optimizer.quick import QuickTuneOptimizer

    if not meta_learned:
        options, meta_train = {**options, "predictors": None}, None
    return QuickTuneOptimizer(candidates, space, metafeatures, max_epochs, seed, meta_train=meta_train, **options)


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
    from qtt_core.surrogates.pair import meta_train_predictors

    return meta_train_predictors(meta_train, space, seed=seed)
