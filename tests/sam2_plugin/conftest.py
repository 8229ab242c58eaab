"""Shared pieces of the SAM 2 plugin tests: sam2-test sessions on tiny generated data.

Test modules that need the ``sam2`` package skip themselves when it is missing
(``pytest.importorskip``); the plugin's unavailable-message test runs either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from helpers import session_opener

from qtt_core.testing import make_shapes_data

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent))  # for ``from sam2_test_configs import ...``

@pytest.fixture(scope="session")
def shapes():
    """4 train, 2 val, 2 test images of 64 x 64 pixels, binary."""
    return make_shapes_data(n_train=4, n_val=2, n_test=2, size=(64, 64), seed=3)


@pytest.fixture
def open_session(shapes, tmp_path):
    """``open_session(**request_fields)``: a sam2-test session on ``shapes``, closed afterwards."""
    from qtt_sam2 import Sam2Adapter

    with session_opener(Sam2Adapter(), model="sam2-test", data=shapes, workdir=tmp_path / "work") as opener:
        yield opener
