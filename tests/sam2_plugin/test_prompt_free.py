"""SAM 2 tuned without prompts (``prompt="none"``): the class head through the same engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import require_sam2
from sam2_test_configs import FAST_LORA

from qtt_core.testing import make_shapes_data

require_sam2()


@pytest.fixture(scope="module")
def two_classes():
    """8 train, 2 val, 2 test images of 64 x 64 pixels, classes 1 and 2."""
    return make_shapes_data(n_train=8, n_val=2, n_test=2, size=(64, 64), num_classes=2, seed=5)


def test_decode_dense_gives_one_map_per_label():
    from qtt_sam2.wrapper import Sam2Wrapper

    wrapper = Sam2Wrapper("sam2-test")
    model = wrapper.build()
    assert wrapper.add_class_head(model, 3) == "sam_mask_decoder."
    embeddings = wrapper.embed(model, torch.rand(2, 3, 128, 128) * 255)
    logits = wrapper.decode_dense(model, embeddings, 128)
    assert [tuple(x.shape) for x in logits] == [(3, 32, 32)] * 2


def test_sam2_trains_exports_and_predicts_without_prompts(tmp_path, two_classes):
    from qtt_core.adapter import SessionRequest
    from qtt_sam2 import Sam2Adapter

    adapter = Sam2Adapter()
    session = adapter.open_session(SessionRequest(model="sam2-test", data=two_classes, workdir=tmp_path / "work", prompt="none"))
    untrained = session.zero_shot_score("val")
    reports = session.train("c", {**FAST_LORA, "lr": 3e-3}, to_epoch=4)
    assert [r.epoch for r in reports] == [1, 2, 3, 4]
    assert reports[-1].score > untrained
    assert "sam_mask_decoder.class_tokens.weight" in session.history("c").trainable
    folder = session.export("c", tmp_path / "weights")
    session.close()
    assert json.loads((folder / "tuned.json").read_text())["prompt"] == "none"
    tuned = adapter.load_tuned(folder)
    label = tuned.predict(two_classes.split("test").image(0))
    assert label.shape == (64, 64) and set(np.unique(label)) <= {0, 1, 2}
