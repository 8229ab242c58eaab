"""Weights through the core's checkpoint path (official ``{"model": state_dict}`` layout),
and embeddings/masks sized from the actual input resolution."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import require_sam2
import torch

require_sam2()

from qtt_core.errors import UsageError  # noqa: E402
from qtt_sam2 import architectures  # noqa: E402
from qtt_sam2.wrapper import Sam2Wrapper  # noqa: E402


@pytest.fixture(scope="module")
def official_state():
    """A sam2-test state dict that differs from the seeded initialisation."""
    model = Sam2Wrapper("sam2-test").build()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.01)
    return model.state_dict()


def _same(model, state):
    return all(torch.equal(value, state[key]) for key, value in model.state_dict().items())


def test_official_layout_loads_from_a_local_path(tmp_path, official_state):
    path = tmp_path / "sam2.1_custom.pt"
    torch.save({"model": official_state}, path)
    assert _same(Sam2Wrapper("sam2-test", checkpoint=path).build(), official_state)


def test_official_layout_loads_through_the_download_and_cache_path(tmp_path, cache_dir, official_state, monkeypatch):
    source = tmp_path / "published" / "sam2_test.pt"
    source.parent.mkdir()
    torch.save({"model": official_state}, source)
    arch = dataclasses.replace(architectures.ARCHITECTURES["sam2-test"], checkpoint_file="sam2_test.pt", checkpoint_url=source.as_uri())
    monkeypatch.setitem(architectures.ARCHITECTURES, "sam2-test", arch)
    assert _same(Sam2Wrapper("sam2-test").build(), official_state)  # downloaded into the cache
    assert (cache_dir / "checkpoints" / "sam2_test.pt").is_file()
    source.unlink()
    assert _same(Sam2Wrapper("sam2-test").build(), official_state)  # now from the cache


def test_wrong_checkpoint_names_missing_and_unexpected_keys(tmp_path, official_state):
    state = dict(official_state)
    state.pop("sam_mask_decoder.iou_token.weight")
    state["decoder.extra"] = torch.zeros(1)
    path = tmp_path / "wrong.pt"
    torch.save({"model": state}, path)
    with pytest.raises(UsageError, match=r"1 missing keys \[sam_mask_decoder\.iou_token\.weight\].*1 unexpected keys \[decoder\.extra\]"):
        Sam2Wrapper("sam2-test", checkpoint=path).build()


def test_offline_official_model_says_where_to_put_the_file(cache_dir, monkeypatch):
    arch = dataclasses.replace(architectures.ARCHITECTURES["sam2.1-hiera-tiny"], checkpoint_url="file:///nonexistent/sam2.1_hiera_tiny.pt")
    monkeypatch.setitem(architectures.ARCHITECTURES, "sam2.1-hiera-tiny", arch)
    with pytest.raises(UsageError, match=r"put it at .*checkpoints/sam2\.1_hiera_tiny\.pt"):
        Sam2Wrapper("sam2.1-hiera-tiny").build()


def test_every_official_name_has_its_config_and_url():
    for name in ["sam2.1-hiera-large", "sam2.1-hiera-base-plus", "sam2.1-hiera-small", "sam2.1-hiera-tiny"]:
        arch = architectures.get_architecture(name)
        config = architectures.model_config(arch)  # raises if the package's file does not match
        assert config.image_encoder.trunk.embed_dim * 8 == config.image_encoder.neck.backbone_channel_list[0]
        assert arch.checkpoint_url == f"https://dl.fbaipublicfiles.com/segment_anything_2/092824/{arch.checkpoint_file}"
    with pytest.raises(UsageError, match="unknown model .sam2.1-hiera-huge. for sam2; known: sam2.1-hiera-large"):
        architectures.get_architecture("sam2.1-hiera-huge")


@pytest.mark.parametrize("side", [128, 256])
def test_feature_and_mask_sizes_follow_the_input(side):
    wrapper = Sam2Wrapper("sam2-test")
    model = wrapper.build()
    with torch.no_grad():
        embeddings = wrapper.embed(model, torch.rand(2, 3, side, side) * 255)
        masks = wrapper.decode(model, embeddings, [torch.tensor([[4.0, 4, 60, 60]]), torch.tensor([[0.0, 0, 30, 30], [8, 8, 90, 90]])], side)
    embedding, s0, s1 = embeddings[0]
    assert embedding.shape == (64, side // 16, side // 16)
    assert s0.shape == (8, side // 4, side // 4) and s1.shape == (16, side // 8, side // 8)
    assert [tuple(m.shape) for m in masks] == [(1, side // 4, side // 4), (2, side // 4, side // 4)]


def test_batched_decoding_equals_one_image_at_a_time():
    wrapper = Sam2Wrapper("sam2-test")
    model = wrapper.build()
    images = torch.rand(2, 3, 128, 128) * 255
    boxes = [torch.tensor([[4.0, 4, 60, 60]]), torch.tensor([[0.0, 0, 30, 30], [8, 8, 90, 90]])]
    with torch.no_grad():
        together = wrapper.decode(model, wrapper.embed(model, images), boxes, 128)
        alone = [wrapper.decode(model, wrapper.embed(model, images[i : i + 1]), [boxes[i]], 128)[0] for i in range(2)]
    for a, b in zip(together, alone, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
