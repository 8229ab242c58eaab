"""Configurations shared by the SAM 2 plugin tests."""

from __future__ import annotations

#: LoRA on the trunk's qkv, decoder trained, 128 px (half of sam2-test's 256): a fast step
FAST_LORA = {
    "lora": 1, "lora_rank": 4, "lora_targets": "qkv", "lr": 1e-3, "sched": "cosine",
    "resolution_scale": 0.5, "batch_size": 2, "box_jitter": 0.0, "train_mask_decoder": 1,
}
