"""Exactly which parameters train: LoRA on the Hiera trunk only, decoder/prompt encoder per config."""

from __future__ import annotations

import re

import pytest
from helpers import frozen_base, parameter_names, require_sam2, trainable_names

require_sam2()

from qtt_sam2.wrapper import Sam2Wrapper  # noqa: E402

_KINDS = {"qkv": ["attn.qkv"], "proj": ["attn.proj"], "mlp": ["mlp.layers.0", "mlp.layers.1"]}


@pytest.fixture(scope="module")
def tiny():
    wrapper = Sam2Wrapper("sam2-test")
    return wrapper, frozen_base(wrapper)


def _lora(blocks, kinds):
    modules = [m for kind in kinds for m in _KINDS[kind]]
    return {f"image_encoder.trunk.blocks.{b}.{m}.lora_{ab}.default.weight" for b in blocks for m in modules for ab in ("A", "B")}


def _trainable(tiny, **config):
    return trainable_names(*tiny, **config)


def test_sam2_test_has_five_trunk_blocks(tiny):  # the expectations below assume it
    wrapper, base = tiny
    assert wrapper.num_encoder_blocks == len(base.image_encoder.trunk.blocks) == 5


def test_lora_off_decoder_on(tiny):
    names = _trainable(tiny, lora=0, train_mask_decoder=1, train_prompt_encoder=0)
    assert names == parameter_names(tiny[1], "sam_mask_decoder.")
    assert {"sam_mask_decoder.conv_s0.weight", "sam_mask_decoder.conv_s1.weight"} <= names  # high-res projections


def test_paper_targets_qkv_and_mlp_all_blocks(tiny):
    names = _trainable(tiny, lora=1, lora_targets="qkv+mlp", lora_blocks="all", train_mask_decoder=0, train_prompt_encoder=0)
    assert names == _lora(range(5), ["qkv", "mlp"])


def test_lora_never_reaches_the_decoders_mlp_layers(tiny):
    names = _trainable(tiny, lora=1, lora_targets="mlp", train_mask_decoder=0, train_prompt_encoder=0)
    assert names == _lora(range(5), ["mlp"])
    decoder_mlps = [n for n, _ in tiny[1].named_modules() if n.startswith("sam_mask_decoder") and re.search(r"mlp\.layers\.[01]$", n)]
    assert decoder_mlps  # the names the regex must not match do exist
    assert not any(n.startswith("sam_mask_decoder") for n in names)


def test_projection_option_last_half_with_prompt_encoder(tiny):
    names = _trainable(tiny, lora=1, lora_targets="qkv+proj+mlp", lora_blocks="last_half", train_mask_decoder=0, train_prompt_encoder=1)
    assert names == _lora([2, 3, 4], ["qkv", "proj", "mlp"]) | parameter_names(tiny[1], "sam_prompt_encoder.")
    assert not any(re.search(r"blocks\.\d+\.proj\.", n) for n in names)  # the stage-change projections stay frozen


def test_lora_with_decoder_and_prompt_encoder(tiny):
    names = _trainable(tiny, lora=1, lora_targets="qkv", train_mask_decoder=1, train_prompt_encoder=1)
    assert names == _lora(range(5), ["qkv"]) | parameter_names(tiny[1], "sam_mask_decoder.") | parameter_names(tiny[1], "sam_prompt_encoder.")


def test_defaults_of_the_paper_space_train_lora_decoder_and_prompt_encoder(tiny):
    names = _trainable(tiny, lora=1, lora_rank=8)  # a qtt-seg-sam2 configuration: as the paper's runs
    assert names == _lora(range(5), ["qkv", "mlp"]) | parameter_names(tiny[1], "sam_mask_decoder.") | parameter_names(tiny[1], "sam_prompt_encoder.")


def test_base_model_is_left_frozen_and_unwrapped(tiny):
    _trainable(tiny, lora=1, lora_targets="qkv+proj+mlp", train_mask_decoder=1)
    assert not any(p.requires_grad for p in tiny[1].parameters())
    assert not any("lora_" in n for n, _ in tiny[1].named_parameters())
