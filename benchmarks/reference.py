"""What the two training benchmarks share: the engine settings they time (:data:`VARIANTS`,
:func:`engine_epoch`), their data, and the update step of the hand-written reference loop (one
image, one box, BCE + dice) they are compared with.

The reference loops run their forward passes under :func:`cases.autocast` of the case's
precision and update with :func:`reference_update` outside it, as the engine does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from qtt_core.testing import make_shapes_data
from qtt_engine import EngineContext, TrainConfig, build_trial, train_epoch
from qtt_engine.cache import EmbeddingCache, SampleStore

#: decoder training on a frozen encoder, no augmentation: the setting where caching applies
BASE = {
    "optimizer": "adamw", "lr": 1e-4, "weight_decay": 0.0, "sched": "constant", "lora": 0, "train_mask_decoder": 1,
    "train_prompt_encoder": 0, "loss": "bce_dice", "resolution_scale": 1.0, "box_jitter": 0.05, "grad_clip": 1.0,
}
#: name -> (configuration, embedding cache on, prompt protocol)
VARIANTS = {
    "reference-bs1-uncached": ({**BASE, "batch_size": 1}, False, "box"),
    "bs4-uncached": ({**BASE, "batch_size": 4}, False, "box"),
    "bs4-cached": ({**BASE, "batch_size": 4}, True, "box"),
    "bs1-cached": ({**BASE, "batch_size": 1}, True, "box"),
    "lora-bs4": ({**BASE, "batch_size": 4, "lora": 1, "lora_targets": "qkv+mlp"}, False, "box"),
    "none-bs4-uncached": ({**BASE, "batch_size": 4}, False, "none"),  # no prompts: the class head, every image decoded once
    "none-bs4-cached": ({**BASE, "batch_size": 4}, True, "none"),
}


def reference_update(
    optimizer: torch.optim.Optimizer,
    low_res_logits: torch.Tensor,
    mask: np.ndarray,
    device: str,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """One optimiser step on BCE + dice of ``1 x 1 x h x w`` logits upsampled to the ``H x W`` ``mask``.

    The loss is computed in float32 (the logits may come out of autocast in bf16 or fp16); with
    fp16's ``scaler`` it is scaled, and the step is skipped when a gradient overflowed.
    """
    logits = F.interpolate(low_res_logits.float(), size=mask.shape, mode="bilinear", align_corners=False)[:, 0]
    target = torch.from_numpy(mask > 0).float().to(device)[None]
    probs = logits.sigmoid()
    dice = 1 - (2 * (probs * target).sum() + 1) / (probs.sum() + target.sum() + 1)
    loss = F.binary_cross_entropy_with_logits(logits, target) + dice
    optimizer.zero_grad()
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def shapes_data(side: int, n_images: int):
    """``n_images`` training pairs of ``side x side`` pixels (and one val and one test pair)."""
    return make_shapes_data(n_train=n_images, n_val=1, n_test=1, size=(side, side), seed=0)


def engine_epoch(wrapper, device: str, precision: str, variant: str, n_images: int) -> Callable[[], None]:
    """An epoch of the engine over ``n_images`` images in ``variant`` (:data:`VARIANTS`) and
    ``precision``, after one warm-up epoch (which fills the embedding cache when caching).

    Args:
        wrapper: a model wrapper with random weights (:mod:`random_weights`).
    """
    config, cached, prompt = VARIANTS[variant]
    base = wrapper.build()
    always_trained = (wrapper.add_class_head(base, 2),) if prompt == "none" else ()
    base = base.to(device)
    base.requires_grad_(False)
    store = SampleStore(shapes_data(wrapper.input_size, n_images))
    cache = EmbeddingCache(8 * 2**30 if cached else 0)
    context = EngineContext(wrapper, store, cache, torch.device(device), num_classes=1, precision=precision, prompt=prompt)
    settings = TrainConfig.from_mapping(config, wrapper.part_defaults)
    trial = build_trial(wrapper, base, settings, max_epochs=100, steps_per_epoch=1, seed=0, always_trained=always_trained)
    trial.model.to(device)
    train_epoch(context, trial, None)  # warm-up

    def epoch() -> None:
        train_epoch(context, trial, None)

    return epoch
