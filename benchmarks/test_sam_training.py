"""Training throughput of the SAM engine: epochs and steps, cached against uncached embeddings,
with box prompts and without (``none-*``: the class head), against a reference-style loop (batch size 1, every image embedded anew for every sample and
epoch, as the published QTT-SEG trainer does), each in every precision.

CPU (one torch thread): ``sam-tiny`` at its native 128 px, fp32 and bf16, about half a minute.
CUDA (marked ``cuda``, skipped without a GPU; default torch threads): ``sam-vit-b`` at 1024 px
with random weights (throughput does not depend on the weights; no download), fp32, bf16 and
fp16 (with its loss scaler).

    pytest benchmarks/test_sam_training.py --benchmark-columns=mean,stddev,rounds
    pytest benchmarks/test_sam_training.py -m cuda --benchmark-json=sam.json   # GPU cases only

Each precision of each setting is one benchmark group ("sam-tiny cpu bf16 8 images") holding
the engine's variants (:data:`reference.VARIANTS`) and the reference loop in that precision.
``extra_info``: ``images_per_s``, ``precision``, ``variant``, ``model``, ``device``,
``n_images``, and on CUDA ``peak_gpu_memory_mb`` (see :func:`cases.measure`).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cases import Setting, autocast, engine_cases, grad_scaler, measure, reference_cases
from random_weights import RandomSamWrapper
from reference import VARIANTS, engine_epoch, reference_update, shapes_data

STEP_VARIANTS = ("bs4-uncached", "bs4-cached", "lora-bs4")
SETTINGS = [
    Setting("sam-tiny", "cpu", n_images=8, rounds=5, variants=tuple(VARIANTS)),
    Setting("sam-tiny", "cpu", n_images=4, rounds=10, variants=STEP_VARIANTS),  # one optimiser step of 4 images
    Setting("sam-vit-b", "cuda", n_images=16, rounds=3, variants=tuple(VARIANTS)),
]


@pytest.mark.parametrize(("setting", "precision", "variant"), engine_cases(SETTINGS))
def test_engine_epoch(benchmark, setting, precision, variant):
    """An epoch of the engine (with 4 images and batch size 4: one optimiser step)."""
    epoch = engine_epoch(RandomSamWrapper(setting.model), setting.device, precision, variant, setting.n_images)
    measure(benchmark, epoch, setting, precision, variant)


def _reference_epoch(model: str, device: str, precision: str, n_images: int):
    """The published trainer's way, with plain segment-anything calls: one image per step,
    its embedding computed anew every time, one box from its mask, BCE + dice on the decoder;
    forward passes under the precision's autocast, fp16 with a loss scaler."""
    wrapper = RandomSamWrapper(model)
    split = shapes_data(wrapper.input_size, n_images).split("train")
    samples = [(split.image(i), split.mask(i)) for i in range(len(split))]
    sam = wrapper.build().to(device)
    sam.requires_grad_(False)
    sam.mask_decoder.requires_grad_(True)
    optimizer = torch.optim.AdamW(sam.mask_decoder.parameters(), lr=1e-4)
    scaler = grad_scaler(device, precision)

    def epoch():
        for image, mask in samples:
            pixels = torch.from_numpy(image).permute(2, 0, 1)[None].float().to(device)
            ys, xs = np.nonzero(mask)
            box = torch.tensor([[xs.min(), ys.min(), xs.max(), ys.max()]], dtype=torch.float32, device=device)
            with autocast(device, precision):
                with torch.no_grad():
                    embedding = sam.image_encoder(sam.preprocess(pixels))
                sparse, dense = sam.prompt_encoder(points=None, boxes=box, masks=None)
                low, _ = sam.mask_decoder(embedding, sam.prompt_encoder.get_dense_pe(), sparse, dense, multimask_output=False)
            reference_update(optimizer, low, mask, device, scaler)

    epoch()  # warm-up
    return epoch


@pytest.mark.parametrize(("setting", "precision"), reference_cases(SETTINGS))
def test_reference_loop_epoch(benchmark, setting, precision):
    """The reference-style loop, written with segment-anything alone (compare with the engine)."""
    epoch = _reference_epoch(setting.model, setting.device, precision, setting.n_images)
    measure(benchmark, epoch, setting, precision, "segment-anything reference loop")
