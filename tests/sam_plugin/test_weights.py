"""Weights: the official layout, mismatches, sam-nano's shipped file; resolution scaling."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

import qtt_sam.weights
from qtt_core.adapter import SessionRequest
from qtt_core.errors import UsageError
from qtt_sam import SamAdapter
from qtt_sam.architectures import build_sam, get_architecture
from qtt_engine.loop import input_side
from qtt_sam.wrapper import SamWrapper


def test_official_layout_state_dict_loads_through_the_checkpoint_path(tmp_path, shapes):
    official = build_sam(get_architecture("sam-tiny"), seed=7)
    path = tmp_path / "sam_tiny_official.pth"
    torch.save(official.state_dict(), path)  # what segment-anything's checkpoints hold
    loaded = SamWrapper("sam-tiny", checkpoint=path).build()
    for name, value in official.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    assert not torch.equal(SamWrapper("sam-tiny").build().mask_decoder.iou_token.weight, official.mask_decoder.iou_token.weight)
    session = SamAdapter().open_session(SessionRequest(model="sam-tiny", data=shapes, checkpoint=path))
    assert 0.0 <= session.zero_shot_score("val") <= 1.0
    session.close()


def test_checkpoint_that_does_not_fit_names_missing_and_unexpected_keys(tmp_path):
    state = build_sam(get_architecture("sam-tiny")).state_dict()
    del state["mask_decoder.iou_token.weight"]
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(UsageError, match=r"missing keys \[mask_decoder\.iou_token\.weight\].*unexpected keys \[extra\.weight\]"):
        SamWrapper("sam-tiny", checkpoint=path).build()


def test_checkpoint_of_another_size_names_the_shapes(tmp_path):
    state = build_sam(get_architecture("sam-tiny")).state_dict()
    state["mask_decoder.iou_token.weight"] = torch.zeros(1, 32)
    path = tmp_path / "narrow.pth"
    torch.save(state, path)
    with pytest.raises(UsageError, match=r"shapes differ for \[mask_decoder\.iou_token\.weight \(1, 32\) != \(1, 64\)\]"):
        SamWrapper("sam-tiny", checkpoint=path).build()


def test_missing_local_checkpoint_names_the_path(tmp_path):
    with pytest.raises(UsageError, match="nope.pth does not exist"):
        SamWrapper("sam-tiny", checkpoint=tmp_path / "nope.pth").build()


def test_sam_nano_loads_its_fp16_safetensors_from_the_weights_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(qtt_sam.weights, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(UsageError, match=r"sam_nano\.safetensors are missing; create them from a checkout of qtt-seg with 'python -m tools\.sam_nano\.pretrain"):
        SamWrapper("sam-nano").build()
    trained = build_sam(get_architecture("sam-nano"), seed=3)
    save_file({k: v.half().contiguous() for k, v in trained.state_dict().items()}, str(tmp_path / "sam_nano.safetensors"))
    loaded = SamWrapper("sam-nano").build()
    weight = loaded.image_encoder.patch_embed.proj.weight
    assert weight.dtype == torch.float32
    assert torch.equal(weight, trained.image_encoder.patch_embed.proj.weight.half().float())


@pytest.mark.parametrize(("scale", "grid"), [(0.5, 4), (0.75, 6), (1.0, 8)])
def test_encoder_works_at_smaller_resolutions(scale, grid):
    wrapper = SamWrapper("sam-tiny")
    sam = wrapper.build()
    side = input_side(wrapper, scale)
    assert side == 16 * grid
    with torch.no_grad():
        embedding = wrapper.embed(sam, torch.rand(1, 3, side, side) * 255)[0]
        logits = wrapper.decode(sam, [embedding], [torch.tensor([[2.0, 3.0, side - 5.0, side - 9.0]])], side)[0]
    assert embedding.shape == (64, grid, grid) and logits.shape == (1, 4 * grid, 4 * grid)
    assert torch.isfinite(logits).all()


def test_native_resolution_embedding_equals_segment_anything_forward():
    wrapper = SamWrapper("sam-tiny")
    sam = wrapper.build()
    images = torch.rand(2, 3, 128, 128) * 255
    with torch.no_grad():
        ours = torch.stack(wrapper.embed(sam, images))
        theirs = sam.image_encoder((images - sam.pixel_mean) / sam.pixel_std)
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_batched_decode_equals_segment_anything_per_image():
    wrapper = SamWrapper("sam-tiny")
    sam = wrapper.build()
    boxes = [torch.tensor([[10.0, 12.0, 90.0, 70.0], [0.0, 0.0, 127.0, 127.0]]), torch.tensor([[30.0, 40.0, 60.0, 100.0]])]
    with torch.no_grad():
        embeddings = wrapper.embed(sam, torch.rand(2, 3, 128, 128) * 255)
        ours = wrapper.decode(sam, embeddings, boxes, 128)
        for embedding, image_boxes, logits in zip(embeddings, boxes, ours, strict=True):
            sparse, dense = sam.prompt_encoder(points=None, boxes=image_boxes, masks=None)
            theirs, _ = sam.mask_decoder(embedding[None], sam.prompt_encoder.get_dense_pe(), sparse, dense, multimask_output=False)
            assert torch.allclose(logits, theirs[:, 0], atol=1e-5)


def test_adapter_names_and_cheap_construction():
    adapter = SamAdapter()
    assert adapter.model_names() == ["sam-vit-h", "sam-vit-l", "sam-vit-b", "sam-nano", "sam-tiny"]
    assert adapter.default_space("sam-vit-b") == "sam-lora"


def test_official_checkpoints_are_pinned():
    for name in ("sam-vit-b", "sam-vit-l", "sam-vit-h"):
        arch = get_architecture(name)
        assert arch.checkpoint_url.endswith(arch.checkpoint_file) and len(arch.checkpoint_sha256) == 64


def test_plugin_import_and_adapter_construction_load_no_heavy_library():
    import subprocess
    import sys

    code = (
        "import sys, qtt_sam.plugin; qtt_sam.plugin.qtt_model_adapters(); "
        "print([m for m in ('segment_anything', 'peft', 'timm', 'torchvision') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
