"""What the optimiser of a run starts from: meta-training data, predictors, surrogates.

``--meta-dataset``: meta-train on it. Else, for an optimiser that uses predictors (``quick``):
``--predictors``, or the predictors a plugin ships for the model; or, for a model without its
own, the performance predictor shipped for another model on the same space, with a cost model
learned from the run's epochs. ``--surrogate`` names the predictor families a run fits itself.

Learning curves differ by prompt protocol (``box`` or ``none``, ``TuneSettings.prompt``), so
all of it belongs to the run's protocol: shipped predictors count only when their
meta-dataset's spec has the run's ``prompt``, and ``--meta-dataset`` or ``--predictors`` of
another protocol are refused. With nothing of the run's protocol, the optimiser learns from
the run only. :func:`check_knowledge` finds bad choices before any file is written;
:func:`find_knowledge` loads what the run uses and says which in one line (``run.log``,
``result.json``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from qtt_core.errors import UsageError
from qtt_core.registry import Registry
from qtt_core.tuner.settings import TuneSettings

__all__ = ["Knowledge", "check_knowledge", "find_knowledge"]

log = logging.getLogger("qtt_seg.tune")


@dataclass
class Knowledge:
    """What :func:`find_knowledge` found.

    Attributes:
        meta_train: recorded runs to meta-train on (``--meta-dataset``), or None.
        options: for the optimiser's factory (``predictors``, ``performance_factory``, ...).
        best_recorded: the recorded best configurations, for the candidate pool.
        description: one line saying which knowledge the run starts from.
    """

    meta_train: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    best_recorded: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""


def check_knowledge(settings: TuneSettings, registry: Registry) -> None:
    """An unknown optimiser or extractor and bad ``predictors``/``meta_dataset``/``surrogate`` stop here
    (among them a meta-dataset or predictors of another prompt protocol than ``settings.prompt``).

    Raises:
        UsageError: the one-line reason.
    """
    optimizer = registry.optimizers.get(settings.optimizer)  # an unknown name lists the known ones
    registry.extractors.get(settings.extractor)
    surrogate_specs(settings, registry)
    if settings.predictors is None:
        if settings.meta_dataset:
            from qtt_core.metadataset.io import read_prompt

            _check_meta_dataset_prompt(settings, read_prompt(settings.meta_dataset))
        return
    if settings.meta_dataset:
        raise UsageError("give --predictors or --meta-dataset, not both (--meta-dataset meta-trains predictors of its own)")
    if not optimizer.uses_predictors:
        raise UsageError(f"--predictors is for an optimiser that uses predictors (--optimizer quick); {settings.optimizer} does not")
    from qtt_core.surrogates.pair import load_predictors_for

    space = registry.load_space(settings.space or registry.adapter_for(settings.model).default_space(settings.model))
    load_predictors_for(settings.predictors, space, prompt=settings.prompt)


def _check_meta_dataset_prompt(settings: TuneSettings, prompt: str) -> None:
    """Refuse ``--meta-dataset`` whose runs (of protocol ``prompt``) are of another protocol than the run's."""
    if prompt != settings.prompt:
        raise UsageError(
            f"--meta-dataset {settings.meta_dataset} holds runs with prompt protocol {prompt!r}, this run uses {settings.prompt!r}; "
            f"give one built with `qtt-seg meta build --prompt {settings.prompt}`, or run with --prompt {prompt}"
        )


def surrogate_specs(settings: TuneSettings, registry: Registry) -> dict[str, Any]:
    """``surrogate``'s specs by kind (at most one performance and one cost predictor), for an
    optimiser that fits predictors in the run; ``{}`` without ``surrogate``.

    Raises:
        UsageError: an unknown name, two of one kind, or an optimiser that fits nothing in the run.
    """
    if settings.surrogate is None:
        return {}
    by_kind: dict[str, Any] = {}
    for name in [n.strip() for n in settings.surrogate.split(",") if n.strip()]:
        spec = registry.surrogates.get(name)
        if spec.kind in by_kind:
            raise UsageError(f"--surrogate names two {spec.kind} predictors ({by_kind[spec.kind].name}, {name}); give one of each kind at most")
        by_kind[spec.kind] = spec
    fits = settings.optimizer == "quick-nometa" or (settings.optimizer == "quick" and settings.meta_dataset)
    if not fits:
        raise UsageError(
            f"--surrogate takes effect where the run fits the predictors: --optimizer quick with --meta-dataset, "
            f"or --optimizer quick-nometa (not --optimizer {settings.optimizer}{' with shipped predictors' if settings.optimizer == 'quick' else ''})"
        )
    return by_kind


