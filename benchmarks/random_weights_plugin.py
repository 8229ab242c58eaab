"""A qtt-seg plugin for benchmarks: every SAM (and, with ``sam2`` installed, SAM 2) model again
as ``<model>-random``, with seeded random weights, so a whole ``tune`` runs with no download.

    QTT_SEG_PLUGINS=random_weights_plugin PYTHONPATH=benchmarks \\
        qtt-seg tune DATA --budget 120 --model sam-vit-b-random --device cuda --json

In-process: ``Registry(plugins=["random_weights_plugin"])`` with ``benchmarks/`` importable
(pytest puts it on the path). A ``-random`` model has the real model's architecture, native
input size, default search space and training engine; only ``build()`` differs
(:mod:`random_weights`). Its tuned export loads back through this plugin (the run's overlays,
``qtt-seg predict`` with the same environment). The real models' meta-datasets are
contributed again under ``<name>-random`` for the ``-random`` names, so the optimiser starts
from the same predictors as for the real model. Scores mean nothing; times and memory do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qtt_core.adapter import ModelAdapter
from qtt_core.hookspecs import hookimpl
from qtt_core.installed import package_installed
from qtt_core.specs import MetaDatasetSpec
from qtt_engine.adapter import PromptableAdapter
from qtt_sam.adapter import SamAdapter

__all__ = ["SUFFIX", "random_weights_adapter", "real_name"]

#: appended to a real model's name for its random-weights twin
SUFFIX = "-random"


def real_name(model: str) -> str:
    """``sam-vit-b`` for ``sam-vit-b-random`` (and for ``sam-vit-b``)."""
    return model.removesuffix(SUFFIX)


def _sam_wrapper(model: str, checkpoint: str | Path | None):
    from random_weights import RandomSamWrapper

    return RandomSamWrapper(model, checkpoint)


def _sam2_wrapper(model: str, checkpoint: str | Path | None):
    from random_weights import RandomSam2Wrapper

    return RandomSam2Wrapper(model, checkpoint)


def random_weights_adapter(real: ModelAdapter, make_wrapper: Callable[[str, Any], Any]) -> PromptableAdapter:
    """The models of ``real`` as ``<model>-random`` (same default spaces), built by ``make_wrapper``
    (``(model name, checkpoint) -> PromptableModel`` with random weights)."""
    models = real.model_names()
    spaces = {f"{model}{SUFFIX}": real.default_space(model) for model in models}
    return PromptableAdapter(f"{real.name}{SUFFIX}", list(spaces), make_wrapper, default_space=spaces)


def _sam2_available() -> bool:
    return package_installed("sam2", "build_sam")


@hookimpl
def qtt_model_adapters() -> list[ModelAdapter]:
    adapters = [random_weights_adapter(SamAdapter(), _sam_wrapper)]
    if _sam2_available():
        from qtt_sam2.adapter import Sam2Adapter

        adapters.append(random_weights_adapter(Sam2Adapter(), _sam2_wrapper))
    return adapters


@hookimpl
def qtt_meta_datasets() -> list[MetaDatasetSpec]:
    from qtt_sam.nano.meta import meta_dataset_spec as sam_spec

    specs = [sam_spec()]
    if _sam2_available():
        from qtt_sam2.meta import meta_dataset_spec as sam2_spec

        specs.append(sam2_spec())
    return [
        dataclasses.replace(
            spec, name=f"{spec.name}{SUFFIX}", models=tuple(f"{m}{SUFFIX}" for m in spec.models),
            description=f"{spec.description} (for the {SUFFIX} models of the benchmarks' plugin)",
        )
        for spec in specs
    ]
