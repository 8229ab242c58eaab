"""Ask/tell with several trials in flight: reserved asks never repeat a busy configuration,
the kriging-believer fantasies leave the GP as it was, pending trials round-trip through JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qtt_core.optimizer.baselines import RandomSearch
from qtt_core.optimizer.quick import QuickTuneOptimizer
from qtt_core.registry import Registry
from qtt_core.space import sample_configurations
from qtt_core.testing import MockCostPredictor, MockPerformancePredictor, synthetic_curve

MAX_EPOCHS = 4


@pytest.fixture(scope="module")
def space():
    return Registry(autoload=False).load_space("sam-lora")


@pytest.fixture(scope="module")
def pool(space):
    return sample_configurations(space, 24, seed=3)


def mock_quick(space, pool) -> QuickTuneOptimizer:
    predictors = (MockPerformancePredictor(space, max_epochs=MAX_EPOCHS), MockCostPredictor(space))
    return QuickTuneOptimizer(pool, space, {}, max_epochs=MAX_EPOCHS, seed=0, predictors=predictors)


def nometa_quick(space, pool) -> QuickTuneOptimizer:
    return QuickTuneOptimizer(pool, space, None, max_epochs=MAX_EPOCHS, seed=2, n_warmup=3, fit_steps=5)


def drive_parallel(optimizer, workers: int, asks: int) -> list:
    """Keep ``workers`` trials in flight; the oldest finishes first. Returns every reserved ask."""
    in_flight, history = [], []
    for _ in range(asks):
        while len(in_flight) < workers:
            ask = optimizer.ask(reserve=True)
            if ask is None:
                break
            busy = {a.config_id for a in in_flight}
            assert ask.config_id not in busy, "a configuration in flight was handed out again"
            assert set(optimizer.pending()) == busy | {ask.config_id}
            in_flight.append(ask)
            history.append(ask)
        if not in_flight:
            break
        done = in_flight.pop(0)
        optimizer.tell(done.config_id, done.epoch, synthetic_curve(done.config, done.epoch), 1.0)
        assert done.config_id not in optimizer.pending()
    return history


@pytest.mark.parametrize("kind", ["quick", "random"])
def test_reserved_asks_never_repeat_a_busy_configuration_and_continue_freeze_thaw(space, pool, kind):
    optimizer = mock_quick(space, pool) if kind == "quick" else RandomSearch(pool, max_epochs=MAX_EPOCHS, seed=1)
    history = drive_parallel(optimizer, workers=3, asks=30)
    reached: dict[str, int] = {}
    for ask in history:
        assert ask.epoch == reached.get(ask.config_id, 0) + 1
        reached[ask.config_id] = ask.epoch


def test_failures_and_releases_free_a_configuration(space, pool):
    optimizer = RandomSearch(pool, max_epochs=MAX_EPOCHS, seed=0)
    first, second = optimizer.ask(reserve=True), optimizer.ask(reserve=True)
    assert first.config_id != second.config_id and first.info["rank"] == 0 and second.info["rank"] == 1
    optimizer.release(first.config_id)  # its worker was lost: asked again, same epoch
    again = optimizer.ask(reserve=True)
    assert (again.config_id, again.epoch) == (first.config_id, first.epoch)
    optimizer.tell_failed(second.config_id, "out of memory")
    assert set(optimizer.pending()) == {first.config_id}
    assert second.config_id not in {optimizer.ask(reserve=True).config_id for _ in range(3)}


def test_a_plain_ask_reserves_nothing(space, pool):
    optimizer = mock_quick(space, pool)
    assert optimizer.ask() == optimizer.ask() and optimizer.pending() == {}
    reserved = optimizer.ask(reserve=True)
    assert optimizer.ask().config_id != reserved.config_id  # busy ones are skipped by every ask


@pytest.mark.parametrize("kind", ["quick", "random"])
def test_pending_trials_round_trip_through_json_and_are_released_on_resume(space, pool, kind):
    def make():
        return mock_quick(space, pool) if kind == "quick" else RandomSearch(pool, max_epochs=MAX_EPOCHS, seed=1)

    original = make()
    drive_parallel(original, workers=2, asks=5)
    in_flight = [original.ask(reserve=True) for _ in range(2)]
    state = json.loads(json.dumps(original.state_dict()))
    assert state["pending"] == original.pending() and all(state["pending"][a.config_id] == a.epoch for a in in_flight)
    restored = make()
    restored.load_state_dict(state)
    assert restored.pending() == original.pending()
    assert restored.ask(reserve=True) == original.ask(reserve=True)
    assert sorted(restored.release_pending()) == sorted(original.pending())
    assert restored.pending() == {}
    nothing_in_flight = make()
    nothing_in_flight.load_state_dict({**state, "pending": {}})
    assert restored.ask() == nothing_in_flight.ask()  # released: as if they had never been asked


def test_fantasies_shrink_uncertainty_near_pending_trials_and_leave_the_gp_as_it_was(space, pool):
    optimizer = nometa_quick(space, pool)
    history = drive_parallel(optimizer, workers=1, asks=4)  # warm-up and the first fit
    assert optimizer._has_fit and len(history) == 4
    rows = optimizer.pool.active()
    X = optimizer._next_inputs(rows)
    before_mean, before_std = optimizer.performance.predict(X)
    busy = rows[:2]
    with optimizer._pending_fantasies(busy):
        _, fantasy_std = optimizer.performance.predict(X)
    after_mean, after_std = optimizer.performance.predict(X)
    assert np.all(fantasy_std[:2] < before_std[:2])  # the pending points themselves are now "observed"
    np.testing.assert_allclose(after_mean, before_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(after_std, before_std, rtol=1e-10, atol=1e-12)
