"""``--precision``: what each name means on each device, and the one-line errors."""

from __future__ import annotations

import pytest
import torch

from qtt_core.errors import UsageError
from qtt_core.precision import resolve_precision


@pytest.mark.parametrize(
    ("requested", "device", "expected"),
    [("auto", "cpu", "fp32"), ("fp32", "cpu", "fp32"), ("bf16", "cpu", "bf16"), ("fp32", "cuda", "fp32"),
     ("bf16", "cuda:1", "bf16"), ("fp16", "cuda", "fp16")],
)
def test_explicit_names_and_auto_on_the_cpu(requested, device, expected):
    assert resolve_precision(requested, device) == expected


@pytest.mark.parametrize(("bf16_supported", "expected"), [(True, "bf16"), (False, "fp16")])
def test_auto_on_cuda_prefers_bf16_then_fp16(monkeypatch, bf16_supported, expected):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16_supported)
    assert resolve_precision("auto", "cuda:0") == expected


def test_fp16_without_cuda_and_unknown_names_are_usage_errors():
    with pytest.raises(UsageError, match="fp16 needs a CUDA device"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(UsageError, match="auto, fp32, bf16, fp16"):
        resolve_precision("half", "cpu")
