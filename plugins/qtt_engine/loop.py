"""The training epoch and the evaluation pass, written against :class:`PromptableModel`.

Two prompt protocols (:attr:`EngineContext.prompt`): ``box``, one ground-truth box per class
(or per connected component) decoded into a mask each; ``none``, the model's class head
(:mod:`qtt_engine.dense`) labels every pixel from the image alone.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from qtt_core.data.protocol import IGNORE_INDEX
from qtt_engine.augment import Augmentation, draw_augmentation
from qtt_engine.cache import EmbeddingCache, SampleStore
from qtt_engine.dense import dense_label_maps, dense_loss
from qtt_engine.losses import mask_loss
from qtt_engine.metrics import IoUAccumulator
from qtt_engine.prompts import BoxPrompts, boxes_from_mask, jitter_boxes
from qtt_engine.protocol import PromptableModel
from qtt_engine.trial import Trial

__all__ = ["EngineContext", "NonFiniteLoss", "evaluate", "input_side", "label_map", "predict_dense_maps", "predict_label_maps", "train_epoch"]

_NO_AUGMENTATION = Augmentation()


class NonFiniteLoss(FloatingPointError):
    """The training loss became NaN or infinite."""


def input_side(wrapper: PromptableModel, resolution_scale: float) -> int:
    """The square input side for ``resolution_scale``, a multiple of ``size_multiple`` (pixels)."""
    multiple = wrapper.size_multiple
    return max(multiple, int(round(wrapper.input_size * resolution_scale / multiple)) * multiple)


@dataclass
class EngineContext:
    """What the loop needs besides the trial: model wrapper, data, caches, device."""

    wrapper: PromptableModel
    store: SampleStore
    cache: EmbeddingCache | None
    device: torch.device
    num_classes: int
    eval_batch_size: int = 8
    precision: str = "fp32"  # fp32, bf16 or fp16 (see qtt_core.precision)
    prefetch: bool | None = None  # prepare the next batch on a thread (None: on CUDA only)
    prompt: str = "box"  # box: ground-truth boxes; none: the class head, no prompts

    def __post_init__(self) -> None:
        if self.prefetch is None:
            self.prefetch = self.device.type == "cuda"

    def autocast(self) -> contextlib.AbstractContextManager:
        """The forward pass's autocast for :attr:`precision` on :attr:`device` (nothing for fp32)."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """A new loss scaler for fp16 (None otherwise: bf16 and fp32 need none)."""
        return torch.amp.GradScaler(self.device.type) if self.precision == "fp16" else None

    def to_tensor(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """``B x 3 x S x S`` float tensor on the device from ``S x S x 3`` uint8 arrays.

        On CUDA the uint8 batch goes through pinned memory and is copied without blocking
        (a quarter of the bytes of a float copy); it becomes float on the device.
        """
        stacked = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
        if self.device.type == "cuda":
            stacked = stacked.pin_memory()
        return stacked.to(self.device, non_blocking=True).float()

    def embed(self, model: torch.nn.Module, images: Sequence[np.ndarray], keys: Sequence[Any] | None, grad: bool) -> list[Any]:
        """Embeddings of ``images``; with ``keys`` (frozen encoder), cached ones are reused.

        Args:
            keys: one cache key per image, or None to compute every embedding.
            grad: build the autograd graph through the encoder (LoRA training).
        """
        results: list[Any] = [None] * len(images)
        if keys is not None and self.cache is not None:
            for position, key in enumerate(keys):
                results[position] = self.cache.get(key)
        todo = [position for position, found in enumerate(results) if found is None]
        if todo:
            with torch.set_grad_enabled(grad), self.autocast():
                computed = self.wrapper.embed(model, self.to_tensor([images[p] for p in todo]))
            for position, embedding in zip(todo, computed, strict=True):
                results[position] = embedding
                if keys is not None and self.cache is not None:
                    self.cache.put(keys[position], embedding)
        return results


def train_epoch(ctx: EngineContext, trial: Trial, deadline: float | None) -> float | None:
    """One pass over the training split in random order.

    With :attr:`EngineContext.prefetch` (on CUDA), the next batch is read, augmented and
    prompted on a CPU thread while the device runs the current step; the random draws happen
    in the same order either way, so the epoch is the same.

    Returns:
        The mean loss per prompt (per image without prompts), NaN when no image had a
        prompt, or None when the deadline came before the epoch ended (stopped at a step
        boundary).

    Raises:
        NonFiniteLoss: the loss became NaN or infinite.
    """
    config, model = trial.config, trial.model
    side = input_side(ctx.wrapper, config.resolution_scale)
    order = trial.rng.permutation(ctx.store.size("train"))
    batches = [[int(i) for i in order[start : start + config.batch_size]] for start in range(0, len(order), config.batch_size)]
    params = [p for p in model.parameters() if p.requires_grad]
    model.train()
    total, count = 0.0, 0
    with _batch_source(ctx, trial, batches, side) as prepared_batches:
        for prepared in prepared_batches:
            if deadline is not None and time.monotonic() + trial.step_s > deadline:
                return None
            started = time.monotonic()
            loss, prompts = _batch_loss(ctx, trial, prepared())
            if prompts:
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise NonFiniteLoss(f"training loss is {value}")
                _update(ctx, trial, loss, params)
                total += value * prompts
                count += prompts
            trial.step_s = time.monotonic() - started
    model.eval()
    return total / count if count else float("nan")


@dataclass
class _Batch:
    """A training batch read, augmented and prompted on the CPU (``S x S`` pixels)."""

    indices: list[int]
    side: int
    images: list[np.ndarray]
    masks: list[np.ndarray]
    augmentations: list[Augmentation]
    prompts: list[BoxPrompts]
    boxes: list[np.ndarray]


@contextlib.contextmanager
def _batch_source(ctx: EngineContext, trial: Trial, batches: list[list[int]], side: int) -> Iterator[Iterator[Callable[[], _Batch]]]:
    """Yields, per batch, a callable returning it prepared: made on the spot, or (prefetch) made
    on a thread one batch ahead, each started after the previous one finished."""
    if not ctx.prefetch:
        yield (functools.partial(_prepare_batch, ctx, trial, batch, side) for batch in batches)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="qtt-seg-batches") as pool:
        def ahead() -> Iterator[Callable[[], _Batch]]:
            future = pool.submit(_prepare_batch, ctx, trial, batches[0], side) if batches else None
            for position in range(len(batches)):
                current = future.result()  # the next one starts only now: the random draws keep their order
                future = pool.submit(_prepare_batch, ctx, trial, batches[position + 1], side) if position + 1 < len(batches) else None
                yield lambda batch=current: batch

        yield ahead()


