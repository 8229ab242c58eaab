"""One configuration's trainable model, optimiser and schedule, and its freeze-thaw state."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from qtt_engine.config import LORA_TARGETS, TrainConfig
from qtt_engine.protocol import PromptableModel
from qtt_engine.schedule import LrSchedule, make_optimizer

if TYPE_CHECKING:
    from peft import LoraConfig

__all__ = ["Trial", "TrialState", "build_model", "build_trial", "lora_config_for", "trainable_state"]


@dataclass
class TrialState:
    """Everything needed to continue a configuration after ``epoch`` epochs (all on the CPU).

    Attributes:
        trainable: name -> tensor of every trainable parameter (LoRA, unfrozen parts).
        optimizer / schedule: their ``state_dict()``.
        numpy_rng: state of the trial's numpy generator (data order, augmentation, jitter).
        torch_rng / cuda_rng: torch generator states (LoRA dropout).
        losses / scores / costs_s: per finished epoch: training loss, validation score,
            wall-clock seconds.
    """

    config: dict[str, Any]
    epoch: int
    trainable: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    numpy_rng: dict[str, Any]
    torch_rng: torch.Tensor
    cuda_rng: torch.Tensor | None = None
    losses: list[float] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    costs_s: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> TrialState:
        return cls(**payload)


@dataclass
class Trial:
    """A configuration made trainable: model, optimiser, schedule and random generators."""

    config: TrainConfig
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: LrSchedule
    lora: LoraConfig | None
    rng: np.random.Generator
    torch_rng: torch.Tensor
    cuda_rng: torch.Tensor | None = None
    raw_config: dict[str, Any] = field(default_factory=dict)
    step_s: float = 0.0  # seconds the last optimiser step took (to stop before a deadline)
    scaler: torch.amp.GradScaler | None = None  # fp16's loss scaler (made at the first step)

    @property
    def caches_embeddings(self) -> bool:
        """True when the image encoder is frozen and images are not colour-jittered."""
        return not self.config.encoder_trainable and self.config.color_jitter == 0

    def trainable_names(self) -> list[str]:
        return [name for name, p in self.model.named_parameters() if p.requires_grad]


def lora_config_for(wrapper: PromptableModel, config: TrainConfig) -> LoraConfig | None:
    """peft's LoRA settings for ``config`` (None when LoRA is off); targets: encoder blocks only."""
    if not config.lora:
        return None
    from peft import LoraConfig  # imported when needed: peft pulls in transformers (seconds)

    depth = wrapper.num_encoder_blocks
    blocks = range(depth) if config.lora_blocks == "all" else range(depth // 2, depth)
    regex = wrapper.lora_target_regex(LORA_TARGETS[config.lora_targets], list(blocks))
    return LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout, target_modules=regex, bias="none")


def build_model(
    wrapper: PromptableModel, base: torch.nn.Module, config: TrainConfig, always_trained: Sequence[str] = ()
) -> tuple[torch.nn.Module, LoraConfig | None]:
    """A copy of ``base`` with LoRA injected and the configured parts unfrozen.

    Args:
        always_trained: module-name prefixes that train whatever the configuration says (the
            class head's decoder without prompts, :meth:`PromptFreeModel.add_class_head`).

    Parameters that stay frozen (and all buffers) are shared with ``base`` rather than copied,
    so a frozen image encoder costs no memory; ``base`` must never be modified in place.
    """
    prefixes = tuple(wrapper.trainable_parts[key] for key in config.enabled_parts()) + tuple(always_trained)
    shared = {id(p): p for name, p in base.named_parameters() if not (prefixes and name.startswith(prefixes))}
    shared.update({id(b): b for b in base.buffers()})
    model = copy.deepcopy(base, shared)
    model.requires_grad_(False)
    lora = lora_config_for(wrapper, config)
    if lora is not None:
        from peft import inject_adapter_in_model

        inject_adapter_in_model(lora, model)
    for name, parameter in model.named_parameters():
        if prefixes and name.startswith(prefixes):
            parameter.requires_grad_(True)
    return model, lora


def build_trial(
    wrapper: PromptableModel,
    base: torch.nn.Module,
    config: TrainConfig,
    max_epochs: int,
    steps_per_epoch: int,
    seed: int,
    always_trained: Sequence[str] = (),
) -> Trial:
    """Model, optimiser, schedule and generators of a configuration at epoch 0.

    Args:
        base: the wrapper's base model (frozen; on the training device).
        max_epochs / steps_per_epoch: the schedule's horizon.
        seed: seeds LoRA's initialisation, dropout and the numpy generator.
        always_trained: as in :func:`build_model`.
    """
    torch.manual_seed(seed)
    model, lora = build_model(wrapper, base, config, always_trained)
    optimizer = make_optimizer(model, config)
    schedule = LrSchedule(optimizer, config, max_epochs, steps_per_epoch)
    cuda_rng = torch.cuda.get_rng_state() if torch.cuda.is_available() else None
    return Trial(config, model, optimizer, schedule, lora, np.random.default_rng(seed), torch.get_rng_state(), cuda_rng)


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """CPU copies of the trainable parameters, by name."""
    return {name: p.detach().to("cpu", copy=True) for name, p in model.named_parameters() if p.requires_grad}
