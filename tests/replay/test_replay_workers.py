"""The replay with several simulated workers: more epochs per budget, nothing counted after it,
no configuration trained twice at once, tells in order of finish time, labelled results."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from qtt_core.metadataset.synthetic import synthetic_meta_dataset, synthetic_space
from qtt_core.optimizer.baselines import RandomSearch
from qtt_core.replay import ReplayPool, run_replay, simulate_run


@pytest.fixture(scope="module")
def meta():
    return synthetic_meta_dataset(n_datasets=3, n_configs=16, n_epochs=10, seed=1)


class _Recording(RandomSearch):
    """Random search that records the simulated order of its tells."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.told: list[tuple[str, int]] = []

    def tell(self, config_id, epoch, score, cost_s):
        self.told.append((config_id, epoch))
        super().tell(config_id, epoch, score, cost_s)


def _intervals(trace, pool):
    cost = dict(zip(pool.config_ids, pool.epoch_cost_s, strict=True))
    return [(e.end_s - cost[e.config_id], e.end_s, e.config_id) for e in trace.events]


@pytest.mark.parametrize("workers", [2, 4])
def test_more_workers_finish_more_epochs_and_nothing_counts_after_the_budget(meta, workers):
    pool = ReplayPool.from_meta_dataset(meta, "d0")
    horizon_s = 60.0
    for seed in range(2):
        one = simulate_run(RandomSearch(pool.configs, pool.num_epochs, seed=seed), pool, horizon_s, count_optimizer_time=False)
        optimizer = _Recording(pool.configs, pool.num_epochs, seed=seed)
        many = simulate_run(optimizer, pool, horizon_s, count_optimizer_time=False, workers=workers)
        for budget in (20.0, 40.0, 60.0):
            assert many.incumbent_at(budget)[1] > one.incumbent_at(budget)[1]
        ends = [e.end_s for e in many.events]
        assert ends == sorted(ends) and ends[-1] <= horizon_s
        assert optimizer.told == [(e.config_id, e.epoch) for e in many.events]  # tells in order of finish time
        intervals = _intervals(many, pool)
        for start, _, cid in intervals:  # what trains at each moment an epoch starts
            running = [c for s, e, c in intervals if s - 1e-9 <= start < e - 1e-9]
            assert len(running) <= workers  # never more trials at once than workers
            assert running.count(cid) == 1  # a configuration on one worker at a time


def test_one_worker_is_the_sequential_run(meta):
    pool = ReplayPool.from_meta_dataset(meta, "d1")
    default = simulate_run(RandomSearch(pool.configs, pool.num_epochs, seed=3), pool, 80.0, count_optimizer_time=False)
    one = simulate_run(RandomSearch(pool.configs, pool.num_epochs, seed=3), pool, 80.0, count_optimizer_time=False, workers=1)
    assert one.events == default.events and len(one.events) > 5


def test_run_replay_labels_results_by_workers_and_plots_regret_against_them(meta, tmp_path):
    result = run_replay(
        meta, budgets=(30, 60), seeds=2, optimizers=("random",), workers=(1, 2), space=synthetic_space(),
        count_optimizer_time=False, out_dir=tmp_path / "out",
    )
    rows = pd.DataFrame(result.rows)
    runs = rows[rows.optimizer == "random"]
    assert sorted(runs.workers.unique()) == [1, 2] and len(runs) == 3 * 2 * 2 * 2
    assert rows[rows.optimizer == "oracle"].workers.isna().all()
    assert set(result.summary) == {"random", "random@2", "oracle"}
    epochs = runs.groupby(["workers", "budget_s"]).epochs.mean()
    assert all(epochs[(2, b)] > epochs[(1, b)] for b in (30.0, 60.0))
    csv = pd.read_csv(tmp_path / "out" / "replay.csv")
    assert "workers" in csv.columns
    assert (tmp_path / "out" / "regret_vs_workers.png").read_bytes()[:4] == b"\x89PNG"
    payload = json.loads((tmp_path / "out" / "replay.json").read_text())
    assert set(payload["summary"]) == {"random", "random@2", "oracle"} and "workers" in payload["rows"][0]
