"""The replay benchmark on a small synthetic meta-dataset: regret, budgets, oracle, files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from qtt_core.errors import UsageError
from qtt_core.metadataset.synthetic import synthetic_meta_dataset, synthetic_space
from qtt_core.optimizer.base import Ask, Optimizer
from qtt_core.optimizer.baselines import RandomSearch
from qtt_core.replay import ReplayPool, normalised_regret, oracle_scores, predictor_quality, run_replay, simulate_run

BUDGETS = (30, 60, 120)


@pytest.fixture(scope="module")
def meta():
    return synthetic_meta_dataset(n_datasets=4, n_configs=20, n_epochs=10, seed=0)


@pytest.fixture(scope="module")
def result(meta):
    return run_replay(
        meta, budgets=BUDGETS, seeds=3, optimizers=("random", "portfolio"), space=synthetic_space(), count_optimizer_time=False
    )


def test_rows_cover_every_dataset_budget_optimizer_and_seed(result, meta):
    rows = pd.DataFrame(result.rows)
    runs = rows[rows.optimizer != "oracle"]
    assert len(runs) == 4 * len(BUDGETS) * 2 * 3
    assert len(rows[rows.optimizer == "oracle"]) == 4 * len(BUDGETS)
    assert rows.regret.between(0, 1).all()
    assert (runs.score.fillna(-1) <= runs.y_star + 1e-12).all()
    for _, by_run in runs.groupby(["dataset", "optimizer", "seed"]):
        assert by_run.sort_values("budget_s").regret.is_monotonic_decreasing  # more time never hurts


def test_regret_is_normalised_against_the_pools_best_and_worst(result, meta):
    rows = pd.DataFrame(result.rows)
    for dataset, by_dataset in rows.groupby("dataset"):
        pool = ReplayPool.from_meta_dataset(meta, dataset)
        best = np.nanmax(pool.curves, axis=1)
        assert by_dataset.y_star.unique().tolist() == [best.max()]
        assert by_dataset.y_min.unique().tolist() == [best.min()]
        for _, row in by_dataset.iterrows():
            expected = 1.0 if np.isnan(row.score) else (best.max() - row.score) / (best.max() - best.min())
            assert row.regret == pytest.approx(min(max(expected, 0.0), 1.0))


def test_normalised_regret_edge_cases():
    assert normalised_regret(float("nan"), 0.9, 0.1) == 1.0
    assert normalised_regret(0.9, 0.9, 0.1) == 0.0
    assert normalised_regret(0.5, 0.9, 0.1) == pytest.approx(0.5)
    assert normalised_regret(0.0, 0.9, 0.1) == 1.0  # worse than the worst best: clipped
    assert normalised_regret(0.4, 0.4, 0.4) == 0.0


def test_no_epoch_ends_after_the_budget(meta):
    pool = ReplayPool.from_meta_dataset(meta, "d1")
    for seed in range(3):
        trace = simulate_run(RandomSearch(pool.configs, pool.num_epochs, seed=seed), pool, 100.0, count_optimizer_time=False)
        ends = [event.end_s for event in trace.events]
        assert ends == sorted(ends) and ends[-1] <= 100.0
        costs = {cid: cost for cid, cost in zip(pool.config_ids, pool.epoch_cost_s)}
        assert np.allclose(np.diff([0.0, *ends]), [costs[e.config_id] for e in trace.events])
        replayed = RandomSearch(pool.configs, pool.num_epochs, seed=seed)
        for event in trace.events:
            replayed.tell(event.config_id, event.epoch, event.score, costs[event.config_id])
        assert ends[-1] + costs[replayed.ask().config_id] > 100.0  # the next epoch would not have fitted
        for budget in (20.0, 50.0):
            _, epochs, _ = trace.incumbent_at(budget)
            assert epochs == sum(end <= budget for end in ends)


def test_optimizer_time_is_counted_on_the_clock(meta):
    pool = ReplayPool.from_meta_dataset(meta, "d0")

    class Slow(RandomSearch):
        def ask(self):
            import time

            time.sleep(0.02)
            return super().ask()

    trace = simulate_run(Slow(pool.configs, pool.num_epochs, seed=0), pool, 60.0)
    recorded_s = sum(pool.epoch_cost_s[pool.config_ids.index(e.config_id)] for e in trace.events)
    assert trace.optimizer_time_s >= 0.02 * len(trace.events)
    assert trace.events[-1].end_s >= recorded_s + 0.02 * len(trace.events)


def test_deterministic_per_seed(result, meta):
    again = run_replay(meta, budgets=BUDGETS, seeds=3, optimizers=("random", "portfolio"), space=synthetic_space(), count_optimizer_time=False)
    assert [r["score"] for r in again.rows] == pytest.approx([r["score"] for r in result.rows], nan_ok=True)
    seeds = pd.DataFrame(result.rows).query("optimizer == 'random' and budget_s == 120").groupby("seed").score.apply(list)
    assert len({tuple(s) for s in seeds}) > 1  # different seeds, different runs


def test_oracle_bounds_every_sequential_run(result):
    # Epoch e of a configuration ends after e of its own epochs at the earliest, which the
    # oracle (that configuration alone from scratch) also reaches by then: so per run the
    # oracle's score is at least the incumbent's.
    rows = pd.DataFrame(result.rows)
    oracle = rows[rows.optimizer == "oracle"].set_index(["dataset", "budget_s"]).regret
    runs = rows[rows.optimizer != "oracle"]
    assert all(row.regret >= oracle[(row.dataset, row.budget_s)] - 1e-12 for _, row in runs.iterrows())
    assert result.summary["oracle"]["120"] <= min(result.summary["random"]["120"], result.summary["portfolio"]["120"])


def test_oracle_scores_by_hand():
    pool = ReplayPool(
        dataset="x",
        config_ids=["a", "b"],
        configs=[{"lr": 1}, {"lr": 2}],
        curves=np.array([[0.1, 0.5, 0.6], [0.3, 0.4, np.nan]]),
        epoch_cost_s=np.array([10.0, 4.0]),
        metafeatures={},
    )
    np.testing.assert_allclose(oracle_scores(pool, np.array([3.0, 4.0, 19.9, 20.0, 100.0])), [np.nan, 0.3, 0.4, 0.5, 0.6])


def test_portfolio_learns_from_the_other_datasets(result):
    # the synthetic datasets share their best learning rates: meta-learning must pay off
    for budget in ("30", "60"):
        assert result.summary["portfolio"][budget] < result.summary["random"][budget] - 0.1


def test_writes_csv_plot_and_json(tmp_path, meta):
    result = run_replay(meta, datasets=["d0", "d2"], budgets=(40, 80), seeds=1, optimizers=("random",), out_dir=tmp_path / "out", space=synthetic_space())
    table = pd.read_csv(result.files["csv"])
    assert set(table.optimizer) == {"random", "oracle"} and set(table.dataset) == {"d0", "d2"}
    assert (tmp_path / "out" / "regret_over_time.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((tmp_path / "out" / "replay.json").read_text())
    assert set(summary) == {"rows", "summary", "per_dataset", "oracle_gap", "quality", "files"}
    assert summary["summary"]["random"]["80"] == pytest.approx(result.summary["random"]["80"])
    assert result.regret_over_time["random"].shape == result.times_s.shape
    assert np.all(np.diff(result.regret_over_time["random"]) <= 1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"datasets": ["nope"]}, "nope"),
        ({"optimizers": ["bohb"]}, "bohb"),
        ({"budgets": (60, -1)}, "positive"),
        ({"seeds": 0}, "seeds"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_arguments(meta, kwargs, match):
    with pytest.raises(UsageError, match=match):
        run_replay(meta, **{"optimizers": ("random",), **kwargs})


class _Fixed(Optimizer):
    """Asks a fixed list of (config index, epoch)."""

    name = "fixed"

    def __init__(self, pool, asks):
        self.pool, self.asks, self.failed = pool, list(asks), []

    def ask(self):
        if not self.asks:
            return None
        index, epoch = self.asks.pop(0)
        return Ask(self.pool.config_ids[index], self.pool.configs[index], epoch)

    def tell(self, config_id, epoch, score, cost_s):
        pass

    def tell_failed(self, config_id, reason):
        self.failed.append(config_id)

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass

    def predict_final(self, configs):
        return [float(np.nanmax(c)) for c in self.pool.curves]

    def predict_cost(self, configs):
        return self.pool.epoch_cost_s * 1.5


def test_unrecorded_epochs_fail_and_bad_asks_raise(meta):
    pool = ReplayPool.from_meta_dataset(meta, "d0")
    pool.curves = pool.curves.copy()
    pool.curves[0, 1:] = np.nan
    optimizer = _Fixed(pool, [(0, 1), (0, 2), (1, 1)])
    trace = simulate_run(optimizer, pool, 1000.0)
    assert optimizer.failed == [pool.config_ids[0]] and [e.epoch for e in trace.events] == [1, 1]
    with pytest.raises(RuntimeError, match="epoch 1"):
        simulate_run(_Fixed(pool, [(1, 1), (1, 1)]), pool, 1000.0)
    with pytest.raises(RuntimeError, match="epoch 11"):
        simulate_run(_Fixed(pool, [(1, 11)]), pool, 1000.0)


def test_predictor_quality_uses_the_optimisers_predictions(meta):
    pool = ReplayPool.from_meta_dataset(meta, "d3")
    quality = predictor_quality(_Fixed(pool, []), pool)
    assert quality["spearman_final"] > 0.9
    assert quality["median_rel_error_cost"] == pytest.approx(0.5)
    assert np.isnan(predictor_quality(RandomSearch(pool.configs, 10), pool)["spearman_final"])


class _BudgetAware(_Fixed):
    """A fixed list of asks that records the ``remaining_s`` each ask is told."""

    budget_aware = True

    def __init__(self, pool, asks):
        super().__init__(pool, asks)
        self.remaining: list[float] = []

    def ask(self, remaining_s=None):
        self.remaining.append(remaining_s)
        return super().ask()


def test_budget_aware_optimisers_are_told_the_time_left_to_the_horizon(meta):
    pool = ReplayPool.from_meta_dataset(meta, "d0")
    optimizer = _BudgetAware(pool, [(0, 1), (0, 2), (1, 1)])
    trace = simulate_run(optimizer, pool, 1000.0, count_optimizer_time=False)
    ends = [e.end_s for e in trace.events]
    assert optimizer.remaining[0] == 1000.0
    assert optimizer.remaining[1:len(ends) + 1] == pytest.approx([1000.0 - end for end in ends])


def test_a_budget_aware_optimiser_runs_once_per_budget(meta):
    from qtt_core.optimizer.factory import make_optimizer
    from qtt_core.space import config_id
    from qtt_core.testing import MockCostPredictor, MockPerformancePredictor

    space = synthetic_space()
    pool = ReplayPool.from_meta_dataset(meta, "d0")
    speed = {cid: rank / len(pool.config_ids) for rank, cid in enumerate(pool.config_ids)}

    def score(config, epoch):  # fast starters plateau low, slow starters end high
        rate = speed[config_id(config)]
        return (1 - rate) * 0.5 + rate * epoch / 10

    cost_s = float(np.median(pool.epoch_cost_s))
    predictors = (MockPerformancePredictor(space, score, max_epochs=10), MockCostPredictor(space, lambda c: cost_s))

    def fresh():
        return make_optimizer("quick", candidates=pool.configs, space=space, metafeatures=pool.metafeatures, meta_train=None,
                              max_epochs=pool.num_epochs, seed=0, predictors=predictors, cost_power=0.0)

    result = run_replay(meta, datasets=["d0"], budgets=BUDGETS, seeds=1, optimizers=("quick",), space=space,
                        optimizer_options={"quick": {"predictors": predictors, "cost_power": 0.0}}, count_optimizer_time=False)
    horizon = simulate_run(fresh(), pool, max(BUDGETS), count_optimizer_time=False)
    differs = False
    for row in (r for r in result.rows if r["optimizer"] == "quick"):
        alone = simulate_run(fresh(), pool, row["budget_s"], count_optimizer_time=False)
        assert (row["epochs"], row["configs"]) == alone.incumbent_at(row["budget_s"])[1:]
        differs |= alone.incumbent_at(row["budget_s"])[1:] != horizon.incumbent_at(row["budget_s"])[1:]
    assert differs  # a run to the largest budget would have chosen differently at a smaller one
