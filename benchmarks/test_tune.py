"""A whole ``tune`` in this process, on the demo's generated set (``textured-binary``: 24 train,
8 val, 8 test pairs of 96 px, written as files), with a model of :mod:`random_weights_plugin`
(seeded random weights: no download; scores mean nothing, times and memory do).

CUDA (marked ``cuda``, skipped without a GPU): ``sam-vit-b-random``, precision ``auto`` (bf16
where the GPU supports it), budget ``$QTT_BENCH_TUNE_BUDGET_S`` seconds (default 120).
CPU: ``sam-tiny-random`` for 20 s on one thread, the check that the plugin tunes end to end
(sessions, refit, export, overlays through the plugin's ``load_tuned``).

    pytest benchmarks/test_tune.py                        # the CPU case; the CUDA case skips
    QTT_BENCH_TUNE_BUDGET_S=60 pytest benchmarks/test_tune.py -m cuda

One round (a tune is minutes). ``extra_info``: the fields of :func:`tune_summary.tune_fields`
(``elapsed_s``, ``n_trials``, ``epochs``, ``first_epoch_s`` and ``first_epoch_done_s``: seconds
from the call until the first epoch started and ended, ``startup_phases``, ``test_iou``,
``precision``, ...), ``device``, ``overlays`` (images drawn), and on CUDA
``peak_gpu_memory_mb`` (``torch.cuda.max_memory_allocated`` over the run, MiB) with
``gpu_memory_before_mb`` (what other cases had left allocated when it started).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
import torch
from cases import CUDA
from tune_summary import tune_fields

from qtt_core.demo import DEMO_TASK, write_task_folder
from qtt_core.registry import Registry
from qtt_core.tuner import tune

BUDGET_ENV = "QTT_BENCH_TUNE_BUDGET_S"


@pytest.fixture(scope="module")
def task_folder(tmp_path_factory) -> Path:
    return write_task_folder(DEMO_TASK, tmp_path_factory.mktemp("tune") / DEMO_TASK)


@pytest.mark.parametrize(("model", "device", "budget_s"), [
    pytest.param("sam-tiny-random", "cpu", 20.0, id="sam-tiny-random-cpu"),
    pytest.param("sam-vit-b-random", "cuda", None, id="sam-vit-b-random-cuda", marks=CUDA),
])
def test_whole_tune(benchmark, task_folder, tmp_path, model, device, budget_s):
    """``tune(task_folder, budget_s, model=model, device=device)`` from the call to ``result.json``."""
    budget_s = budget_s or float(os.environ.get(BUDGET_ENV, "120"))
    registry = Registry(autoload=False, plugins=["qtt_sam.plugin", "random_weights_plugin"])
    out = tmp_path / "run"
    if device == "cuda":
        gc.collect()
        torch.cuda.empty_cache()
        before_mb = torch.cuda.memory_allocated() / 2**20
        torch.cuda.reset_peak_memory_stats()
    benchmark.group = f"tune {device}"
    options = {"out": out, "model": model, "device": device, "registry": registry}
    benchmark.pedantic(tune, args=(task_folder, budget_s), kwargs=options, rounds=1, iterations=1)
    fields = tune_fields(out)
    benchmark.extra_info.update(fields, device=device, overlays=len(list((out / "overlays").glob("*.png"))))
    if device == "cuda":
        benchmark.extra_info.update(peak_gpu_memory_mb=torch.cuda.max_memory_allocated() / 2**20, gpu_memory_before_mb=before_mb)
    assert fields["epochs"] > 0 and fields["weights"], f"the tune of {model} trained no epoch in {budget_s} s; see {out / 'run.log'}"