def _prepare_batch(ctx: EngineContext, trial: Trial, indices: list[int], side: int) -> _Batch:
    """Read, augment and prompt a batch (every random draw of a training step happens here)."""
    config = trial.config
    images, masks, augmentations = [], [], []
    for index in indices:
        augmentation = draw_augmentation(
            trial.rng, bool(config.horizontal_flip), bool(config.vertical_flip), bool(config.random_rotate), config.color_jitter
        )
        image, mask = augmentation.apply(ctx.store.image("train", index, side), ctx.store.mask("train", index, side))
        images.append(image)
        masks.append(mask)
        augmentations.append(augmentation)
    if ctx.prompt == "none":
        return _Batch(indices, side, images, masks, augmentations, [], [])
    prompts = [boxes_from_mask(mask, bool(config.box_per_component)) for mask in masks]
    boxes = [jitter_boxes(p.boxes, config.box_jitter, (side, side), trial.rng) for p in prompts]
    return _Batch(indices, side, images, masks, augmentations, prompts, boxes)


def _update(ctx: EngineContext, trial: Trial, loss: torch.Tensor, params: list[torch.Tensor]) -> None:
    """One optimiser step on ``loss``: gradients (scaled for fp16), clipping, the step, the schedule."""
    clip = trial.config.grad_clip
    trial.optimizer.zero_grad(set_to_none=True)
    if ctx.precision == "fp16" and trial.scaler is None:
        trial.scaler = ctx.grad_scaler()
    scaler = trial.scaler
    if scaler is None:
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        trial.optimizer.step()
    else:
        scaler.scale(loss).backward()
        if clip > 0:
            scaler.unscale_(trial.optimizer)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(params, clip)
        scaler.step(trial.optimizer)  # skipped when a gradient overflowed; the scale then shrinks
        scaler.update()
    trial.schedule.after_update()


def _batch_loss(ctx: EngineContext, trial: Trial, batch: _Batch) -> tuple[torch.Tensor, int]:
    """The loss over all prompts of a batch (decoded together), and the number of prompts
    (of images, without prompts)."""
    if ctx.prompt == "none":
        return _dense_batch_loss(ctx, trial, batch)
    config, side = trial.config, batch.side
    keep = [i for i, p in enumerate(batch.prompts) if len(p)]
    if not keep:
        return torch.zeros(()), 0
    keys = [("train", batch.indices[i], batch.augmentations[i].variant, side) for i in keep] if trial.caches_embeddings else None
    embeddings = ctx.embed(trial.model, [batch.images[i] for i in keep], keys, grad=config.encoder_trainable)
    with ctx.autocast():
        logits = ctx.wrapper.decode(trial.model, embeddings, [torch.from_numpy(batch.boxes[i]).to(ctx.device) for i in keep], side)
    logits = F.interpolate(torch.cat(logits)[:, None].float(), size=(side, side), mode="bilinear", align_corners=False)[:, 0]
    targets = np.concatenate([batch.prompts[i].targets for i in keep])
    valid = np.concatenate([np.broadcast_to(batch.masks[i] != IGNORE_INDEX, batch.prompts[i].targets.shape) for i in keep])
    loss = mask_loss(config.loss, logits, torch.from_numpy(targets).to(ctx.device).float(), torch.from_numpy(valid).to(ctx.device).float())
    return loss, len(targets)


