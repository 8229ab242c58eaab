"""The Quick-Tune optimiser: freeze-thaw, early stopping, failures, determinism, state, quality."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from botorch.acquisition.analytic import LogExpectedImprovement

from qtt_core.errors import UsageError
from qtt_core.optimizer import quick
from qtt_core.optimizer.base import Optimizer
from qtt_core.optimizer.quick import QuickTuneOptimizer
from qtt_core.registry import Registry
from qtt_core.space import config_id, sample_configurations
from qtt_core.surrogates import meta_train_predictors
from qtt_core.surrogates.dkl import DeepKernelGP
from qtt_core.testing import MockCostPredictor, MockPerformancePredictor, synthetic_curve, synthetic_meta_dataset

MAX_EPOCHS = 5


@pytest.fixture(scope="module")
def space():
    return Registry(autoload=False).load_space("sam-lora")


@pytest.fixture(scope="module")
def pool(space):
    return sample_configurations(space, 40, seed=7)


def mock_quick(space, pool, **kwargs) -> QuickTuneOptimizer:
    predictors = (MockPerformancePredictor(space, max_epochs=MAX_EPOCHS), MockCostPredictor(space))
    return QuickTuneOptimizer(pool, space, {}, max_epochs=MAX_EPOCHS, seed=0, predictors=predictors, **kwargs)


def run(optimizer: Optimizer, steps: int, configs_by_id: dict, fail: set[str] = frozenset(), cost=lambda c: 1.0):
    """Drive ask/tell for ``steps`` asks with synthetic curves; returns the asks."""
    asks = []
    for _ in range(steps):
        ask = optimizer.ask()
        if ask is None:
            break
        asks.append(ask)
        if ask.config_id in fail:
            optimizer.tell_failed(ask.config_id, "boom")
        else:
            optimizer.tell(ask.config_id, ask.epoch, synthetic_curve(configs_by_id[ask.config_id], ask.epoch), cost(ask.config))
    return asks


def by_id(optimizer):
    return dict(zip(optimizer.pool.ids, optimizer.pool.configs, strict=True))


def test_is_an_optimizer_and_first_ask_is_the_predicted_best(space, pool):
    optimizer = mock_quick(space, pool, cost_power=0.0)
    assert isinstance(optimizer, Optimizer) and optimizer.name == "quick"
    ask = optimizer.ask()
    first_epoch = [synthetic_curve(c, 1) for c in optimizer.pool.configs]
    assert ask.epoch == 1 and ask.config_id == optimizer.pool.ids[int(np.argmax(first_epoch))]
    assert ask.predicted_score == pytest.approx(synthetic_curve(ask.config, 1))
    assert ask.predicted_cost_s == pytest.approx(float(ask.config.get("batch_size", 1)) ** 0.5)


def test_freeze_thaw_continues_and_never_asks_past_max_epochs(space, pool):
    optimizer = mock_quick(space, pool, patience=0, acquisition="ei")  # EI spreads epochs over configurations
    asks = run(optimizer, 60, by_id(optimizer))
    reached: dict[str, int] = {}
    for ask in asks:
        assert ask.epoch == reached.get(ask.config_id, 0) + 1, "a configuration did not continue where it stopped"
        assert 1 <= ask.epoch <= MAX_EPOCHS
        reached[ask.config_id] = ask.epoch
    assert max(reached.values()) == MAX_EPOCHS and any(v < MAX_EPOCHS for v in reached.values())


def test_failed_configurations_are_never_asked_again(space, pool):
    optimizer = mock_quick(space, pool)
    first = optimizer.ask()
    asks = run(optimizer, 30, by_id(optimizer), fail={first.config_id})
    assert [a.config_id for a in asks].count(first.config_id) == 1
    assert optimizer.pool.failed[optimizer.pool.index_of(first.config_id)]


def test_early_stopping_after_patience_epochs_without_improvement(space, pool):
    optimizer = mock_quick(space, pool, patience=2, tolerance=0.01)
    cid = optimizer.pool.ids[0]
    for epoch, score in enumerate([0.5, 0.505, 0.509], start=1):
        optimizer.tell(cid, epoch, score, 1.0)
    assert optimizer.pool.stopped[0]
    assert all(optimizer.ask().config_id != cid for _ in range(3))


def test_unknown_ids_and_bad_epochs_are_usage_errors(space, pool):
    optimizer = mock_quick(space, pool)
    with pytest.raises(UsageError, match="not in the candidate pool"):
        optimizer.tell("c0000000000", 1, 0.5, 1.0)
    with pytest.raises(UsageError, match="outside"):
        optimizer.tell(optimizer.pool.ids[0], MAX_EPOCHS + 1, 0.5, 1.0)


def test_returns_none_when_every_configuration_is_done(space, pool):
    optimizer = mock_quick(space, pool[:2], patience=0)
    asks = run(optimizer, 100, by_id(optimizer))
    assert len(asks) == 2 * MAX_EPOCHS and optimizer.ask() is None


def test_nometa_warms_up_then_fits_and_is_deterministic(space, pool):
    def make():
        return QuickTuneOptimizer(pool, space, None, max_epochs=MAX_EPOCHS, seed=5, n_warmup=3, fit_steps=5, refit_every=2)

    first, second = make(), make()
    assert first.name == "quick-nometa"
    asks = run(first, 8, by_id(first))
    assert [a.info.get("reason") for a in asks[:3]] == ["warm-up"] * 3 and "log_ei" in asks[3].info
    assert [(a.config_id, a.epoch) for a in run(second, 8, by_id(second))] == [(a.config_id, a.epoch) for a in asks]


def test_state_round_trip_continues_with_the_same_asks(space, pool):
    def make():
        return QuickTuneOptimizer(pool, space, None, max_epochs=MAX_EPOCHS, seed=1, n_warmup=2, fit_steps=5, refit_every=2)

    original = make()
    configs = by_id(original)
    run(original, 5, configs, fail={original.pool.ids[3]})
    state = json.loads(json.dumps(original.state_dict()))
    restored = make()
    restored.load_state_dict(state)
    assert restored.incumbent() == original.incumbent()
    expected = [(a.config_id, a.epoch) for a in run(original, 5, configs)]
    assert [(a.config_id, a.epoch) for a in run(restored, 5, configs)] == expected


def test_state_of_another_pool_is_rejected(space, pool):
    state = mock_quick(space, pool).state_dict()
    with pytest.raises(UsageError, match="another candidate pool"):
        mock_quick(space, pool[:5]).load_state_dict(state)


def test_cost_power_prefers_cheap_configurations(space, pool):
    best = config_id(max(pool, key=lambda c: synthetic_curve(c, 1)))

    def make(cost_power):
        cost = MockCostPredictor(space, lambda c: 100.0 if config_id(c) == best else 1.0)
        predictors = (MockPerformancePredictor(space, max_epochs=MAX_EPOCHS), cost)
        return QuickTuneOptimizer(pool, space, {}, max_epochs=MAX_EPOCHS, seed=0, predictors=predictors, cost_power=cost_power, acquisition="ei")

    blind, cheap = make(0.0).ask(), make(1.0).ask()
    assert blind.config_id == best and blind.predicted_cost_s == pytest.approx(100.0)
    assert cheap.config_id != best and cheap.predicted_cost_s == pytest.approx(1.0)


@pytest.mark.slow
def test_meta_trained_quick_finds_a_near_best_configuration_much_better_than_random(space):
    held_out = synthetic_meta_dataset(space, {"new": 0.8}, 60, epochs=MAX_EPOCHS, seed=50)
    meta = synthetic_meta_dataset(space, {"a": 0.6, "b": 0.9, "c": 1.0}, 40, epochs=MAX_EPOCHS, seed=0)
    predictors = meta_train_predictors(meta, space, seed=0, steps=60, n_pairs=1000, prior_points=600)
    final = held_out.curves[:, -1]
    best, worst = final.max(), final.min()
    budget_epochs = 8

    def regret(optimizer):
        configs = by_id(optimizer)
        asks = run(optimizer, budget_epochs, configs)
        found = max(synthetic_curve(configs[a.config_id], a.epoch) * 0.8 for a in asks)
        return (best - found) / (best - worst)

    quick = regret(QuickTuneOptimizer(held_out.configs, space, {"num_samples": 900.0, "num_channels": 3.0}, MAX_EPOCHS, seed=0, predictors=predictors))
    rng = np.random.default_rng(0)
    random_regrets = []
    for _ in range(20):  # random search: random configurations trained to the end
        order = rng.permutation(len(held_out))[: -(-budget_epochs // MAX_EPOCHS)]
        epochs = [min(MAX_EPOCHS, budget_epochs - k * MAX_EPOCHS) for k in range(len(order))]
        found = max(held_out.curves[i, e - 1] for i, e in zip(order, epochs, strict=True))
        random_regrets.append((best - found) / (best - worst))
    assert quick < 0.35 and quick < 0.7 * np.mean(random_regrets), (quick, np.mean(random_regrets))


def test_budget_fidelity_judges_each_candidate_at_the_epoch_it_can_still_reach(space, pool):
    sprinter, stayer = config_id(pool[0]), config_id(pool[1])

    def score(config, epoch):  # sprinter: quick start, low plateau; stayer: slow start, best at the end
        cid = config_id(config)
        if cid == sprinter:
            return 0.6 + 0.01 * epoch
        if cid == stayer:
            return 0.2 * epoch
        return 0.1

    def make():
        predictors = (MockPerformancePredictor(space, score, max_epochs=MAX_EPOCHS), MockCostPredictor(space, lambda c: 10.0))
        return QuickTuneOptimizer(pool, space, {}, max_epochs=MAX_EPOCHS, seed=0, predictors=predictors, cost_power=0.0)

    assert make().budget_aware
    short, long, unknown = make().ask(remaining_s=25.0), make().ask(remaining_s=500.0), make().ask()
    assert short.config_id == sprinter and short.info["target_epoch"] == 2  # 25 s: two 10 s epochs
    assert long.config_id == stayer and long.info["target_epoch"] == MAX_EPOCHS
    assert unknown.config_id == sprinter  # no budget given: Quick-Tune's next epoch
    assert all(a.epoch == 1 for a in (short, long, unknown))  # either way it trains one more epoch
    optimizer = make()
    optimizer.tell(stayer, 1, 0.2, 10.0)
    continued = optimizer.ask(remaining_s=45.0)  # stayer can reach 1 + 4 epochs, the others 4
    assert continued.config_id == stayer and continued.epoch == 2 and continued.info["target_epoch"] == 5
    assert not mock_quick(space, pool, fidelity="next").budget_aware
    nometa = QuickTuneOptimizer(pool, space, {}, max_epochs=MAX_EPOCHS, seed=0)
    assert nometa.name == "quick-nometa" and nometa.fidelity == "next"  # no meta-learned prior: Quick-Tune's next epoch


@pytest.mark.parametrize(("challenger_score", "margin", "expected"), [(0.62, 0.05, "kept"), (0.62, 0.0, "challenger"), (0.70, 0.05, "challenger")])
def test_the_configuration_in_training_is_kept_unless_another_is_predicted_better_by_the_margin(space, pool, challenger_score, margin, expected):
    kept, challenger = config_id(pool[0]), config_id(pool[1])

    def score(config, epoch):
        return {kept: 0.60, challenger: challenger_score}.get(config_id(config), 0.1)

    predictors = (MockPerformancePredictor(space, score, max_epochs=MAX_EPOCHS), MockCostPredictor(space, lambda c: 10.0))
    optimizer = QuickTuneOptimizer(pool, space, {}, max_epochs=MAX_EPOCHS, seed=0, predictors=predictors, switch_margin=margin)
    optimizer.tell(kept, 1, 0.60, 10.0)
    assert optimizer.ask(remaining_s=100.0).config_id == {"kept": kept, "challenger": challenger}[expected]


def test_log_ei_is_botorchs_public_log_expected_improvement(space, pool, monkeypatch):
    """quick.py uses BoTorch's private ``_log_ei_helper`` over chunked joint posteriors (the public
    ``LogExpectedImprovement`` takes one posterior per candidate); both must give the same numbers."""
    monkeypatch.setattr(quick, "ACQUISITION_CHUNK", 7)  # several chunks, the last one short
    optimizer = mock_quick(space, pool, acquisition="ei")
    rows = optimizer.pool.active()
    X = optimizer._inputs_at(rows, optimizer._target_epochs(rows, None))  # N x d
    torch.manual_seed(0)
    train_X = torch.rand(12, X.shape[-1], dtype=torch.float64)
    model = DeepKernelGP(train_X, torch.rand(12, 1, dtype=torch.float64), X.shape[-1], hidden=(8,), embedding_dim=2).eval()
    optimizer.performance.model, optimizer.performance.score_scale = model, 0.8
    best_f = np.random.default_rng(0).uniform(-3.0, 3.0, len(rows))  # per candidate, some far above every mean
    ours = optimizer._log_expected_improvement(X, best_f)
    with torch.no_grad():
        public = LogExpectedImprovement(model, best_f=torch.as_tensor(best_f / 0.8).unsqueeze(-1))(X.unsqueeze(-2))
    assert np.isfinite(ours).all() and ours.min() < -10  # the stable branch is exercised
    np.testing.assert_allclose(ours, public.numpy(), rtol=0, atol=1e-9)


def test_ties_are_broken_by_the_seed_never_by_the_pools_order(space, pool):
    """Untried configurations with equal prior scores (one learning-rate group) are a tie; which
    one a run trains first must not depend on where the candidates happen to sit in the pool."""

    def flat(config, epoch):
        return 0.5

    def first_pick(candidates, seed):
        predictors = (MockPerformancePredictor(space, flat, max_epochs=MAX_EPOCHS), MockCostPredictor(space, lambda c: 10.0))
        return QuickTuneOptimizer(candidates, space, {}, max_epochs=MAX_EPOCHS, seed=seed, predictors=predictors).ask(remaining_s=100.0).config_id

    shuffled = [pool[i] for i in np.random.default_rng(3).permutation(len(pool))]
    picks = {seed: first_pick(pool, seed) for seed in range(6)}
    assert all(first_pick(shuffled, seed) == pick for seed, pick in picks.items())
    assert len(set(picks.values())) > 1  # other seeds, other picks among the tied ones
