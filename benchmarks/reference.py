"""What the two training benchmarks share: the engine settings they time, and the update step
of the hand-written reference loop (one image, one box, BCE + dice) they are compared with."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

#: decoder training on a frozen encoder, no augmentation: the setting where caching applies
BASE = {
    "optimizer": "adamw", "lr": 1e-4, "weight_decay": 0.0, "sched": "constant", "lora": 0, "train_mask_decoder": 1,
    "train_prompt_encoder": 0, "loss": "bce_dice", "resolution_scale": 1.0, "box_jitter": 0.05, "grad_clip": 1.0,
}
#: name -> (configuration, embedding cache on)
VARIANTS = {
    "reference-bs1-uncached": ({**BASE, "batch_size": 1}, False),
    "bs4-uncached": ({**BASE, "batch_size": 4}, False),
    "bs4-cached": ({**BASE, "batch_size": 4}, True),
    "bs1-cached": ({**BASE, "batch_size": 1}, True),
    "lora-bs4": ({**BASE, "batch_size": 4, "lora": 1, "lora_targets": "qkv+mlp"}, False),
}


def reference_update(optimizer: torch.optim.Optimizer, low_res_logits: torch.Tensor, mask: np.ndarray, device: str) -> None:
    """One optimiser step on BCE + dice of ``1 x 1 x h x w`` logits upsampled to the ``H x W`` ``mask``."""
    logits = F.interpolate(low_res_logits, size=mask.shape, mode="bilinear", align_corners=False)[:, 0]
    target = torch.from_numpy(mask > 0).float().to(device)[None]
    probs = logits.sigmoid()
    dice = 1 - (2 * (probs * target).sum() + 1) / (probs.sum() + target.sum() + 1)
    loss = F.binary_cross_entropy_with_logits(logits, target) + dice
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
