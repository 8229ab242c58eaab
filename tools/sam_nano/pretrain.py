"""Pretraining of ``sam-nano`` on procedural scenes with box prompts (resumable, fixed seed).

    python -m tools.sam_nano.pretrain --out DIR --steps N [--batch-size 8] [--seed 0] [--resume]
    python -m tools.sam_nano.pretrain --out DIR --export-only --export sam_nano.safetensors

(from the repository root of a checkout; the tools are not installed with qtt-seg).

The whole SAM (image encoder, prompt encoder, mask decoder; segment-anything's modules) is
trained end to end: AdamW, linear warmup then cosine decay (timm), loss = BCE + dice (the
engine's ``bce_dice``, :func:`qtt_engine.losses.mask_loss`) on the mask logits upsampled to
``loss_scale`` x the input size (targets area-averaged to it; half the input size by default,
as the shipped weights were trained; at the full size thin structures such as 1-2 px membranes
keep hard 0/1 targets), plus the IoU head's MSE against the IoU its masks actually reach. Box
prompts are the engine's tight boxes (:func:`qtt_engine.prompts.boxes_from_mask`). Both
decoder paths are trained: the single-mask output (``multimask_output=False``, used with box
prompts) and the three multimask outputs (the smallest of their losses, as SAM).

The data of step ``t`` are the scenes ``t * B ... t * B + B - 1`` of the stream ``seed`` and the
box jitter is drawn from ``(seed, t)``; with the model and optimizer state saved every
``--checkpoint-every`` steps, a resumed run reaches bit-identical weights to a straight one.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from segment_anything.modeling import Sam
from timm.scheduler import CosineLRScheduler

from qtt_engine.losses import mask_loss
from qtt_engine.prompts import boxes_from_mask
from qtt_sam.architectures import SamArchitecture, build_sam, get_architecture
from tools.sam_nano.scenes import NETWORK_SHARE, TISSUE_SHARE, make_scene, pick_targets

__all__ = ["PretrainConfig", "export_weights", "main", "pretrain", "train_step_loss"]

CHECKPOINT_NAME = "last.pt"


@dataclass(frozen=True)
class PretrainConfig:
    """Everything that determines the weights of a pretraining run.

    Attributes:
        steps: optimizer steps in total (the cosine schedule spans them).
        batch_size: images per step; each brings ``prompts_per_image`` box prompts.
        lr: peak learning rate, reached after ``warmup_steps``.
        box_jitter: std of the noise added to each box side, as a fraction of the box side.
        init_weights: a safetensors file (``--export`` of an earlier run) to start from instead
            of a random initialisation ("" = random): a second stage with a fresh schedule.
        data_offset: step ``t`` trains on the scenes of step ``t + data_offset``, so that a
            second stage sees scenes the first one did not.
        network_share: share of scenes with a whole-image membrane network (thin structures
            that fill their box: membranes, vessels, cracks).
        tissue_share: of the network scenes, the share drawn as a tissue of cells (EM-like:
            textured cells, organelles as distractors); 0 for the shipped weights.
        loss_scale: the loss is taken at this fraction of the input size. The shipped weights
            used 0.5, where a 1 px line becomes a soft target of at most 0.5 that the model
            learns to leave out; 1.0 keeps it.
    """

    model: str = "sam-nano"
    steps: int = 6000
    batch_size: int = 8
    prompts_per_image: int = 3
    seed: int = 0
    lr: float = 6e-4
    weight_decay: float = 0.05
    warmup_steps: int = 200
    box_jitter: float = 0.06
    iou_loss_weight: float = 1.0
    init_weights: str = ""
    data_offset: int = 0
    network_share: float = NETWORK_SHARE
    tissue_share: float = TISSUE_SHARE
    loss_scale: float = 0.5


# ---------------------------------------------------------------- data


def make_batch(config: PretrainConfig, step: int, image_size: int) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """The training batch of ``step``.

    Returns:
        images: ``B x 3 x S x S`` float32 in [0, 255] (S = ``image_size``, pixels);
        boxes: per image a ``K x 4`` float32 tensor ``(x0, y0, x1, y1)`` in pixels of S, jittered;
        masks: per image a ``K x S x S`` float32 tensor of 0/1 targets.
    """
    step += config.data_offset
    jitter_rng = np.random.default_rng([config.seed, step, 2])
    images, boxes, masks = [], [], []
    for offset in range(config.batch_size):
        index = step * config.batch_size + offset
        scene = make_scene(config.seed, index, network_share=config.network_share, tissue_share=config.tissue_share)
        picks = pick_targets(scene, config.prompts_per_image, np.random.default_rng([config.seed, index, 1]))
        image = torch.from_numpy(np.array(scene.image)).permute(2, 0, 1).float()
        target = torch.from_numpy(scene.masks[picks]).float()
        scale = image_size / image.shape[-1]
        if scale != 1:
            image = F.interpolate(image[None], size=(image_size, image_size), mode="bilinear", antialias=True)[0]
            target = (F.interpolate(target[None], size=(image_size, image_size), mode="area")[0] >= 0.5).float()
        kept = target.flatten(1).sum(1) > 0
        target = target[kept]
        box = _box_edges(target)
        side = (box[:, 2:] - box[:, :2]).repeat(1, 2)
        noise = torch.from_numpy(jitter_rng.normal(0, config.box_jitter, box.shape).astype(np.float32))
        max_shift = 16 * scale  # pixels
        box = box + (noise * side).clamp(-max_shift, max_shift)
        images.append(image)
        boxes.append(box.clamp(0, image_size))
        masks.append(target)
    return torch.stack(images), boxes, masks


def _box_edges(masks: torch.Tensor) -> torch.Tensor:
    """``K x 4`` float32 boxes ``(x0, y0, x1, y1)`` around ``K x S x S`` non-empty 0/1 masks, in pixels:
    the engine's tight box prompts (:func:`qtt_engine.prompts.boxes_from_mask`, one mask at a
    time as masks may overlap after resizing) with ``x1, y1`` moved to the right/bottom edge (+1),
    the convention sam-nano was pretrained with."""
    boxes = [boxes_from_mask(mask.numpy().astype(np.uint8)).boxes for mask in masks]
    box = torch.from_numpy(np.concatenate(boxes) if boxes else np.zeros((0, 4), np.float32))
    box[:, 2:] += 1  # inclusive pixel index -> right/bottom edge
    return box


# ---------------------------------------------------------------- loss


def _mask_losses(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-mask loss and IoU.

    Args:
        logits: ``K x M x L x L`` mask logits; target: ``K x 1 x L x L`` in [0, 1] (soft at thin edges).

    Returns:
        loss ``K x M``: the engine's ``bce_dice`` of each output alone (every pixel valid), so that
        the best multimask output can be picked; iou ``K x M``: of the outputs thresholded at 0
        against the soft target (no gradient; the IoU head's regression target).
    """
    valid = torch.ones_like(target[0, 0])
    loss = torch.stack([torch.stack([mask_loss("bce_dice", output[None], target[k], valid) for output in outputs])
                        for k, outputs in enumerate(logits)])
    return loss, _reached_iou(logits.detach(), target)


