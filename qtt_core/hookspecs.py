"""Hook specifications: the plugin author's manual.

A plugin is a module (or object) with functions marked ``@qtt_core.hookimpl`` whose names
are the hooks below. Register it through the entry-point group ``qtt_seg`` in your
``pyproject.toml``::

    [project.entry-points.qtt_seg]
    my_model = "my_package.plugin"

Every hook takes no arguments and returns a list; the registry collects the lists of all
plugins and indexes the items by name. A later plugin that contributes a name already
taken replaces the earlier one with a warning. Remember pluggy's rule: arguments with
default values are never passed to implementations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from qtt_core.adapter import ModelAdapter
    from qtt_core.specs import (
        MetaDatasetSpec,
        MetaFeatureExtractor,
        OptimizerSpec,
        SearchSpaceSpec,
        SurrogateSpec,
    )

PROJECT_NAME = "qtt_seg"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------------------------------
# Foundation models
# ---------------------------------------------------------------------------------------


@hookspec
def qtt_model_adapters() -> list[ModelAdapter]:
    """Contribute model adapters.

    Returns:
        A list of :class:`qtt_core.adapter.ModelAdapter` instances. Each adapter names the
        models it builds (``model_names()``); a model name must be unique across plugins.
        Constructing an adapter must be cheap: do not load weights or import heavy
        libraries until a session is opened.
    """


# ---------------------------------------------------------------------------------------
# Search spaces
# ---------------------------------------------------------------------------------------


@hookspec
def qtt_search_spaces() -> list[SearchSpaceSpec]:
    """Contribute named search spaces.

    Returns:
        A list of :class:`qtt_core.specs.SearchSpaceSpec`. ``load()`` returns a
        ``ConfigSpace.ConfigurationSpace`` whose hyperparameters all have finitely many
        values (categorical, ordinal, integer, constant), so that its size is exact.
    """


# ---------------------------------------------------------------------------------------
# Dataset descriptions
# ---------------------------------------------------------------------------------------


@hookspec
def qtt_meta_feature_extractors() -> list[MetaFeatureExtractor]:
    """Contribute meta-feature extractors.

    Returns:
        A list of objects following :class:`qtt_core.specs.MetaFeatureExtractor`: a
        ``name``, the ``feature_names`` they produce, and ``extract(data, seed)`` giving a
        ``dict[str, float]`` with exactly those keys.
    """


# ---------------------------------------------------------------------------------------
# Predictors and meta-datasets
# ---------------------------------------------------------------------------------------


@hookspec
def qtt_surrogates() -> list[SurrogateSpec]:
    """Contribute performance and cost predictor families.

    Returns:
        A list of :class:`qtt_core.specs.SurrogateSpec`, each with ``kind`` either
        ``"performance"`` (predicts the score at an epoch, with uncertainty) or ``"cost"``
        (predicts seconds per epoch), and a ``factory`` building an unfitted predictor
        (keyword arguments ``space``, ``seed``, and for performance ``max_epochs`` and maybe
        ``prior_points``) with the interface of
        :class:`qtt_core.surrogates.PerformancePredictor` or
        :class:`qtt_core.surrogates.CostPredictor` (subclassing them is the easy way).
        ``tune --surrogate NAME[,NAME]`` makes ``quick`` meta-train them (``--meta-dataset``)
        or ``quick-nometa`` fit them; predictors loaded from files keep their own class.
    """


@hookspec
def qtt_optimizers() -> list[OptimizerSpec]:
    """Contribute optimisers, chosen by name with ``--optimizer`` (the built-ins register here too).

    Returns:
        A list of :class:`qtt_core.specs.OptimizerSpec`; the factory builds an optimiser that
        follows :class:`qtt_core.optimizer.base.Optimizer` (ask/tell over a candidate pool).
    """


@hookspec
def qtt_meta_datasets() -> list[MetaDatasetSpec]:
    """Contribute named meta-datasets (recorded tuning runs) and their predictors.

    Returns:
        A list of :class:`qtt_core.specs.MetaDatasetSpec`. ``models`` names the models the
        runs were recorded with; the tuner uses ``predictors`` (when set) to start a run of
        such a model meta-learned, when the run's prompt protocol is the spec's ``prompt``
        (curves differ by protocol: give one spec per protocol recorded).
    """
