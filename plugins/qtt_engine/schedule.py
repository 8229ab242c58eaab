"""Optimisers (timm's ``create_optimizer_v2``) and learning-rate schedules (timm's
``create_scheduler_v2``; one-cycle and plateau from torch: timm has no one-cycle, and its
plateau scheduler is deprecated and does not save its counters), behind one stepping interface."""

from __future__ import annotations

from typing import Any

import torch
from timm.optim import create_optimizer_v2
from timm.scheduler import create_scheduler_v2

from qtt_engine.config import TrainConfig

__all__ = ["LrSchedule", "make_optimizer"]

_TIMM_OPTIMIZER = {"adamw": "adamw", "sgd": "momentum", "lion": "lion"}
#: restarts of ``cosine_warm`` (SGDR): enough cycles for any run
_MAX_CYCLES = 1000


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The configuration's optimiser over ``model``'s trainable parameters.

    ``sgd`` is plain momentum SGD (timm's ``momentum``); biases and norm weights get no
    weight decay (timm's default parameter grouping).
    """
    extra: dict[str, Any] = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
    return create_optimizer_v2(
        model, opt=_TIMM_OPTIMIZER[config.optimizer], lr=config.lr, weight_decay=config.weight_decay, **extra
    )


class LrSchedule:
    """The configuration's schedule, stepped after every update and after every epoch.

    Args:
        max_epochs: the schedule's horizon, in epochs (the tuner's largest fidelity);
            training on past it holds the final learning rate.
        steps_per_epoch: optimiser updates per epoch (one-cycle is stepped per update).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, config: TrainConfig, max_epochs: int, steps_per_epoch: int):
        self.kind = config.sched
        self.updates = 0
        self.total_updates = max(1, max_epochs * steps_per_epoch)
        self.timm: Any = None
        self.torch: Any = None
        if self.kind == "plateau":
            self.torch = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="max", factor=config.decay_rate, patience=config.patience_epochs
            )
        elif self.kind == "onecycle":
            self.torch = torch.optim.lr_scheduler.OneCycleLR(
                optimizer,
                max_lr=config.lr,
                total_steps=self.total_updates,
                pct_start=_one_cycle_warmup_fraction(config.onecycle_pct_start, self.total_updates),
                div_factor=config.onecycle_div_factor,
                final_div_factor=config.onecycle_final_div_factor,
            )
        else:
            self.timm, _ = create_scheduler_v2(optimizer, **_timm_arguments(config, max_epochs))

    def after_update(self) -> None:
        """Call after each optimiser step."""
        self.updates += 1
        if self.kind == "onecycle" and self.updates < self.total_updates:
            self.torch.step()

    def after_epoch(self, epoch: int, score: float) -> None:
        """Call after epoch ``epoch`` (1-based) with its validation score."""
        if self.timm is not None:
            self.timm.step(epoch, score)
        elif self.kind == "plateau":
            self.torch.step(score)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"updates": self.updates}
        if self.torch is not None:
            state["torch"] = self.torch.state_dict()
        if self.timm is not None:
            state["timm"] = self.timm.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = state["updates"]
        if self.torch is not None:
            self.torch.load_state_dict(state["torch"])
        if self.timm is not None:
            self.timm.load_state_dict(state["timm"])


def _timm_arguments(config: TrainConfig, max_epochs: int) -> dict[str, Any]:
    common = {"warmup_lr": config.lr * 0.1, "min_lr": 0.0}
    warmup = config.warmup_epochs if config.sched in ("cosine", "poly", "step") else 0
    if config.sched == "constant":
        return {**common, "sched": "constant", "num_epochs": max_epochs}
    if config.sched == "cosine":
        return {**common, "sched": "cosine", "num_epochs": max_epochs, "warmup_epochs": warmup}
    if config.sched == "cosine_warm":
        return {
            **common, "sched": "cosine", "num_epochs": config.cosine_t0, "cycle_mul": float(config.cosine_t_mult),
            "cycle_decay": 1.0, "cycle_limit": _MAX_CYCLES,
        }
    if config.sched == "step":
        return {**common, "sched": "step", "decay_epochs": config.step_size, "decay_rate": config.decay_rate, "warmup_epochs": warmup}
    if config.sched == "poly":
        return {**common, "sched": "poly", "num_epochs": max_epochs, "decay_rate": config.poly_power, "warmup_epochs": warmup}
    raise ValueError(f"unknown schedule {config.sched!r}")


def _one_cycle_warmup_fraction(pct_start: float, total_updates: int) -> float:
    """``pct_start`` moved so that both one-cycle phases have a length above zero.

    torch's ``OneCycleLR`` ends its warm-up at update ``pct_start * total - 1`` and its decay at
    ``total - 1``, and divides by each phase's length: with few updates (a tiny dataset, a large
    batch) a phase of length zero raised ``ZeroDivisionError``. Warm-up ends strictly between
    update 0 and the last one when ``1.5 / total <= pct_start <= 1 - 0.5 / total``.
    """
    if total_updates < 2:
        return pct_start  # one update: no phase boundary is ever crossed
    return min(max(pct_start, 1.5 / total_updates), 1.0 - 0.5 / total_updates)