def _reached_iou(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``K x M`` IoU of ``K x M x L x L`` logits thresholded at 0 against ``K x 1 x L x L`` targets in [0, 1].

    Not :class:`qtt_engine.metrics.IoUAccumulator`: that one sums hard label maps over a split on
    the CPU; this is one value per output, on the training device, against the soft
    (area-averaged) targets the loss sees; the shipped weights were trained with it.
    """
    hard = (logits > 0).float()
    inter = (hard * target).sum((-1, -2))
    return inter / (hard.sum((-1, -2)) + target.sum((-1, -2)) - inter).clamp(min=1e-6)


def train_step_loss(sam: Sam, images: torch.Tensor, boxes: list[torch.Tensor], masks: list[torch.Tensor],
                    iou_loss_weight: float = 1.0, loss_scale: float = 0.5) -> tuple[torch.Tensor, dict[str, float]]:
    """The training loss of one batch and its parts.

    Args:
        images: ``B x 3 x S x S`` in [0, 255]; boxes: per image ``K x 4`` pixels; masks: per image ``K x S x S``.
        loss_scale: the loss is taken on ``round(S * loss_scale)`` px square masks.

    Returns:
        The scalar loss and a dict with ``single_loss``, ``multi_loss``, ``iou_mse``, ``single_iou``.
    """
    embeddings = sam.image_encoder(sam.preprocess(images))
    dense_pe = sam.prompt_encoder.get_dense_pe()
    single, multi, iou_mse, single_iou = [], [], [], []
    loss_size = round(images.shape[-1] * loss_scale)  # pixels
    for embedding, box, target in zip(embeddings, boxes, masks):
        sparse, dense = sam.prompt_encoder(points=None, boxes=box, masks=None)
        low_res, iou_pred = sam.mask_decoder.predict_masks(embedding[None], dense_pe, sparse, dense)
        logits = F.interpolate(low_res, size=(loss_size, loss_size), mode="bilinear", align_corners=False)
        target = F.interpolate(target[:, None], size=(loss_size, loss_size), mode="area")
        loss, iou = _mask_losses(logits, target)
        single.append(loss[:, 0])
        multi.append(loss[:, 1:].min(dim=1).values)
        iou_mse.append(F.mse_loss(iou_pred, iou, reduction="none").mean(1))
        single_iou.append(iou[:, 0])
    parts = {name: torch.cat(values).mean() for name, values in
             (("single_loss", single), ("multi_loss", multi), ("iou_mse", iou_mse), ("single_iou", single_iou))}
    total = parts["single_loss"] + parts["multi_loss"] + iou_loss_weight * parts["iou_mse"]
    return total, {name: float(value.detach()) for name, value in parts.items()}


# ---------------------------------------------------------------- checkpoints and export


def _save_checkpoint(out: Path, sam: Sam, optimizer: torch.optim.Optimizer, step: int, config: PretrainConfig) -> None:
    """Write ``out/last.pt``: tensors and plain data only, so that :func:`_read_checkpoint` needs no pickled objects."""
    numpy_rng = np.random.get_state(legacy=False)
    numpy_rng["state"]["key"] = torch.from_numpy(numpy_rng["state"]["key"].astype(np.int64))  # uint32 array -> tensor
    state = {
        "config": asdict(config),
        "step": step,
        "model": {name: value.cpu() for name, value in sam.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": numpy_rng,
    }
    partial = out / (CHECKPOINT_NAME + ".tmp")
    torch.save(state, partial)
    os.replace(partial, out / CHECKPOINT_NAME)


def _read_checkpoint(path: Path) -> dict:
    """The state :func:`_save_checkpoint` wrote, read with ``torch.load(weights_only=True)``.

    Raises:
        SystemExit: the file holds pickled objects (a checkpoint of an older version) or is not a pickle.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise SystemExit(f"{path} is no checkpoint of tensors and plain data, as torch.load(weights_only=True) "
                         "reads them (one of an older version?); start again with another --out") from None


def _restore_numpy_rng(state: dict) -> None:
    """Set NumPy's global RNG to a state saved by :func:`_save_checkpoint`."""
    key = state["state"]["key"].numpy().astype(np.uint32)
    np.random.set_state({**state, "state": {**state["state"], "key": key}})


def export_weights(sam: Sam, path: Path, metadata: dict[str, str] | None = None) -> int:
    """Writes ``sam``'s state_dict as fp16 safetensors (segment-anything's key names); returns bytes."""
    from safetensors.torch import save_file

    tensors = {key: value.detach().to(torch.float16).contiguous() for key, value in sam.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata or {})
    return path.stat().st_size


def _optimizer(sam: Sam, config: PretrainConfig) -> torch.optim.AdamW:
    decay = [p for n, p in sam.named_parameters() if p.ndim >= 2 and "rel_pos" not in n and "pos_embed" not in n]
    no_decay = [p for n, p in sam.named_parameters() if not (p.ndim >= 2 and "rel_pos" not in n and "pos_embed" not in n)]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.999))


