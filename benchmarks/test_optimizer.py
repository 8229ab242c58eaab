"""Quick-Tune's own costs: ask latency over pool sizes, and meta-training time.

Run: ``pytest benchmarks/test_optimizer.py --benchmark-only`` (CPU). The latency cases use
predictors meta-trained once on synthetic meta-data and conditioned on a few observations,
as in a run; the meta-training case needs ``../shared/data/metadataset/qtt_seg_sam2_dev.csv``
(skipped without it). Targets (issue 4): median ask latency under 100 ms with 1,024
candidates; meta-training both predictors on the dev meta-dataset under 5 minutes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from qtt_core.optimizer.quick import QuickTuneOptimizer
from qtt_core.registry import Registry
from qtt_core.space import sample_configurations
from qtt_core.surrogates import meta_train_predictors
from qtt_core.testing import synthetic_curve, synthetic_meta_dataset

DEV_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "metadataset" / "qtt_seg_sam2_dev.csv"


@pytest.fixture(scope="module")
def space():
    return Registry(autoload=False).load_space("sam-lora")


@pytest.fixture(scope="module")
def predictors(space):
    torch.set_num_threads(1)
    meta = synthetic_meta_dataset(space, {"a": 0.6, "b": 0.9, "c": 1.0}, 60, epochs=10, seed=0)
    return meta_train_predictors(meta, space, seed=0, steps=100)


@pytest.mark.parametrize("n_candidates", [128, 1024, 4096])
def test_ask_latency(benchmark, space, predictors, n_candidates):
    pool = sample_configurations(space, n_candidates, seed=1)
    optimizer = QuickTuneOptimizer(pool, space, {"num_samples": 500.0, "num_channels": 3.0}, max_epochs=10, seed=0, predictors=predictors)
    for _ in range(6):  # a run in progress: a few configurations observed
        ask = optimizer.ask()
        optimizer.tell(ask.config_id, ask.epoch, synthetic_curve(ask.config, ask.epoch), 10.0)
    benchmark.extra_info["n_candidates"] = len(optimizer.pool)
    ask = benchmark(optimizer.ask)
    assert ask is not None


def test_meta_training_time_dev_meta_dataset(benchmark):
    if not DEV_CSV.is_file():
        pytest.skip(f"needs {DEV_CSV} (../shared beside the repository)")
    from qtt_core.metadataset import read_meta_dataset

    space = Registry(autoload=False).load_space("qtt-seg-sam2")
    meta = read_meta_dataset(DEV_CSV, space)
    pair = benchmark.pedantic(meta_train_predictors, args=(meta, space), kwargs={"seed": 0}, rounds=1, iterations=1)
    benchmark.extra_info["rows"] = len(meta)
    assert pair[0].meta_trained and pair[1].meta_trained
