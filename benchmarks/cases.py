"""What the training benchmarks share: their settings, one case per precision, the timing.

Every setting (a model on a device, epochs of ``n_images`` images) is timed in each precision
of :data:`PRECISIONS`, the engine's variants and the reference loop alike, and each precision
is its own benchmark group (``"sam-tiny cpu bf16 8 images"``), so a group compares like with
like. CUDA cases carry :data:`CUDA`: ``-m cuda`` selects them, and they skip without a GPU.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
import torch

__all__ = ["CUDA", "PRECISIONS", "Setting", "autocast", "engine_cases", "grad_scaler", "measure", "reference_cases"]

#: the marks of a CUDA case
CUDA = (pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"))
#: the precisions timed on each device (fp16's loss scaling needs CUDA, see qtt_core.precision)
PRECISIONS = {"cpu": ("fp32", "bf16"), "cuda": ("fp32", "bf16", "fp16")}
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Setting:
    """A model on a device, timed over ``rounds`` epochs of ``n_images`` images (after one warm-up epoch).

    Attributes:
        variants: the engine variants timed (names of :data:`reference.VARIANTS`).
    """

    model: str
    device: str
    n_images: int
    rounds: int
    variants: tuple[str, ...]

    def group(self, precision: str) -> str:
        return f"{self.model} {self.device} {precision} {self.n_images} images"

    def case_id(self, precision: str) -> str:
        return f"{self.model}-{self.device}-{self.n_images}img-{precision}"


def _marks(setting: Setting) -> tuple:
    return CUDA if setting.device == "cuda" else ()


def engine_cases(settings: Sequence[Setting]) -> list:
    """``(setting, precision, variant)`` parameters: every variant of every setting in each precision."""
    return [
        pytest.param(s, precision, variant, id=f"{s.case_id(precision)}-{variant}", marks=_marks(s))
        for s in settings for precision in PRECISIONS[s.device] for variant in s.variants
    ]


def reference_cases(settings: Sequence[Setting]) -> list:
    """``(setting, precision)`` parameters: the reference loop for every engine group."""
    return [pytest.param(s, precision, id=s.case_id(precision), marks=_marks(s)) for s in settings for precision in PRECISIONS[s.device]]


def autocast(device: str, precision: str) -> contextlib.AbstractContextManager:
    """The forward pass's autocast for ``precision``, as the engine's ``EngineContext.autocast()``."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=_DTYPES[precision])


def grad_scaler(device: str, precision: str) -> torch.amp.GradScaler | None:
    """fp16's loss scaler, as the engine makes at a trial's first step (None for fp32 and bf16)."""
    return torch.amp.GradScaler(device) if precision == "fp16" else None


def measure(benchmark, epoch: Callable[[], None], setting: Setting, precision: str, variant: str) -> None:
    """Time ``rounds`` calls of ``epoch`` and fill ``extra_info``.

    ``extra_info``: ``images_per_s`` (images per second of wall-clock time; absent with
    ``--benchmark-disable``), ``precision``, ``variant``, ``model``, ``device``, ``n_images``,
    and on CUDA ``peak_gpu_memory_mb`` (``torch.cuda.max_memory_allocated`` over the timed
    epochs, MiB; the peak statistics are reset before timing), ``float32_matmul_precision``
    and ``cudnn_benchmark`` (the settings the case ran with, see ``conftest.py``).
    """
    cuda = setting.device == "cuda"

    def timed() -> None:
        epoch()
        if cuda:
            torch.cuda.synchronize()

    benchmark.group = setting.group(precision)
    if cuda:
        gc.collect()  # what earlier cases left in reference cycles
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    benchmark.pedantic(timed, rounds=setting.rounds, iterations=1, warmup_rounds=0)
    info = benchmark.extra_info
    info.update(precision=precision, variant=variant, model=setting.model, device=setting.device, n_images=setting.n_images)
    if benchmark.stats is not None:  # None with --benchmark-disable (one untimed call)
        info["images_per_s"] = setting.n_images / benchmark.stats.stats.mean
    if cuda:
        info["peak_gpu_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
        info["float32_matmul_precision"] = torch.get_float32_matmul_precision()
        info["cudnn_benchmark"] = torch.backends.cudnn.benchmark