def find_knowledge(settings: TuneSettings, registry: Registry, adapter: Any, space: Any) -> Knowledge:
    """Load what the run's optimiser starts from (module docstring), for ``space``."""
    extractor = registry.extractors.get(settings.extractor)
    surrogates = {f"{kind}_factory": spec.factory for kind, spec in surrogate_specs(settings, registry).items()}
    suffix = f" (surrogate {settings.surrogate})" if surrogates else ""
    if settings.meta_dataset:
        from qtt_core.metadataset.grouped import best_recorded_configs
        from qtt_core.metadataset.io import read_meta_dataset
        from qtt_core.surrogates.performance import TOP_CONFIGS

        meta_train = read_meta_dataset(settings.meta_dataset, space)
        _check_meta_dataset_prompt(settings, meta_train.prompt)
        _warn_unknown_metafeatures(list(meta_train.feature_names), extractor)
        return Knowledge(meta_train, surrogates, best_recorded_configs(meta_train, TOP_CONFIGS), f"meta-trained on {settings.meta_dataset}{suffix}")
    if not registry.optimizers.get(settings.optimizer).uses_predictors:
        return Knowledge(options=surrogates, description=f"fitted on this run{suffix}" if surrogates else "")
    if settings.predictors:
        from qtt_core.surrogates.pair import load_predictors_for

        performance, cost = load_predictors_for(settings.predictors, space, prompt=settings.prompt)
        description = f"from {settings.predictors}"
    else:
        found = _shipped_predictors(settings, registry, adapter, space)
        if found is None:
            log.warning(
                "no meta-trained predictors for %s or its space with prompt protocol %r: the optimiser learns from this run only",
                settings.model, settings.prompt,
            )  # fmt: skip
            return Knowledge(description=f"none (no meta-trained predictors for prompt protocol {settings.prompt!r}; learning from this run only)")
        performance, cost, description = found
    _warn_unknown_metafeatures(performance.scaler.feature_names, extractor)
    return Knowledge(None, {"predictors": (performance, cost)}, performance.top_configs, description)


def _shipped_predictors(settings: TuneSettings, registry: Registry, adapter: Any, space: Any) -> tuple[Any, Any, str] | None:
    """The model's own shipped predictors, else the performance predictor of its space's
    (with a cost model learned from the run): ``(performance, cost, description)``, or None.
    Only specs of the run's prompt protocol count."""
    from qtt_core.surrogates import CostPredictor, load_predictors

    specs = [s for _, s in registry.meta_datasets.items() if s.predictors and s.prompt == settings.prompt]
    own = [s for s in specs if settings.model in s.models]
    space_name = settings.space or adapter.default_space(settings.model)
    same_space = [s for s in specs if s.space == space_name]
    if own:
        performance, cost = load_predictors(own[0].predictors)
        return performance, cost, f"shipped with the plugin ({own[0].name})"
    if same_space:
        performance, _ = load_predictors(same_space[0].predictors)
        description = f"performance predictor of {same_space[0].name}'s meta-dataset (same space {space_name}); cost learned from this run"
        return performance, CostPredictor(space, seed=settings.seed), description
    return None


def _warn_unknown_metafeatures(known: list[str], extractor: Any) -> None:
    """A warning when the predictors were meta-trained on meta-features the extractor does not give."""
    missing = [name for name in known if name not in extractor.feature_names]
    if missing:
        log.warning(
            "the predictors were meta-trained on meta-features extractor %r does not give (%s): they count as the "
            "meta-training mean, so the predictions do not depend on this dataset through them",
            extractor.name, ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else ""),
        )
