"""The final refit on train + val pairs: planned within the budget, done exactly, never fatal."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from helpers import registry_with

from qtt_core.adapter import TrialFailed
from qtt_core.data.views import TrainPlusVal
from qtt_core.testing import MockAdapter, make_shapes_data
from qtt_core.testing.adapter import MockSession
from qtt_core.tuner import tune
from qtt_core.tuner.history import MAX_SLOWDOWN, EpochRow, History
from qtt_core.tuner.refit import REFIT_MARGIN, REFIT_MAX_SHARE, REFIT_STARTUP_S, plan_refit


class RecordingAdapter(MockAdapter):
    """A mock adapter that keeps every session request; ``refit_fails`` breaks training on train + val."""

    def __init__(self, refit_fails: bool = False, **options):
        super().__init__(**options)
        self.requests = []
        self.refit_fails = refit_fails

    def open_session(self, request):
        self.requests.append(request)
        if self.refit_fails and isinstance(request.data, TrainPlusVal):
            return _FailingSession(request, self.epoch_cost_s, self.sleep, self.fail_ids)
        return super().open_session(request)


class _FailingSession(MockSession):
    def train(self, config_id, config, to_epoch, deadline=None):
        raise TrialFailed(config_id, "injected refit failure")


def _tune(tmp_path, adapter, budget_s=6.0, **options):
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    options = {"model": "mock", "optimizer": "random", "max_epochs": 3, "n_candidates": 16, "device": "cpu", **options}
    return tune(data, budget_s, out=tmp_path / "run", registry=registry_with(adapter), **options)


def test_the_chosen_configuration_is_refit_on_train_and_val_within_the_budget(tmp_path):
    adapter = RecordingAdapter(epoch_cost_s=0.05, sleep=True)
    started = time.monotonic()
    result = _tune(tmp_path, adapter, budget_s=10.0)  # a refit of at most 3 epochs, 0.2 s each, fits in a quarter
    assert time.monotonic() - started <= 10.0 + 5.0
    search, refit = adapter.requests
    assert len(refit.data.split("train")) == 6 and len(refit.data.split("val")) == 2 and len(refit.data.split("test")) == 2
    assert refit.workdir == tmp_path / "run" / "sessions" / "refit" and refit.seed == search.seed
    best_epoch = next(t["fidelity"] for t in result.trials if t["config_id"] == result.best_config_id)
    assert result.refit["pairs"] == 6 and result.refit["epochs"] == best_epoch and result.refit["seconds"] > 0
    refit_state = json.loads((refit.workdir / "mock_trials" / f"{result.best_config_id}.json").read_text())
    assert refit_state["epoch"] == best_epoch
    assert json.loads((tmp_path / "run" / "result.json").read_text())["refit"] == result.refit
    assert json.loads((tmp_path / "run" / "weights" / "refit.json").read_text())["trained_on"] == "train + val"
    assert "refit" in (tmp_path / "run" / "run.log").read_text()


def test_no_refit_when_switched_off(tmp_path):
    adapter = RecordingAdapter(epoch_cost_s=0.0)
    result = _tune(tmp_path, adapter, refit=False)
    assert result.refit is None and len(adapter.requests) == 1 and result.test_iou is not None
    assert not (tmp_path / "run" / "weights" / "refit.json").exists()


def test_a_failed_refit_keeps_the_searched_model(tmp_path):
    adapter = RecordingAdapter(epoch_cost_s=0.0, refit_fails=True)
    result = _tune(tmp_path, adapter)
    assert len(adapter.requests) == 2 and result.refit is None
    assert result.test_iou is not None and (tmp_path / "run" / "weights" / "mock_weights.json").is_file()
    assert "searched model is kept" in (tmp_path / "run" / "run.log").read_text()


def _history(*rows: tuple[str, int, float, float]) -> History:
    history = History()
    for config_id, epoch, score, cost_s in rows:
        history.add(EpochRow(config_id, epoch, score, cost_s, elapsed_s=0.0), {"lr": 1e-4})
    return history


def test_the_plan_scales_the_incumbents_training_time_by_the_larger_split():
    history = _history(("a", 1, 0.5, 2.0), ("b", 1, 0.6, 1.0), ("b", 2, 0.7, 1.0), ("a", 2, 0.4, 2.0))
    plan = plan_refit(history, n_train=3, n_val=1, budget_s=120.0)
    assert (plan.config_id, plan.epochs, plan.pairs) == ("b", 2, 4)
    bigger = plan_refit(history, n_train=1, n_val=3, budget_s=120.0).estimate_s
    assert bigger > plan.estimate_s > 2.0 * 4 / 3


def test_no_plan_without_validation_pairs_or_above_a_share_of_the_budget():
    history = _history(("a", 1, 0.5, 10.0))
    assert plan_refit(history, n_train=3, n_val=0, budget_s=1000.0) is None
    assert plan_refit(History(), n_train=3, n_val=1, budget_s=1000.0) is None
    assert plan_refit(history, n_train=3, n_val=1, budget_s=1000.0) is not None
    assert plan_refit(history, n_train=3, n_val=1, budget_s=10.0 / REFIT_MAX_SHARE) is None  # 17.7 s > a quarter of 40 s


def test_the_plan_takes_the_slowest_epoch_seen_and_scales_by_the_slowdown():
    steady = _history(("a", 1, 0.5, 2.0), ("a", 2, 0.6, 1.0), ("a", 3, 0.7, 1.0))
    expected = 2.0 * 3 * 5 / 4 * REFIT_MARGIN + REFIT_STARTUP_S  # the slowest epoch, three times
    assert plan_refit(steady, n_train=4, n_val=1, budget_s=1000.0).estimate_s == pytest.approx(expected)
    slowed = _history(*[("a", 1, 0.5, 2.0), ("a", 2, 0.6, 1.0), ("a", 3, 0.7, 1.0)],
                      *[(c, e, 0.1, cost) for c in "bcd" for e, cost in ((1, 1.0), (2, 1.0), (3, 2.0))])
    assert slowed.slowdown() == pytest.approx(2.0)  # ratios 1 (a), 2, 2, 2: their third epochs against their second
    assert plan_refit(slowed, n_train=4, n_val=1, budget_s=1000.0).estimate_s == pytest.approx((expected - REFIT_STARTUP_S) * 2 + REFIT_STARTUP_S)


def test_one_slow_epoch_is_no_slowdown_and_a_slowdown_is_bounded():
    warm_up = _history(("a", 1, 0.5, 1.0), ("a", 2, 0.6, 0.2), ("a", 3, 0.6, 2.0), ("a", 4, 0.6, 0.2), ("a", 5, 0.6, 0.2))
    assert warm_up.slowdown() == 1.0  # a resumed process's first epoch, not a busier machine
    busy = _history(*[("a", e, 0.5, 0.1 if e < 3 else 10.0) for e in range(1, 8)])
    assert busy.slowdown() == MAX_SLOWDOWN


def test_unknown_epoch_costs_of_a_resumed_run_are_skipped():
    history = _history(("a", 1, 0.5, 2.0), ("a", 2, 0.6, math.nan))
    assert plan_refit(history, n_train=4, n_val=1, budget_s=100.0).estimate_s == pytest.approx(2.0 * 2 * 5 / 4 * REFIT_MARGIN + REFIT_STARTUP_S)


def test_train_plus_val_appends_the_validation_pairs_and_keeps_the_rest():
    data = make_shapes_data(n_train=3, n_val=2, n_test=1, size=(16, 16))
    view = TrainPlusVal(data)
    train, val = data.split("train"), data.split("val")
    merged = view.split("train")
    assert len(merged) == 5 and view.num_classes == data.num_classes and view.class_names == data.class_names
    assert np.array_equal(merged.image(3), val.image(0)) and np.array_equal(merged.mask(4, size=(8, 8)), val.mask(1, size=(8, 8)))
    assert [merged.name(i) for i in range(5)] == [train.name(i) for i in range(3)] + [val.name(i) for i in range(2)]
    assert view.split("val") is not None and len(view.split("test")) == 1
    with pytest.raises(IndexError):
        merged.image(5)


def test_a_refit_killed_midway_continues_from_its_saved_epochs(tmp_path):
    """A resumed run refits in the same ``sessions/refit`` folder: finished epochs are not repeated."""
    from qtt_core.adapter import SessionRequest
    from qtt_core.tuner.refit import RefitPlan, run_refit

    data = make_shapes_data(n_train=3, n_val=1, n_test=1, size=(16, 16))
    request = SessionRequest(model="mock", data=data, workdir=tmp_path / "refit", seed=0)
    adapter, config = RecordingAdapter(epoch_cost_s=0.0), {"lr": 3e-4}
    first = run_refit(adapter, request, RefitPlan("c1", 2, 4, 1.0), config, deadline=time.monotonic() + 60)
    assert first is not None and first.last_epoch("c1") == 2
    trained = []
    adapter.open_session = lambda req: _CountingSession(req, trained)
    again = run_refit(adapter, request, RefitPlan("c1", 3, 4, 1.0), config, deadline=time.monotonic() + 60)
    assert again.last_epoch("c1") == 3 and trained == [3]


class _CountingSession(MockSession):
    def __init__(self, request, trained):
        super().__init__(request, 0.0, False, set())
        self.trained = trained

    def train(self, config_id, config, to_epoch, deadline=None):
        reports = super().train(config_id, config, to_epoch, deadline)
        self.trained += [r.epoch for r in reports]
        return reports


def test_a_refit_that_misses_the_deadline_leaves_the_searched_model(tmp_path, caplog):
    from qtt_core.adapter import SessionRequest
    from qtt_core.tuner.refit import RefitPlan, run_refit

    data = make_shapes_data(n_train=3, n_val=1, n_test=1, size=(16, 16))
    request = SessionRequest(model="mock", data=data, workdir=tmp_path / "refit", seed=0)
    adapter = RecordingAdapter(epoch_cost_s=0.2, sleep=True)
    started = time.monotonic()
    with caplog.at_level("INFO", logger="qtt_seg"):
        assert run_refit(adapter, request, RefitPlan("c1", 5, 4, 0.1), {"lr": 3e-4}, deadline=started + 0.5) is None
    assert time.monotonic() - started < 1.0 and "searched model is kept" in caplog.text


def test_the_plan_counts_building_the_model_again():
    history = _history(("a", 1, 0.5, 2.0))
    assert plan_refit(history, 4, 1, startup_s=3.0, budget_s=100.0).estimate_s == pytest.approx(plan_refit(history, 4, 1, budget_s=100.0).estimate_s + 3.0)
    assert plan_refit(history, 4, 1, startup_s=9.0, budget_s=40.0) is None  # 4.1 s with training alone fits a quarter of 40 s; 9 s more to build does not
