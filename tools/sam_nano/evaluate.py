"""Zero-shot quality check of ``sam-nano`` on the real sets, against filling the prompt box.

    python -m tools.sam_nano.evaluate --weights plugins/qtt_sam/assets/sam_nano.safetensors \
        [--data-root ../shared/data/real] [--limit 50] [--json results.json]

(from the repository root of a checkout; the tools are not installed with qtt-seg).

For every image the ground-truth boxes are prompts (the engine's tight boxes,
:func:`qtt_engine.prompts.boxes_from_mask`, with ``x1, y1`` at the right/bottom edge as in
pretraining), in two ways:
- ``per-mask``: one box around the whole foreground, scored against the whole mask;
- ``per-component``: one box per connected component (8-connected, at least 0.1 % of the
  image), each scored against its component.
sam-nano sees the image resized to 256 x 256 (plain bilinear resize, aspect ratio not kept, as
the tuning engine does). Two of its outputs are scored, each upsampled back to the mask's size
and thresholded at logit 0:
- ``single``: the single-mask output (``multimask_output=False``), what ``tune`` evaluates and
  fine-tunes;
- ``multimask``: of the three ambiguity-aware outputs (``multimask_output=True``), the one with
  the highest IoU predicted by the model's own IoU head (segment-anything's way of answering an
  ambiguous prompt, as ``SamPredictor`` does by default; no ground truth is used to choose).
The baseline fills the prompt box. Scores are IoUs (:class:`qtt_engine.metrics.IoUAccumulator`
of each prompt alone) averaged over prompts.

The real sets are read by a tiny PIL reader, with each set's documented mask encoding:
isbi2012_membrane (membranes are the dark label value: foreground = label < 128),
kvasir_seg_sample (JPEG masks, grey >= 128), weizmann_horse (rgb/ images resized to the size
of their figure_ground/ masks, grey >= 128).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from segment_anything.modeling import Sam

from qtt_core.errors import UsageError
from qtt_engine.metrics import IoUAccumulator
from qtt_engine.prompts import boxes_from_mask
from qtt_sam.architectures import build_sam, get_architecture

__all__ = ["SetScore", "component_boxes", "evaluate_set", "load_nano", "mask_boxes", "read_real_set", "REAL_SETS"]

INPUT_SIDE = 256  # pixels: sam-nano's native input
MIN_COMPONENT_FRACTION = 0.001  # components smaller than this share of the image are not prompted


@dataclass(frozen=True)
class SetScore:
    """Mean IoUs of one set and prompt mode (IoUs in [0, 1]): single-mask and best-predicted
    multimask output of the model, and filling the box."""

    dataset: str
    mode: str
    images: int
    prompts: int
    zero_shot_iou: float
    multimask_iou: float
    box_fill_iou: float

    @property
    def beats_box_fill(self) -> bool:
        """The single-mask output beats filling the box."""
        return self.zero_shot_iou > self.box_fill_iou

    @property
    def multimask_beats_box_fill(self) -> bool:
        return self.multimask_iou > self.box_fill_iou


# ---------------------------------------------------------------- reading the real sets


def _grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def _membrane(root: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    folder = root / "isbi2012_membrane" / "data" / "membrane" / "train"
    for image_path in sorted((folder / "image").glob("*.png"), key=lambda p: int(p.stem) if p.stem.isdigit() else p.stem):
        image = np.asarray(Image.open(image_path).convert("RGB"))
        yield image_path.name, image, _grey(folder / "label" / image_path.name) < 128  # membranes are 0


def _kvasir(root: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    folder = root / "kvasir_seg_sample" / "Kvasir-SEG"
    for image_path in sorted((folder / "images").glob("*.jpg")):
        image = np.asarray(Image.open(image_path).convert("RGB"))
        yield image_path.name, image, _grey(folder / "masks" / image_path.name) >= 128


def _horse(root: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    folder = root / "weizmann_horse" / "weizmann_horse_db"
    for image_path in sorted((folder / "rgb").glob("*.jpg")):
        mask = _grey(folder / "figure_ground" / image_path.name) >= 128
        image = Image.open(image_path).convert("RGB").resize(mask.shape[::-1], Image.BILINEAR)
        yield image_path.name, np.asarray(image), mask


REAL_SETS = {"isbi2012_membrane": _membrane, "kvasir_seg_sample": _kvasir, "weizmann_horse": _horse}


def read_real_set(root: Path, name: str) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Yields ``(file name, H x W x 3 uint8 image, H x W bool mask)`` of the real set ``name``."""
    return REAL_SETS[name](root)


# ---------------------------------------------------------------- prompts and scores


