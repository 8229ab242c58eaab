"""The settings of a tuning run, saved as ``config.yaml`` so that a resume repeats them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["TuneSettings"]


@dataclass
class TuneSettings:
    """Everything that defines a run besides the data object itself.

    Attributes:
        data: where the data came from (a path, or a description of an in-memory dataset).
        budget_s: wall-clock seconds for the whole run, final evaluation included.
        model: a model name from ``qtt-seg plugins`` ("": the plugins' default model).
        checkpoint: a local checkpoint file for the model (None: its default weights).
        space: a search-space name or YAML file (None: the model's default space).
        optimizer: "quick" (meta-learned), "quick-nometa", "random" or "portfolio".
        meta_dataset: a meta-dataset file to meta-train the predictors on first (None: the
            predictors that ship with the model's plugin, when there are some).
        extractor: the meta-feature extractor, by registry name.
        surrogate: registered surrogates, comma-separated, at most one per kind (performance,
            cost): the predictors ``quick`` meta-trains with ``meta_dataset`` and
            ``quick-nometa`` fits (None: ``dkl`` and ``gp-cost``).
        predictors: a folder of predictors ``qtt-seg meta fit`` wrote, meta-trained on the run's
            space (None: as for ``meta_dataset``).
        max_epochs: most epochs any configuration is trained to.
        n_candidates: size of the candidate pool drawn from the space.
        device: "auto" (CUDA when present), "cpu", "cuda" or "cuda:N".
        precision: "auto", "fp32", "bf16" or "fp16" (see :mod:`qtt_core.precision`).
        prompt: "box" (ground-truth boxes, the paper's protocol) or "none" (no prompts; see
            :data:`qtt_core.adapter.PROMPT_PROTOCOLS`).
        data_options: options for ``load_dataset`` (classes, invert, mask_suffix, ...).
        workers: trials trained at once (1: the sequential loop in this process).
        executor: where the workers run with ``workers > 1``: "local" (threads of this
            process) or "ray" (Ray actors; see :mod:`qtt_core.tuner.workers`).
        address: the Ray cluster to join ("auto" or "HOST:PORT"; None starts a local instance).
        cpus_per_job / gpus_per_job: resources each Ray worker holds.
        refit: train the chosen configuration once more on train + val pairs for the final
            model, when that fits in a quarter of the budget (see :mod:`qtt_core.tuner.refit`).
    """

    data: str
    budget_s: float
    model: str = ""
    checkpoint: str | None = None
    space: str | None = None
    optimizer: str = "quick"
    meta_dataset: str | None = None
    predictors: str | None = None
    extractor: str = "default"
    surrogate: str | None = None
    max_epochs: int = 10
    n_candidates: int = 256
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    prompt: str = "box"
    data_options: dict[str, Any] | None = None
    workers: int = 1
    executor: str = "local"
    address: str | None = None
    cpus_per_job: float = 1.0
    gpus_per_job: float = 0.0
    refit: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> TuneSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})
