"""A small replay: optimisers on recorded curves, leave-one-dataset-out, simulated time.

Run: ``pytest benchmarks/test_replay.py --benchmark-only`` (CPU). The baselines take about a
second on the synthetic meta-dataset; ``quick`` meta-trains its predictors once per held-out
dataset and seed (tens of seconds on CPU), so its case replays one held-out dataset. The mean
normalised regret of each run is stored in the benchmark's ``extra_info``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from qtt_core.metadataset import read_meta_dataset
from qtt_core.metadataset.synthetic import synthetic_meta_dataset, synthetic_space
from qtt_core.registry import Registry
from qtt_core.replay import run_replay

DEV_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "metadataset" / "qtt_seg_sam2_dev.csv"
BUDGETS = (60, 120, 180)


def _record(benchmark, result) -> None:
    benchmark.extra_info["mean_regret"] = result.summary
    benchmark.extra_info["oracle_gap"] = result.oracle_gap()


def test_replay_baselines_synthetic(benchmark):
    meta = synthetic_meta_dataset(n_datasets=4, n_configs=20, seed=0)
    result = benchmark.pedantic(
        run_replay,
        args=(meta,),
        kwargs={"budgets": BUDGETS, "seeds": 5, "optimizers": ("random", "portfolio"), "space": synthetic_space()},
        rounds=3,
    )
    _record(benchmark, result)


@pytest.mark.skipif(importlib.util.find_spec("qtt_core.optimizer.quick") is None, reason="Quick-Tune optimiser not installed")
def test_replay_quick_one_held_out_synthetic(benchmark):
    meta = synthetic_meta_dataset(n_datasets=4, n_configs=20, seed=0)
    result = benchmark.pedantic(
        run_replay,
        args=(meta,),
        kwargs={"datasets": ["d0"], "budgets": BUDGETS, "seeds": 1, "optimizers": ("quick", "quick-nometa"), "space": synthetic_space()},
        rounds=1,
    )
    _record(benchmark, result)


@pytest.mark.skipif(not DEV_CSV.is_file(), reason="needs ../shared/data/metadataset/qtt_seg_sam2_dev.csv")
def test_replay_baselines_dev_meta_dataset(benchmark):
    space = Registry(autoload=False).load_space("qtt-seg-sam2")
    meta = read_meta_dataset(DEV_CSV, space=space)
    result = benchmark.pedantic(
        run_replay,
        args=(meta,),
        kwargs={"budgets": BUDGETS, "seeds": 5, "optimizers": ("random", "portfolio"), "space": space},
        rounds=1,
    )
    _record(benchmark, result)
