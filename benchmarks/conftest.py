"""Benchmark settings per device, restored after each case.

CPU cases run on one torch thread, so their timings do not depend on what else the machine
runs. CUDA cases (marked ``cuda``) keep torch's default threads and run with the CUDA settings a
tuning session makes (cuDNN autotuning, TF32 float32 matrix products: see
``qtt_engine.session``), the engine and the reference loops alike.

``pytest benchmarks -m cuda`` selects the CUDA cases (what ``benchmarks/gpu_check.sh`` runs);
without a GPU they skip with the reason "needs a CUDA GPU".
"""

from __future__ import annotations

import pytest
import torch


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cuda: a benchmark on a CUDA GPU (skipped without one; select them with -m cuda)")


@pytest.fixture(autouse=True)
def _device_settings(request: pytest.FixtureRequest):
    """One torch thread for a case not marked ``cuda``; the session's CUDA settings for one that is."""
    if request.node.get_closest_marker("cuda") is None:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        yield
        torch.set_num_threads(threads)
        return
    from qtt_engine.session import configure_cuda  # the settings EngineSession makes on CUDA

    cudnn_benchmark, matmul_precision = torch.backends.cudnn.benchmark, torch.get_float32_matmul_precision()
    configure_cuda()
    yield
    torch.backends.cudnn.benchmark = cudnn_benchmark
    torch.set_float32_matmul_precision(matmul_precision)
