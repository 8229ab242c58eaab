"""Exactly which parameters train, for several configurations (LoRA on encoder blocks only)."""

from __future__ import annotations

import pytest
from helpers import frozen_base, parameter_names, trainable_names
from qtt_sam.architectures import get_architecture
from qtt_engine import TrainConfig, build_model
from qtt_sam.wrapper import SamWrapper


@pytest.fixture(scope="module")
def tiny():
    wrapper = SamWrapper("sam-tiny")
    return wrapper, frozen_base(wrapper)


def _lora(blocks, modules):
    return {
        f"image_encoder.blocks.{b}.{m}.lora_{ab}.default.weight" for b in blocks for m in modules for ab in ("A", "B")
    }


def _trainable(tiny, **config):
    return trainable_names(*tiny, **config)


def test_sam_tiny_has_two_blocks():  # the expectations below assume it
    assert get_architecture("sam-tiny").encoder_depth == 2


def test_lora_off_decoder_on(tiny):
    assert _trainable(tiny, lora=0, train_mask_decoder=1) == parameter_names(tiny[1], "mask_decoder.")


def test_lora_qkv_all_blocks_only(tiny):
    names = _trainable(tiny, lora=1, lora_targets="qkv", lora_blocks="all", train_mask_decoder=0, train_prompt_encoder=0)
    assert names == _lora([0, 1], ["attn.qkv"])


def test_lora_mlp_last_half_with_prompt_encoder(tiny):
    names = _trainable(tiny, lora=1, lora_targets="mlp", lora_blocks="last_half", train_mask_decoder=0, train_prompt_encoder=1)
    assert names == _lora([1], ["mlp.lin1", "mlp.lin2"]) | parameter_names(tiny[1], "prompt_encoder.")


def test_lora_proj_mlp_never_touches_decoder_or_patch_embedding(tiny):
    names = _trainable(tiny, lora=1, lora_targets="proj+mlp", train_mask_decoder=0)
    assert names == _lora([0, 1], ["attn.proj", "mlp.lin1", "mlp.lin2"])
    assert not any("patch_embed" in n or n.startswith("mask_decoder") for n in names)


def test_lora_everything_with_both_parts(tiny):
    names = _trainable(tiny, lora=1, lora_targets="qkv+proj+mlp", train_mask_decoder=1, train_prompt_encoder=1)
    expected = _lora([0, 1], ["attn.qkv", "attn.proj", "mlp.lin1", "mlp.lin2"])
    assert names == expected | parameter_names(tiny[1], "mask_decoder.") | parameter_names(tiny[1], "prompt_encoder.")


def test_lora_settings_follow_the_configuration(tiny):
    wrapper, base = tiny
    config = TrainConfig.from_mapping({"lora": 1, "lora_rank": 4, "lora_alpha_ratio": 0.5, "lora_dropout": 0.1}, wrapper.part_defaults)
    model, lora = build_model(wrapper, base, config)
    qkv = model.image_encoder.blocks[0].attn.qkv
    assert qkv.r["default"] == 4 and qkv.scaling["default"] == pytest.approx(0.5)
    assert qkv.lora_dropout["default"].p == pytest.approx(0.1)
    assert lora.lora_alpha == 2.0


def test_base_model_is_shared_not_changed(tiny):
    wrapper, base = tiny
    model, _ = build_model(wrapper, base, TrainConfig.from_mapping({"lora": 1, "train_mask_decoder": 1}, wrapper.part_defaults))
    assert model.image_encoder.patch_embed.proj.weight is base.image_encoder.patch_embed.proj.weight
    assert model.mask_decoder.iou_token.weight is not base.mask_decoder.iou_token.weight
    assert not any(p.requires_grad for p in base.parameters())
