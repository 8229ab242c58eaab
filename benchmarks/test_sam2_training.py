"""Training throughput of SAM 2 through the qtt_sam engine, against a reference-style loop
written with the ``sam2`` package alone (batch size 1, every image embedded anew for every
sample and epoch, as the published QTT-SEG trainer does), each in every precision.

CPU (one torch thread): ``sam2-test`` at its native 256 px, fp32 and bf16, about a minute.
CUDA (marked ``cuda``, skipped without a GPU; default torch threads): ``sam2.1-hiera-tiny`` at
1024 px with random weights (throughput does not depend on the weights; no download), fp32,
bf16 and fp16 (with its loss scaler). The whole module skips without the ``sam2`` package.

    pytest benchmarks/test_sam2_training.py --benchmark-columns=mean,stddev,rounds
    pytest benchmarks/test_sam2_training.py -m cuda --benchmark-json=sam2.json   # GPU cases only

Each precision of each setting is one benchmark group ("sam2-test cpu bf16 8 images") holding
the engine's variants (:data:`reference.VARIANTS`) and the reference loop in that precision.
``extra_info``: ``images_per_s``, ``precision``, ``variant``, ``model``, ``device``,
``n_images``, and on CUDA ``peak_gpu_memory_mb`` (see :func:`cases.measure`).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cases import Setting, autocast, engine_cases, grad_scaler, measure, reference_cases
from helpers import require_sam2
from reference import VARIANTS, engine_epoch, reference_update, shapes_data

require_sam2()

from random_weights import RandomSam2Wrapper  # noqa: E402

SETTINGS = [
    Setting("sam2-test", "cpu", n_images=8, rounds=3, variants=tuple(VARIANTS)),
    Setting("sam2.1-hiera-tiny", "cuda", n_images=16, rounds=3, variants=tuple(VARIANTS)),
]


@pytest.mark.parametrize(("setting", "precision", "variant"), engine_cases(SETTINGS))
def test_engine_epoch(benchmark, setting, precision, variant):
    """An epoch of the engine with SAM 2."""
    epoch = engine_epoch(RandomSam2Wrapper(setting.model), setting.device, precision, variant, setting.n_images)
    measure(benchmark, epoch, setting, precision, variant)


def _reference_epoch(model: str, device: str, precision: str, n_images: int):
    """The published trainer's way with plain sam2 calls: one image per step, embedded anew
    (``forward_image`` as ``SAM2ImagePredictor.set_image``), one box as corner points 2/3,
    BCE + dice on the mask decoder; forward passes under the precision's autocast, fp16 with
    a loss scaler."""
    wrapper = RandomSam2Wrapper(model)
    side = wrapper.input_size
    split = shapes_data(side, n_images).split("train")
    samples = [(split.image(i), split.mask(i)) for i in range(len(split))]
    sam = wrapper.build().to(device)
    sam.requires_grad_(False)
    sam.sam_mask_decoder.requires_grad_(True)
    optimizer = torch.optim.AdamW(sam.sam_mask_decoder.parameters(), lr=1e-4)
    scaler = grad_scaler(device, precision)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)
    sizes = [(side // 4, side // 4), (side // 8, side // 8), (side // 16, side // 16)]

    def epoch():
        for image, mask in samples:
            pixels = (torch.from_numpy(image).permute(2, 0, 1)[None].float().to(device) / 255 - mean) / std
            ys, xs = np.nonzero(mask)
            corners = torch.tensor([[[xs.min(), ys.min()], [xs.max(), ys.max()]]], dtype=torch.float32, device=device)
            with autocast(device, precision):
                with torch.no_grad():
                    _, feats, _, _ = sam._prepare_backbone_features(sam.image_encoder(pixels))
                feats[-1] = feats[-1] + sam.no_mem_embed
                maps = [f.permute(1, 2, 0).reshape(1, -1, *s) for f, s in zip(feats, sizes, strict=True)]
                high_res = [sam.sam_mask_decoder.conv_s0(maps[0]), sam.sam_mask_decoder.conv_s1(maps[1])]
                sparse, dense = sam.sam_prompt_encoder(points=(corners, torch.tensor([[2, 3]], device=device)), boxes=None, masks=None)
                low, _, _, _ = sam.sam_mask_decoder(
                    image_embeddings=maps[2], image_pe=sam.sam_prompt_encoder.get_dense_pe(), sparse_prompt_embeddings=sparse,
                    dense_prompt_embeddings=dense, multimask_output=False, repeat_image=False, high_res_features=high_res,
                )
            reference_update(optimizer, low, mask, device, scaler)

    epoch()  # warm-up
    return epoch


@pytest.mark.parametrize(("setting", "precision"), reference_cases(SETTINGS))
def test_reference_loop_epoch(benchmark, setting, precision):
    """The reference-style loop, written with the sam2 package alone (compare with the engine)."""
    epoch = _reference_epoch(setting.model, setting.device, precision, setting.n_images)
    measure(benchmark, epoch, setting, precision, "sam2 reference loop")
