"""Configurations shared by the SAM plugin tests."""

from __future__ import annotations

#: a fast configuration: LoRA off, decoder trained, half resolution (64 px for sam-tiny)
FAST = {
    "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "sched": "constant", "lora": 0,
    "train_mask_decoder": 1, "train_prompt_encoder": 0, "loss": "bce_dice", "batch_size": 2,
    "resolution_scale": 0.5, "horizontal_flip": 0, "vertical_flip": 0, "random_rotate": 0,
    "color_jitter": 0.0, "box_jitter": 0.0, "grad_clip": 1.0,
}