# ---------------------------------------------------------------- loop


def pretrain(config: PretrainConfig, out: Path, resume: bool = False, checkpoint_every: int = 200,
             log_every: int = 20, stop_at_step: int | None = None, device: str = "cpu", loader_workers: int = 0) -> Sam:
    """Trains (or resumes training) and returns the model (on the CPU); checkpoints go to ``out/last.pt``.

    Args:
        stop_at_step: stop (after checkpointing) once this step is reached; the schedule still
            spans ``config.steps`` (used to train in chunks and by the resume test).
        device: where the model trains ("cpu", "cuda", "cuda:N"); checkpoints are device-free.
        loader_workers: processes drawing the scenes ahead of the training step (0: this
            process). The batches are the same whatever the count: each is a function of its step.
    """
    arch: SamArchitecture = get_architecture(config.model)
    out.mkdir(parents=True, exist_ok=True)
    sam = build_sam(arch, seed=config.seed).train().to(device)
    optimizer = _optimizer(sam, config)
    step = 0
    checkpoint = out / CHECKPOINT_NAME
    if resume and checkpoint.exists():
        state = _read_checkpoint(checkpoint)
        if {**asdict(PretrainConfig()), **state["config"]} != asdict(config):  # options added since: their defaults, the values they had before
            raise SystemExit(f"{checkpoint} was made with {state['config']}, not {asdict(config)}; use the same options or another --out")
        sam.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        _restore_numpy_rng(state["numpy_rng"])
        step = state["step"]
        print(f"resumed from {checkpoint} at step {step}", flush=True)
    else:
        if config.init_weights:
            sam.load_state_dict(_read_weights(Path(config.init_weights)), strict=True)
            print(f"initialised from {config.init_weights}", flush=True)
        torch.manual_seed(config.seed)
    scheduler = CosineLRScheduler(optimizer, t_initial=config.steps, lr_min=config.lr * 0.02,
                                  warmup_t=config.warmup_steps, warmup_lr_init=config.lr * 0.01, t_in_epochs=False)
    last_step = config.steps if stop_at_step is None else min(stop_at_step, config.steps)
    started = time.perf_counter()
    running: dict[str, float] = {}
    for images, boxes, masks in _batches(config, arch.image_size, step, last_step, loader_workers):
        scheduler.step_update(step)
        images, boxes, masks = images.to(device), [b.to(device) for b in boxes], [m.to(device) for m in masks]
        loss, parts = train_step_loss(sam, images, boxes, masks, config.iou_loss_weight, config.loss_scale)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(sam.parameters(), 1.0)
        optimizer.step()
        step += 1
        for name, value in parts.items():
            running[name] = running.get(name, 0.0) + value
        if step % log_every == 0 or step == last_step:
            count = log_every if step % log_every == 0 else step % log_every
            means = " ".join(f"{k}={v / count:.4f}" for k, v in running.items())
            elapsed = time.perf_counter() - started
            print(f"step {step}/{config.steps} lr={optimizer.param_groups[0]['lr']:.2e} {means} "
                  f"elapsed_s={elapsed:.0f}", flush=True)
            running = {}
        if step % checkpoint_every == 0 or step == last_step:
            _save_checkpoint(out, sam, optimizer, step, config)
    return sam.cpu().eval()