def _prompts(mask: np.ndarray, per_component: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """The engine's box prompts of an ``H x W`` bool mask as ``K x 4`` boxes ``(x0, y0, x1, y1)``
    (pixels, x1/y1 exclusive) and ``K`` ``H x W`` bool targets."""
    prompts = boxes_from_mask(np.asarray(mask, bool).view(np.uint8), per_component)
    boxes = prompts.boxes.copy()
    boxes[:, 2:] += 1  # inclusive pixel index -> right/bottom edge
    return boxes, list(prompts.targets)


def mask_boxes(mask: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """One box ``1 x 4`` ``(x0, y0, x1, y1)`` (pixels, x1/y1 exclusive) around all of ``mask``."""
    return _prompts(mask, per_component=False)


def component_boxes(mask: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Boxes ``K x 4`` (pixels) and masks of the 8-connected components of ``mask`` (small ones dropped)."""
    boxes, parts = _prompts(mask, per_component=True)
    keep = [k for k, part in enumerate(parts) if part.sum() >= MIN_COMPONENT_FRACTION * mask.size]
    return boxes[keep], [parts[k] for k in keep]


def _iou(pred: np.ndarray, target: np.ndarray) -> float:
    """IoU of two ``H x W`` bool masks (1.0 when both are empty)."""
    accumulator = IoUAccumulator(num_classes=1)
    accumulator.update(np.asarray(pred, bool).view(np.uint8), np.asarray(target, bool).view(np.uint8))
    return accumulator.score()


def _box_fill(box: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    fill = np.zeros(shape, bool)
    x0, y0, x1, y1 = box.astype(int)
    fill[y0:y1, x0:x1] = True
    return fill


@torch.no_grad()
def predict_masks(sam: Sam, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-mask and best-predicted multimask masks for ``K x 4`` boxes (pixels of ``image``,
    ``H x W x 3`` uint8), from one pass of the image encoder.

    Returns:
        Two ``K x H x W`` bool arrays: the single-mask output, and per box the one of the three
        multimask outputs with the highest predicted IoU.
    """
    height, width = image.shape[:2]
    resized = np.asarray(Image.fromarray(image).resize((INPUT_SIDE, INPUT_SIDE), Image.BILINEAR))
    pixels = torch.from_numpy(np.array(resized)).permute(2, 0, 1).float()[None]
    embedding = sam.image_encoder(sam.preprocess(pixels))
    scale = torch.tensor([INPUT_SIDE / width, INPUT_SIDE / height] * 2)
    sparse, dense = sam.prompt_encoder(points=None, boxes=torch.from_numpy(boxes) * scale, masks=None)

    def decode(multimask: bool) -> np.ndarray:
        low_res, predicted_iou = sam.mask_decoder(image_embeddings=embedding, image_pe=sam.prompt_encoder.get_dense_pe(),
                                                  sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                                  multimask_output=multimask)
        if multimask:  # K x 3 x h x w, predicted IoUs K x 3
            low_res = low_res[torch.arange(len(low_res)), predicted_iou.argmax(dim=1)].unsqueeze(1)
        logits = F.interpolate(low_res, size=(height, width), mode="bilinear", align_corners=False)
        return (logits[:, 0] > 0).numpy()

    best = decode(multimask=True)
    return decode(multimask=False), best


def evaluate_set(sam: Sam, root: Path, name: str, limit: int | None = None) -> list[SetScore]:
    """Zero-shot and box-fill IoU of the set ``name`` in both prompt modes (``limit``: first N images)."""
    scores: dict[str, tuple[list[float], list[float], list[float]]] = {"per-mask": ([], [], []), "per-component": ([], [], [])}
    images = 0
    for index, (_, image, mask) in enumerate(read_real_set(root, name)):
        if limit is not None and index >= limit:
            break
        if not mask.any():
            continue
        images += 1
        prompts = [(mode, box, target) for mode, make in (("per-mask", mask_boxes), ("per-component", component_boxes))
                   for box, target in zip(*make(mask))]  # fmt: skip
        single, multi = predict_masks(sam, image, np.stack([box for _, box, _ in prompts]))  # one encoder pass per image
        for (mode, box, target), one, best in zip(prompts, single, multi):
            scores[mode][0].append(_iou(one, target))
            scores[mode][1].append(_iou(best, target))
            scores[mode][2].append(_iou(_box_fill(box, mask.shape), target))
    return [SetScore(name, mode, images, len(zero), float(np.mean(zero)), float(np.mean(multi)), float(np.mean(fill)))
            for mode, (zero, multi, fill) in scores.items() if zero]


def load_nano(weights: Path) -> Sam:
    """sam-nano with the weights of ``weights`` (safetensors, any float dtype), float32, eval mode."""
    from safetensors.torch import load_file

    if not weights.is_file():
        raise UsageError(f"weights file {weights} does not exist; pass --weights with a sam-nano .safetensors file")
    sam = build_sam(get_architecture("sam-nano"), seed=None)
    state = {key: value.float() for key, value in load_file(str(weights)).items()}
    sam.load_state_dict(state, strict=True)
    return sam.eval()


def _default_data_root() -> Path:
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sam_nano.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--data-root", type=Path, default=_default_data_root())
    parser.add_argument("--limit", type=int, default=None, help="first N images of each set")
    parser.add_argument("--sets", nargs="*", default=list(REAL_SETS), choices=list(REAL_SETS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the scores here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        sam = load_nano(args.weights)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.data_root.is_dir():
        print(f"error: data root {args.data_root} does not exist; pass --data-root", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = []
    print(f"{'set':20} {'mode':14} {'images':>6} {'prompts':>7} {'single':>7} {'multimask':>9} {'box-fill':>8}  beats (single, multimask)")
    for name in args.sets:
        for score in evaluate_set(sam, args.data_root, name, args.limit):
            results.append(score)
            print(f"{score.dataset:20} {score.mode:14} {score.images:6d} {score.prompts:7d} "
                  f"{score.zero_shot_iou:7.3f} {score.multimask_iou:9.3f} {score.box_fill_iou:8.3f}  "
                  f"{'yes' if score.beats_box_fill else 'NO'}, {'yes' if score.multimask_beats_box_fill else 'NO'}",
                  flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(s) | {"beats_box_fill": s.beats_box_fill, "multimask_beats_box_fill": s.multimask_beats_box_fill}
                                         for s in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
