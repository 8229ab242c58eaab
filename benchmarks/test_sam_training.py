"""Training throughput of the SAM engine: epochs and steps, cached against uncached embeddings,
against a reference-style loop (batch size 1, every image embedded anew for every sample and
epoch, as the published QTT-SEG trainer does).

CPU: ``sam-tiny`` at its native 128 px. CUDA (skipped without a GPU): ``sam-vit-b`` at 1024 px
with random weights (throughput does not depend on the weights; no download needed).

    pytest benchmarks/test_sam_training.py --benchmark-columns=mean,stddev,rounds

Each benchmark stores ``images_per_s`` in its ``extra_info``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import VARIANTS, reference_update

from qtt_core.testing import make_shapes_data
from qtt_sam.architectures import build_sam
from qtt_sam.engine import EngineContext, TrainConfig, build_trial, train_epoch
from qtt_sam.engine.cache import EmbeddingCache, SampleStore
from qtt_sam.wrapper import SamWrapper



class _RandomWeights(SamWrapper):
    """A SAM wrapper with seeded random weights (for timing only)."""

    def build(self):
        return build_sam(self.arch, seed=0).eval()


def _setup(model: str, device: str, config: dict, cached: bool, n_images: int):
    torch.set_num_threads(max(1, torch.get_num_threads()) if device == "cuda" else 1)
    wrapper = _RandomWeights(model)
    side = wrapper.input_size
    data = make_shapes_data(n_train=n_images, n_val=1, n_test=1, size=(side, side), seed=0)
    base = wrapper.build().to(device)
    base.requires_grad_(False)
    cache = EmbeddingCache(8 * 2**30 if cached else 0)
    context = EngineContext(wrapper, SampleStore(data), cache, torch.device(device), num_classes=1)
    settings = TrainConfig.from_mapping(config, wrapper.part_defaults)
    trial = build_trial(wrapper, base, settings, max_epochs=100, steps_per_epoch=1, seed=0)
    trial.model.to(device)
    train_epoch(context, trial, None)  # warm-up (fills the cache when caching)
    return context, trial


def _run(benchmark, model: str, device: str, variant: str, n_images: int, rounds: int):
    config, cached = VARIANTS[variant]
    context, trial = _setup(model, device, config, cached, n_images)

    def epoch():
        train_epoch(context, trial, None)
        if device == "cuda":
            torch.cuda.synchronize()

    benchmark.group = f"{model} {device} {n_images} images"
    benchmark.pedantic(epoch, rounds=rounds, iterations=1, warmup_rounds=0)
    benchmark.extra_info["images_per_s"] = n_images / benchmark.stats.stats.mean
    benchmark.extra_info["variant"] = variant


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_sam_tiny_cpu_epoch(benchmark, variant):
    """An epoch of 8 images of 128 px (sam-tiny's native size) on one CPU thread."""
    _run(benchmark, "sam-tiny", "cpu", variant, n_images=8, rounds=5)


def _reference_setup(model: str, device: str, n_images: int):
    """The published trainer's way, with plain segment-anything calls: one image per step,
    its embedding computed anew every time, one box from its mask, BCE + dice on the decoder."""
    torch.set_num_threads(1) if device == "cpu" else None
    wrapper = _RandomWeights(model)
    side = wrapper.input_size
    data = make_shapes_data(n_train=n_images, n_val=1, n_test=1, size=(side, side), seed=0)
    sam = wrapper.build().to(device)
    sam.requires_grad_(False)
    sam.mask_decoder.requires_grad_(True)
    optimizer = torch.optim.AdamW(sam.mask_decoder.parameters(), lr=1e-4)
    split = data.split("train")
    samples = [(split.image(i), split.mask(i)) for i in range(len(split))]

    def epoch():
        for image, mask in samples:
            pixels = torch.from_numpy(image).permute(2, 0, 1)[None].float().to(device)
            with torch.no_grad():
                embedding = sam.image_encoder(sam.preprocess(pixels))
            ys, xs = np.nonzero(mask)
            box = torch.tensor([[xs.min(), ys.min(), xs.max(), ys.max()]], dtype=torch.float32, device=device)
            sparse, dense = sam.prompt_encoder(points=None, boxes=box, masks=None)
            low, _ = sam.mask_decoder(embedding, sam.prompt_encoder.get_dense_pe(), sparse, dense, multimask_output=False)
            reference_update(optimizer, low, mask, device)
        if device == "cuda":
            torch.cuda.synchronize()

    epoch()  # warm-up
    return epoch


@pytest.mark.parametrize(("model", "device", "n_images", "rounds"), [
    ("sam-tiny", "cpu", 8, 5),
    pytest.param("sam-vit-b", "cuda", 16, 3, marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")),
])
def test_reference_loop_epoch(benchmark, model, device, n_images, rounds):
    """The reference-style loop, written with segment-anything alone (compare with the engine)."""
    epoch = _reference_setup(model, device, n_images)
    benchmark.group = f"{model} {device} {n_images} images"
    benchmark.pedantic(epoch, rounds=rounds, iterations=1, warmup_rounds=0)
    benchmark.extra_info["images_per_s"] = n_images / benchmark.stats.stats.mean
    benchmark.extra_info["variant"] = "segment-anything reference loop"


@pytest.mark.parametrize("variant", ["bs4-uncached", "bs4-cached", "lora-bs4"])
def test_sam_tiny_cpu_step(benchmark, variant):
    """One optimiser step: an epoch of exactly one batch of 4 images."""
    _run(benchmark, "sam-tiny", "cpu", variant, n_images=4, rounds=10)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("variant", ["reference-bs1-uncached", "bs4-uncached", "bs4-cached", "lora-bs4"])
def test_sam_vit_b_cuda_epoch(benchmark, variant):
    """An epoch of 16 images of 1024 px with sam-vit-b (bf16 autocast)."""
    _run(benchmark, "sam-vit-b", "cuda", variant, n_images=16, rounds=3)
