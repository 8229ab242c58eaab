"""Tuning without prompts (``prompt="none"``): the class head, its loss, sessions, export, predict."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sam_test_configs import FAST

from qtt_core.data.protocol import IGNORE_INDEX
from qtt_core.errors import UsageError
from qtt_core.testing import make_shapes_data
from qtt_engine.dense import add_class_tokens, dense_loss
from qtt_sam import SamAdapter
from qtt_sam.wrapper import SamWrapper

LORA = {**FAST, "lora": 1, "lora_rank": 4, "lora_targets": "qkv", "train_mask_decoder": 0}


@pytest.fixture(scope="module")
def three_classes():
    """8 train, 2 val, 2 test images of 64 x 64 pixels, classes 1..3 drawn in their own colours."""
    return make_shapes_data(n_train=8, n_val=2, n_test=2, size=(64, 64), num_classes=3, seed=3)


@pytest.mark.parametrize("name", ["bce", "dice", "bce_dice", "focal_dice"])
def test_dense_loss_is_low_for_right_logits_and_ignores_ignored_pixels(name):
    labels = torch.tensor([[[0, 1], [2, IGNORE_INDEX]]])
    right = torch.nn.functional.one_hot(torch.tensor([[[0, 1], [2, 0]]]), 3).permute(0, 3, 1, 2).float() * 20
    wrong = right.roll(1, dims=1)
    assert dense_loss(name, right, labels, IGNORE_INDEX) < 0.05
    assert dense_loss(name, wrong, labels, IGNORE_INDEX) > 0.5
    changed = right.clone()
    changed[0, :, 1, 1] = torch.tensor([-9.0, 9.0, -9.0])  # only the ignored pixel differs
    assert torch.isclose(dense_loss(name, changed, labels, IGNORE_INDEX), dense_loss(name, right, labels, IGNORE_INDEX))


def test_class_tokens_start_as_copies_of_the_first_mask_token():
    decoder = SamWrapper("sam-tiny").build().mask_decoder
    before = decoder.mask_tokens.weight.detach().clone()
    add_class_tokens(decoder, 4)
    assert decoder.class_tokens.weight.shape == (4, before.shape[1])
    assert torch.equal(decoder.class_tokens.weight[3], before[0])
    assert torch.equal(decoder.mask_tokens.weight, before)
    first, last = decoder.output_hypernetworks_mlps[0], decoder.class_hypernetworks[3]
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), last.parameters(), strict=True))
    assert last.layers[0].weight is not first.layers[0].weight


def test_decode_dense_gives_one_map_per_label():
    wrapper = SamWrapper("sam-tiny")
    model = wrapper.build()
    wrapper.add_class_head(model, 3)
    embeddings = wrapper.embed(model, torch.rand(2, 3, 128, 128) * 255)
    logits = wrapper.decode_dense(model, embeddings, 128)
    assert [tuple(x.shape) for x in logits] == [(3, 32, 32)] * 2


def test_a_session_without_prompts_trains_the_class_head_and_lora(tmp_path, three_classes):
    from qtt_core.adapter import SessionRequest

    session = SamAdapter().open_session(SessionRequest(model="sam-tiny", data=three_classes, workdir=tmp_path, prompt="none"))
    reports = session.train("c", LORA, to_epoch=2)
    assert [r.epoch for r in reports] == [1, 2]
    assert all(0.0 <= r.score <= 1.0 and np.isfinite(r.train_loss) for r in reports)
    trained = session.history("c").trainable
    assert "mask_decoder.class_tokens.weight" in trained
    assert any("lora_A" in name for name in trained)
    assert any(name.startswith("mask_decoder.transformer.") for name in trained)  # the whole decoder trains
    assert not any(name.startswith("prompt_encoder.") for name in trained)
    assert set(session.class_scores("c", "test").iou) == {"class1", "class2", "class3"}
    session.close()
    again = SamAdapter().open_session(SessionRequest(model="sam-tiny", data=three_classes, workdir=tmp_path, prompt="none"))
    assert again.last_epoch("c") == 2
    assert [r.epoch for r in again.train("c", LORA, to_epoch=3)] == [3]  # continues from the saved state
    again.close()


def test_the_pretrained_class_head_learns_the_classes(three_classes):
    """sam-nano's class head, trained for 8 epochs, separates three colour-coded classes far
    better than its untrained start (the zero-shot score of this protocol)."""
    from qtt_core.adapter import SessionRequest

    session = SamAdapter().open_session(SessionRequest(model="sam-nano", data=three_classes, prompt="none"))
    untrained = session.zero_shot_score("test")
    session.train("c", {**FAST, "lr": 3e-3, "batch_size": 4, "resolution_scale": 1.0}, to_epoch=8)
    assert session.score("c", "test") > untrained + 0.15
    session.close()


def test_export_and_predict_without_boxes(tmp_path, three_classes):
    from qtt_core.adapter import SessionRequest

    adapter = SamAdapter()
    session = adapter.open_session(SessionRequest(model="sam-tiny", data=three_classes, prompt="none"))
    session.train("c", FAST, to_epoch=1)
    folder = session.export("c", tmp_path / "weights")
    session.close()
    meta = json.loads((folder / "tuned.json").read_text())
    assert meta["prompt"] == "none" and meta["class_head"] == {"outputs": 4, "trained": ["mask_decoder."]}
    tuned = adapter.load_tuned(folder)
    assert tuned.prompt == "none"
    image = three_classes.split("test").image(0)
    label = tuned.predict(image)
    assert label.shape == image.shape[:2] and label.dtype == np.uint8 and label.max() <= 3
    with pytest.raises(UsageError, match="without prompts"):
        tuned.predict(image, [[0, 0, 10, 10]])


def test_a_wrapper_without_a_class_head_refuses_no_prompts(three_classes):
    from qtt_core.adapter import SessionRequest
    from qtt_engine.session import EngineSession

    class BoxOnly:  # a PromptableModel without PromptFreeModel's methods
        model_name = "box-only"

    with pytest.raises(UsageError, match="--prompt box"):
        EngineSession(BoxOnly(), SessionRequest(model="box-only", data=three_classes, prompt="none"))  # type: ignore[arg-type]