class _StepBatches(torch.utils.data.Dataset):
    """Item ``t``: the batch of step ``t`` (:func:`make_batch`), for a DataLoader's worker processes."""

    def __init__(self, config: PretrainConfig, image_size: int):
        self.config, self.image_size = config, image_size

    def __len__(self) -> int:
        return self.config.steps

    def __getitem__(self, step: int):
        return make_batch(self.config, step, self.image_size)


def _batches(config: PretrainConfig, image_size: int, first: int, last: int, workers: int):
    """The batches of steps ``first .. last - 1`` in order, drawn by ``workers`` processes (0: here)."""
    if workers <= 0:
        return (make_batch(config, step, image_size) for step in range(first, last))
    return torch.utils.data.DataLoader(
        _StepBatches(config, image_size), batch_size=None, sampler=range(first, last), num_workers=workers,
        collate_fn=_as_is, prefetch_factor=4, persistent_workers=False,
    )


def _as_is(batch):
    return batch


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The float32 state dict of an exported (fp16 safetensors) weights file."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise SystemExit(f"--init-weights {path}: no such file; give a file written by --export")
    return {name: tensor.float() for name, tensor in load_file(str(path)).items()}


def _load_checkpoint_model(out: Path) -> tuple[Sam, dict]:
    state = _read_checkpoint(out / CHECKPOINT_NAME)
    sam = build_sam(get_architecture(state["config"]["model"]), seed=None)
    sam.load_state_dict(state["model"])
    return sam.eval(), state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sam_nano.pretrain", description=__doc__.split("\n\n")[0])
    defaults = PretrainConfig()
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder (last.pt)")
    parser.add_argument("--steps", type=int, default=defaults.steps)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--prompts-per-image", type=int, default=defaults.prompts_per_image)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--warmup-steps", type=int, default=defaults.warmup_steps)
    parser.add_argument("--init-weights", default=defaults.init_weights,
                        help="start from these exported weights (a second stage) instead of random")
    parser.add_argument("--data-offset", type=int, default=defaults.data_offset,
                        help="train step t on the scenes of step t + OFFSET (a second stage's new scenes)")
    parser.add_argument("--network-share", type=float, default=defaults.network_share,
                        help="share of scenes with a whole-image membrane network")
    parser.add_argument("--tissue-share", type=float, default=defaults.tissue_share,
                        help="of the network scenes, the share drawn as an EM-like tissue of cells")
    parser.add_argument("--loss-scale", type=float, default=defaults.loss_scale,
                        help="take the loss at this fraction of the input size (1 keeps 1 px lines)")
    parser.add_argument("--model", default=defaults.model, help="architecture name (sam-tiny for tests)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt when it exists")
    parser.add_argument("--stop-at-step", type=int, default=None, help="train only up to this step (chunks)")
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (the weights are the same up to float rounding)")
    parser.add_argument("--loader-workers", type=int, default=0,
                        help="processes drawing scenes ahead of the training step (0: none; a GPU needs several)")
    parser.add_argument("--export", type=Path, default=None, help="write fp16 safetensors weights here at the end")
    parser.add_argument("--export-only", action="store_true", help="export OUT/last.pt without training")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.export_only:
        if args.export is None:
            parser.error("--export-only needs --export FILE")
        sam, state = _load_checkpoint_model(args.out)
        meta = {"config": json.dumps(state["config"]), "step": str(state["step"])}
        size = export_weights(sam, args.export, meta)
        print(f"exported step {state['step']} to {args.export} ({size / 1e6:.2f} MB)")
        return 0
    config = PretrainConfig(model=args.model, steps=args.steps, batch_size=args.batch_size,
                            prompts_per_image=args.prompts_per_image, seed=args.seed, lr=args.lr,
                            warmup_steps=args.warmup_steps, init_weights=args.init_weights,
                            data_offset=args.data_offset, network_share=args.network_share,
                            tissue_share=args.tissue_share, loss_scale=args.loss_scale)
    print(f"pretraining {json.dumps(asdict(config))} threads={args.threads} device={args.device}", flush=True)
    started = time.perf_counter()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: torch sees no CUDA device here; use --device cpu")
    sam = pretrain(config, args.out, resume=args.resume, checkpoint_every=args.checkpoint_every,
                   stop_at_step=args.stop_at_step, device=args.device, loader_workers=args.loader_workers)
    print(f"done in {time.perf_counter() - started:.0f} s", flush=True)
    if args.export is not None:
        _, state = _load_checkpoint_model(args.out)
        size = export_weights(sam, args.export, {"config": json.dumps(asdict(config)), "step": str(state["step"])})
        print(f"exported to {args.export} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
