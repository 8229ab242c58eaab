"""sam2-test trains through the qtt_sam engine: freeze-thaw resumes exactly, also across sessions."""

from __future__ import annotations

import time

import pytest
from helpers import check_freeze_thaw, check_mixed_precision, require_sam2
from sam2_test_configs import FAST_LORA

require_sam2()

from qtt_engine import EngineSession


def test_the_session_is_the_engines(open_session):
    assert type(open_session()) is EngineSession  # reused by import, not copied


@pytest.mark.slow
def test_freeze_thaw_two_then_four_equals_four_straight(open_session, tmp_path):
    check_freeze_thaw(open_session, tmp_path, FAST_LORA, other={**FAST_LORA, "lora": 0})


def test_past_deadline_trains_nothing(open_session):
    session = open_session()
    assert session.train("c", FAST_LORA, to_epoch=2, deadline=time.monotonic() - 1) == []
    assert session.last_epoch("c") == 0


def test_export_load_tuned_predicts_like_the_session(open_session, shapes, tmp_path):
    from qtt_sam2 import load_tuned

    session = open_session()
    session.train("c", {**FAST_LORA, "lora_targets": "qkv+proj+mlp"}, to_epoch=1)
    out = session.export("c", tmp_path / "weights")
    tuned = load_tuned(out)
    assert tuned.meta["wrapper"] == {"model": "sam2-test", "checkpoint": None}
    assert tuned.meta["lora"]["target_modules"].startswith(r"image_encoder\.trunk\.blocks")
    image = shapes.split("test").image(0)
    label = tuned.predict(image, boxes=[[8, 8, 40, 40]])
    assert label.shape == image.shape[:2] and set(label.ravel().tolist()) <= {0, 1}


def test_bf16_autocast_trains_on_the_cpu_and_fp16_scales_the_loss(open_session):
    check_mixed_precision(open_session, FAST_LORA)
