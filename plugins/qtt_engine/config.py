"""A configuration of the ``sam-lora`` (or ``qtt-seg-sam2``) space as typed training settings.

Keys a space does not have take the defaults below, so the SAM 2 space (no ``optimizer``,
``loss``, ``batch_size``, ``lora_targets``, ...) and ``sam-lora`` drive the same engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from qtt_core.errors import UsageError

__all__ = ["LORA_TARGETS", "TrainConfig"]

#: values of ``lora_targets`` -> module kinds that get LoRA
LORA_TARGETS: dict[str, tuple[str, ...]] = {
    "qkv": ("qkv",),
    "qkv+proj": ("qkv", "proj"),
    "qkv+mlp": ("qkv", "mlp"),
    "qkv+proj+mlp": ("qkv", "proj", "mlp"),
    "proj+mlp": ("proj", "mlp"),
    "mlp": ("mlp",),
}
_CHOICES = {
    "optimizer": ("adamw", "sgd", "lion"),
    "sched": ("constant", "cosine", "step", "plateau", "poly", "onecycle", "cosine_warm"),
    "loss": ("bce_dice", "focal_dice", "dice", "bce"),
    "lora_targets": tuple(LORA_TARGETS),
    "lora_blocks": ("all", "last_half"),
}


@dataclass(frozen=True)
class TrainConfig:
    """Training settings of one configuration (units: epochs, pixels as fractions of box sides).

    ``parts`` maps each trainable-part key of the model wrapper (e.g. ``train_mask_decoder``)
    to 0/1; it is filled by :meth:`from_mapping`.
    """

    optimizer: str = "adamw"
    momentum: float = 0.9
    lr: float = 1e-4
    weight_decay: float = 0.0
    sched: str = "cosine"
    warmup_epochs: int = 0
    decay_rate: float = 0.5
    step_size: int = 3
    patience_epochs: int = 1
    poly_power: float = 0.9
    onecycle_pct_start: float = 0.1
    onecycle_div_factor: float = 25.0
    onecycle_final_div_factor: float = 1e4
    cosine_t0: int = 3
    cosine_t_mult: int = 1
    lora: int = 1
    lora_rank: int = 8
    lora_alpha_ratio: float = 2.0
    lora_dropout: float = 0.0
    lora_targets: str = "qkv+mlp"
    lora_blocks: str = "all"
    loss: str = "bce_dice"
    batch_size: int = 1
    resolution_scale: float = 1.0
    horizontal_flip: int = 0
    vertical_flip: int = 0
    random_rotate: int = 0
    color_jitter: float = 0.0
    box_jitter: float = 0.05
    box_per_component: int = 0
    grad_clip: float = 1.0
    parts: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], part_defaults: Mapping[str, int]) -> TrainConfig:
        """Settings from a configuration dict; missing keys take defaults.

        Args:
            part_defaults: the wrapper's trainable-part keys and their defaults.

        Raises:
            UsageError: an unknown key, or a value outside the known choices.
        """
        names = {f.name: f for f in fields(cls) if f.name != "parts"}
        unknown = sorted(set(config) - set(names) - set(part_defaults))
        if unknown:
            known = sorted([*names, *part_defaults])
            raise UsageError(f"configuration has unknown hyperparameters {unknown}; this model's trainer knows {known}")
        values: dict[str, Any] = {}
        for name, spec in names.items():
            if name in config and config[name] is not None:
                kind = type(spec.default)
                values[name] = kind(config[name]) if kind is not str else str(config[name])
        for key, allowed in _CHOICES.items():
            if key in values and values[key] not in allowed:
                raise UsageError(f"configuration value {key}={values[key]!r} is not one of {list(allowed)}")
        parts = tuple((key, int(config.get(key, default))) for key, default in part_defaults.items())
        return cls(**values, parts=parts)

    @property
    def lora_alpha(self) -> float:
        """LoRA's alpha: ``lora_alpha_ratio * lora_rank``."""
        return self.lora_alpha_ratio * self.lora_rank

    @property
    def encoder_trainable(self) -> bool:
        """Whether the image encoder changes during training (LoRA on)."""
        return bool(self.lora)

    def enabled_parts(self) -> list[str]:
        """Trainable-part keys switched on (e.g. ``["train_mask_decoder"]``)."""
        return [key for key, on in self.parts if on]
