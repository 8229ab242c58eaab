"""Small descriptions of what plugins contribute besides adapters.

Hooks return these; the :class:`qtt_core.registry.Registry` indexes them by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

__all__ = [
    "MetaDatasetSpec",
    "MetaFeatureExtractor",
    "SearchSpaceSpec",
    "SurrogateSpec",
]


@dataclass(frozen=True)
class SearchSpaceSpec:
    """A named search space.

    Attributes:
        name: registry name, e.g. ``"sam-lora"``.
        load: builds the ``ConfigurationSpace`` (called lazily, may read a YAML file).
        description: one line for ``qtt-seg plugins`` and ``qtt-seg space show``.
        source: the file it comes from, when it comes from one.
    """

    name: str
    load: Callable[[], ConfigurationSpace]
    description: str = ""
    source: Path | None = None


@runtime_checkable
class MetaFeatureExtractor(Protocol):
    """Describes a dataset to the predictors with a few numbers.

    Attributes:
        name: registry name, e.g. ``"default"``.
        feature_names: the keys :meth:`extract` returns, in a fixed order.
    """

    name: str
    feature_names: tuple[str, ...]

    def extract(self, data: Any, seed: int = 0) -> dict[str, float]:
        """Compute the meta-features of ``data`` (a :class:`qtt_core.data.SegmentationData`).

        Must be deterministic for a given ``seed`` and fast on large datasets (sample).

        Returns:
            A mapping with exactly the keys of :attr:`feature_names`, finite floats.
        """
        ...


@dataclass(frozen=True)
class SurrogateSpec:
    """A predictor family the optimiser can use.

    Attributes:
        name: registry name, e.g. ``"dkl"``.
        kind: ``"performance"`` (score at an epoch) or ``"cost"`` (seconds per epoch).
        factory: builds an unfitted predictor; keyword arguments are passed through.
        description: one line for ``qtt-seg plugins``.
    """

    name: str
    kind: str
    factory: Callable[..., Any]
    description: str = ""


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimiser a plugin contributes (``--optimizer NAME``).

    Attributes:
        name: registry name, e.g. ``"quick"``.
        factory: ``factory(candidates=..., space=..., metafeatures=..., meta_train=...,
            max_epochs=..., seed=..., **options)`` returning a
            :class:`qtt_core.optimizer.base.Optimizer` over the candidate pool (plain dicts);
            ``meta_train`` is a :class:`~qtt_core.metadataset.table.MetaDataset` of recorded
            runs on other datasets, or None.
        description: one line for ``qtt-seg plugins``.
        uses_predictors: it takes ``predictors=(performance, cost)`` in ``options`` (the tuner
            then passes the model's shipped predictors, or ``--predictors``).
    """

    name: str
    factory: Callable[..., Any]
    description: str = ""
    uses_predictors: bool = False


@dataclass(frozen=True)
class MetaDatasetSpec:
    """A recorded meta-dataset, and optionally predictors meta-trained on it.

    Attributes:
        name: registry name, e.g. ``"my-model-runs"``.
        models: the model names whose tuning runs it describes.
        space: the name of the search space its configurations belong to.
        path: a local file (CSV or Parquet), or None when only ``url`` is known.
        url: a public address to download it from, when there is one.
        predictors: a folder of predictors meta-trained on it, or None.
        description: one line for ``qtt-seg plugins``.
        extra: anything else a plugin wants to say (shown as is).
        prompt: the prompt protocol its runs were trained and scored with, one of
            :data:`qtt_core.adapter.PROMPT_PROTOCOLS`: ``box`` (a ground-truth box per object,
            the paper's protocol) or ``none`` (no prompts). Learning curves differ by protocol,
            so a run with ``--prompt P`` starts only from the predictors of specs with
            ``prompt == P``; a plugin that recorded both registers one spec per protocol.
    """

    name: str
    models: tuple[str, ...]
    space: str
    path: Path | None = None
    url: str | None = None
    predictors: Path | None = None
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    prompt: str = "box"
