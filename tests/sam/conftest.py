"""Shared pieces of the SAM plugin tests: sam-tiny, tiny generated data, sessions."""

from __future__ import annotations

import pytest
import torch

from qtt_core.adapter import SessionRequest
from qtt_core.testing import make_shapes_data

torch.set_num_threads(1)

#: a fast configuration: LoRA off, decoder trained, half resolution (64 px for sam-tiny)
FAST = {
    "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "sched": "constant", "lora": 0,
    "train_mask_decoder": 1, "train_prompt_encoder": 0, "loss": "bce_dice", "batch_size": 2,
    "resolution_scale": 0.5, "horizontal_flip": 0, "vertical_flip": 0, "random_rotate": 0,
    "color_jitter": 0.0, "box_jitter": 0.0, "grad_clip": 1.0,
}


@pytest.fixture(scope="session")
def shapes():
    """6 train, 2 val, 2 test images of 64 x 64 pixels, binary."""
    return make_shapes_data(n_train=6, n_val=2, n_test=2, size=(64, 64), seed=4)


@pytest.fixture
def open_session(shapes, tmp_path):
    """``open_session(**request_fields)``: a sam-tiny session on ``shapes``, closed afterwards."""
    from qtt_sam import SamAdapter

    sessions = []

    def _open(**fields):
        fields.setdefault("model", "sam-tiny")
        fields.setdefault("data", shapes)
        fields.setdefault("workdir", tmp_path / "work")
        session = SamAdapter().open_session(SessionRequest(**fields))
        sessions.append(session)
        return session

    yield _open
    for session in sessions:
        session.close()