def _dense_batch_loss(ctx: EngineContext, trial: Trial, batch: _Batch) -> tuple[torch.Tensor, int]:
    """The class head's loss over a batch's label maps (every image counts), and the number of images."""
    side = batch.side
    keys = [("train", index, augmentation.variant, side) for index, augmentation in zip(batch.indices, batch.augmentations, strict=True)]
    embeddings = ctx.embed(trial.model, batch.images, keys if trial.caches_embeddings else None, grad=trial.config.encoder_trainable)
    with ctx.autocast():
        logits = ctx.wrapper.decode_dense(trial.model, embeddings, side)
    logits = F.interpolate(torch.stack(logits).float(), size=(side, side), mode="bilinear", align_corners=False)
    labels = torch.from_numpy(np.stack(batch.masks)).to(ctx.device).long()
    return dense_loss(trial.config.loss, logits, labels, IGNORE_INDEX), len(batch.images)


@torch.no_grad()
def evaluate(
    ctx: EngineContext,
    model: torch.nn.Module,
    split: str,
    side: int,
    per_component: bool,
    cache_embeddings: bool,
) -> IoUAccumulator:
    """Intersections and unions of ``model``'s masks on ``split`` with boxes from the ground
    truth (no jitter), or without prompts (:attr:`EngineContext.prompt` ``none``);
    ``.score()`` is the mean IoU.

    Masks are predicted at the ``side x side`` input and compared at the original size.
    """
    model.eval()
    accumulator = IoUAccumulator(ctx.num_classes)
    count = ctx.store.size(split)
    for start in range(0, count, ctx.eval_batch_size):
        indices = list(range(start, min(count, start + ctx.eval_batch_size)))
        images = [ctx.store.image(split, i, side) for i in indices]
        keys = [(split, i, _NO_AUGMENTATION.variant, side) for i in indices] if cache_embeddings else None
        embeddings = ctx.embed(model, images, keys, grad=False)
        truths = [ctx.store.mask(split, i) for i in indices]
        shapes = [t.shape for t in truths]
        if ctx.prompt == "none":
            predictions = predict_dense_maps(ctx, model, embeddings, shapes, side)
        else:
            prompts = [boxes_from_mask(truth, per_component) for truth in truths]
            predictions = predict_label_maps(ctx, model, embeddings, prompts, shapes, side)
        for predicted, truth in zip(predictions, truths, strict=True):
            accumulator.update(predicted, truth)
    return accumulator


def predict_label_maps(
    ctx: EngineContext,
    model: torch.nn.Module,
    embeddings: Sequence[Any],
    prompts: Sequence[BoxPrompts],
    shapes: Sequence[tuple[int, int]],
    side: int,
) -> list[np.ndarray]:
    """``H_i x W_i`` uint8 label maps for images whose boxes are in pixels of their original shapes.

    Args:
        embeddings: per image, its embedding at the ``side x side`` input.
        prompts: per image, boxes and labels (targets unused).
        shapes: per image, ``(H, W)`` of the original image, in pixels.
    """
    maps = [np.zeros(shape, dtype=np.uint8) for shape in shapes]
    todo = [i for i, p in enumerate(prompts) if len(p)]
    if not todo:
        return maps
    boxes = [torch.from_numpy(scale_boxes(prompts[i].boxes, shapes[i], side)).to(ctx.device) for i in todo]
    with ctx.autocast():
        logits = ctx.wrapper.decode(model, [embeddings[i] for i in todo], boxes, side)
    for i, image_logits in zip(todo, logits, strict=True):
        upsampled = F.interpolate(image_logits[:, None].float(), size=tuple(shapes[i]), mode="bilinear", align_corners=False)[:, 0]
        maps[i] = label_map(upsampled.cpu().numpy(), prompts[i].labels)
    return maps


def predict_dense_maps(
    ctx: EngineContext, model: torch.nn.Module, embeddings: Sequence[Any], shapes: Sequence[tuple[int, int]], side: int
) -> list[np.ndarray]:
    """``H_i x W_i`` uint8 label maps from the class head, without prompts (argmax over labels).

    Args:
        embeddings: per image, its embedding at the ``side x side`` input.
        shapes: per image, ``(H, W)`` of the original image, in pixels.
    """
    with ctx.autocast():
        logits = ctx.wrapper.decode_dense(model, embeddings, side)
    return dense_label_maps(logits, list(shapes))


def scale_boxes(boxes: np.ndarray, shape: tuple[int, int], side: int) -> np.ndarray:
    """``N x 4`` boxes from pixels of an ``H x W`` image to pixels of the ``side x side`` input.

    Pixel centres map to pixel centres; the result is clipped to ``[0, side - 1]``.
    """
    height, width = shape
    factors = np.array([side / width, side / height, side / width, side / height], dtype=np.float32)
    return np.clip((boxes + 0.5) * factors - 0.5, 0, side - 1).astype(np.float32)


def label_map(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Combine per-prompt logits (``N x H x W``) into an ``H x W`` uint8 label map.

    Each pixel takes the label of the prompt with the highest logit, if that logit is
    positive (probability above 0.5); otherwise background.
    """
    best = logits.argmax(axis=0)
    winner = np.take_along_axis(logits, best[None], axis=0)[0]
    return np.where(winner > 0, np.asarray(labels)[best], 0).astype(np.uint8)
