"""Training throughput of SAM 2 through the qtt_sam engine, against a reference-style loop
written with the ``sam2`` package alone (batch size 1, every image embedded anew for every
sample and epoch, as the published QTT-SEG trainer does).

CPU: ``sam2-test`` at its native 256 px. CUDA (skipped without a GPU): ``sam2.1-hiera-tiny``
at 1024 px with random weights (throughput does not depend on the weights; no download).

    pytest benchmarks/test_sam2_training.py --benchmark-columns=mean,stddev,rounds

Each benchmark stores ``images_per_s`` in its ``extra_info``.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import require_sam2
import torch
from reference import VARIANTS, reference_update

require_sam2()

from qtt_core.testing import make_shapes_data  # noqa: E402
from qtt_sam.engine import EngineContext, TrainConfig, build_trial, train_epoch  # noqa: E402
from qtt_sam.engine.cache import EmbeddingCache, SampleStore  # noqa: E402
from qtt_sam2.wrapper import Sam2Wrapper, build_sam2_model  # noqa: E402

_CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class _RandomWeights(Sam2Wrapper):
    """A SAM 2 wrapper with seeded random weights (for timing only)."""

    def build(self):
        return build_sam2_model(self.arch, seed=0).eval()


def _threads(device: str) -> None:
    if device == "cpu":
        torch.set_num_threads(1)


def _engine_epoch(model: str, device: str, variant: str, n_images: int):
    _threads(device)
    config, cached = VARIANTS[variant]
    wrapper = _RandomWeights(model)
    side = wrapper.input_size
    data = make_shapes_data(n_train=n_images, n_val=1, n_test=1, size=(side, side), seed=0)
    base = wrapper.build().to(device)
    base.requires_grad_(False)
    context = EngineContext(wrapper, SampleStore(data), EmbeddingCache(8 * 2**30 if cached else 0), torch.device(device), num_classes=1)
    trial = build_trial(wrapper, base, TrainConfig.from_mapping(config, wrapper.part_defaults), max_epochs=100, steps_per_epoch=1, seed=0)
    trial.model.to(device)
    train_epoch(context, trial, None)  # warm-up (fills the cache when caching)

    def epoch():
        train_epoch(context, trial, None)
        if device == "cuda":
            torch.cuda.synchronize()

    return epoch


def _reference_epoch(model: str, device: str, n_images: int):
    """The published trainer's way with plain sam2 calls: one image per step, embedded anew
    (``forward_image`` as ``SAM2ImagePredictor.set_image``), one box as corner points 2/3,
    BCE + dice on the mask decoder."""
    _threads(device)
    wrapper = _RandomWeights(model)
    side = wrapper.input_size
    data = make_shapes_data(n_train=n_images, n_val=1, n_test=1, size=(side, side), seed=0)
    sam = wrapper.build().to(device)
    sam.requires_grad_(False)
    sam.sam_mask_decoder.requires_grad_(True)
    optimizer = torch.optim.AdamW(sam.sam_mask_decoder.parameters(), lr=1e-4)
    split = data.split("train")
    samples = [(split.image(i), split.mask(i)) for i in range(len(split))]
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    grid = side // 16

    def epoch():
        for image, mask in samples:
            pixels = (torch.from_numpy(image).permute(2, 0, 1)[None].float().to(device) / 255 - mean) / std
            with torch.no_grad():
                _, feats, _, _ = sam._prepare_backbone_features(sam.image_encoder(pixels))
            feats[-1] = feats[-1] + sam.no_mem_embed
            sizes = [(side // 4, side // 4), (side // 8, side // 8), (grid, grid)]
            maps = [f.permute(1, 2, 0).reshape(1, -1, *s) for f, s in zip(feats, sizes, strict=True)]
            high_res = [sam.sam_mask_decoder.conv_s0(maps[0]), sam.sam_mask_decoder.conv_s1(maps[1])]
            ys, xs = np.nonzero(mask)
            corners = torch.tensor([[[xs.min(), ys.min()], [xs.max(), ys.max()]]], dtype=torch.float32, device=device)
            sparse, dense = sam.sam_prompt_encoder(points=(corners, torch.tensor([[2, 3]], device=device)), boxes=None, masks=None)
            low, _, _, _ = sam.sam_mask_decoder(
                image_embeddings=maps[2], image_pe=sam.sam_prompt_encoder.get_dense_pe(), sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense, multimask_output=False, repeat_image=False, high_res_features=high_res,
            )
            reference_update(optimizer, low, mask, device)
        if device == "cuda":
            torch.cuda.synchronize()

    epoch()  # warm-up
    return epoch


def _measure(benchmark, epoch, group: str, variant: str, n_images: int, rounds: int) -> None:
    benchmark.group = group
    benchmark.pedantic(epoch, rounds=rounds, iterations=1, warmup_rounds=0)
    benchmark.extra_info["images_per_s"] = n_images / benchmark.stats.stats.mean
    benchmark.extra_info["variant"] = variant


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_sam2_test_cpu_epoch(benchmark, variant):
    """An epoch of 8 images of 256 px (sam2-test's native size) on one CPU thread."""
    _measure(benchmark, _engine_epoch("sam2-test", "cpu", variant, 8), "sam2-test cpu 8 images", variant, 8, 3)


@pytest.mark.parametrize(("model", "device", "n_images", "rounds"), [
    ("sam2-test", "cpu", 8, 3),
    pytest.param("sam2.1-hiera-tiny", "cuda", 16, 3, marks=_CUDA),
])
def test_reference_loop_epoch(benchmark, model, device, n_images, rounds):
    """The reference-style loop, written with the sam2 package alone (compare with the engine)."""
    epoch = _reference_epoch(model, device, n_images)
    _measure(benchmark, epoch, f"{model} {device} {n_images} images", "sam2 reference loop", n_images, rounds)


@_CUDA
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_hiera_tiny_cuda_epoch(benchmark, variant):
    """An epoch of 16 images of 1024 px with sam2.1-hiera-tiny (bf16 autocast)."""
    _measure(benchmark, _engine_epoch("sam2.1-hiera-tiny", "cuda", variant, 16), "sam2.1-hiera-tiny cuda 16 images", variant, 16, 3)
