"""Random search and the portfolio behind ask/tell, and the optimiser factory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qtt_core.errors import UnknownNameError, UsageError
from qtt_core.metadataset.synthetic import synthetic_meta_dataset, synthetic_space
from qtt_core.optimizer.baselines import Portfolio, RandomSearch, main_effect_scores, portfolio_scores
from qtt_core.optimizer.factory import make_optimizer, meta_trained_predictors
from qtt_core.space import config_id, sample_configurations


@pytest.fixture(scope="module")
def candidates():
    return sample_configurations(synthetic_space(), 12, seed=1)


def drive(optimizer, score=lambda cid, epoch: epoch / 10, fail=(), limit=1000):
    """Run ask/tell to the end; returns the asks as (config_id, epoch)."""
    asked = []
    for _ in range(limit):
        ask = optimizer.ask()
        if ask is None:
            return asked
        asked.append((ask.config_id, ask.epoch))
        if ask.config_id in fail:
            optimizer.tell_failed(ask.config_id, "out of memory")
        else:
            optimizer.tell(ask.config_id, ask.epoch, score(ask.config_id, ask.epoch), 1.0)
    raise AssertionError("optimiser never finished")


def test_random_search_trains_each_candidate_to_max_epochs_in_a_seeded_order(candidates):
    asked = drive(RandomSearch(candidates, max_epochs=3, seed=0))
    order = list(dict.fromkeys(cid for cid, _ in asked))
    assert sorted(order) == sorted(config_id(c) for c in candidates)
    assert asked == [(cid, epoch) for cid in order for epoch in (1, 2, 3)]
    assert drive(RandomSearch(candidates, max_epochs=3, seed=0)) == asked
    assert drive(RandomSearch(candidates, max_epochs=3, seed=1)) != asked


def test_failed_candidates_are_never_asked_again(candidates):
    first = RandomSearch(candidates, max_epochs=3, seed=0).ask().config_id
    asked = drive(RandomSearch(candidates, max_epochs=3, seed=0), fail={first})
    assert [a for a in asked if a[0] == first] == [(first, 1)]
    assert len(asked) == 1 + 3 * (len(candidates) - 1)


def test_incumbent_is_the_best_observation(candidates):
    optimizer = RandomSearch(candidates, max_epochs=2, seed=0)
    assert optimizer.incumbent() is None
    scores = {config_id(c): i / 100 for i, c in enumerate(candidates)}
    drive(optimizer, score=lambda cid, epoch: scores[cid] + epoch / 1000)
    best = max(scores, key=scores.get)
    assert optimizer.incumbent() == (best, 2, pytest.approx(scores[best] + 0.002))


@pytest.mark.parametrize("kind", ["random", "portfolio"])
def test_state_round_trips_through_json(candidates, kind):
    meta = synthetic_meta_dataset(n_datasets=2, n_configs=10, seed=4)

    def build():
        if kind == "random":
            return RandomSearch(candidates, max_epochs=2, seed=5)
        return Portfolio(candidates, meta, max_epochs=2, seed=5)

    original = build()
    for _ in range(5):
        ask = original.ask()
        original.tell(ask.config_id, ask.epoch, 0.5, 1.0)
    original.tell_failed(original.ask().config_id, "crashed")
    restored = build()
    restored.load_state_dict(json.loads(json.dumps(original.state_dict())))
    assert restored.incumbent() == original.incumbent()
    assert drive(restored) == drive(original)
    other_pool = RandomSearch(candidates[:5], max_epochs=2, seed=5)
    with pytest.raises(UsageError, match="candidate"):
        other_pool.load_state_dict(original.state_dict())


def test_portfolio_puts_recorded_candidates_first_best_first():
    meta = synthetic_meta_dataset(n_datasets=3, n_configs=8, seed=2, shared_configs=True)
    recorded = meta.configs[:8]
    unrecorded = sample_configurations(synthetic_space(), 40, seed=9)
    unrecorded = [c for c in unrecorded if config_id(c) not in {config_id(r) for r in recorded}][:5]
    optimizer = Portfolio(unrecorded + recorded, meta, max_epochs=10, seed=0, unrecorded_order="random")
    order = list(dict.fromkeys(cid for cid, _ in drive(optimizer)))
    scores = portfolio_scores(meta, 10)
    mean_score = {config_id(c): scores[i::8].mean() for i, c in enumerate(recorded)}
    assert order[:8] == sorted(mean_score, key=lambda cid: -mean_score[cid])
    assert set(order[8:]) == {config_id(c) for c in unrecorded}


def test_portfolio_ranks_unrecorded_candidates_by_main_effects():
    meta = synthetic_meta_dataset(n_datasets=3, n_configs=30, seed=0)
    held_out = synthetic_meta_dataset(n_datasets=4, n_configs=30, seed=0).subset(np.arange(90, 120))
    true_best = {config_id(c): np.nanmax(curve) for c, curve in zip(held_out.configs, held_out.curves)}
    order = Portfolio(held_out.configs, meta, max_epochs=10, seed=0).state_dict()["order"]
    by_id = {config_id(c): c for c in held_out.configs}
    diverging = [i for i, cid in enumerate(order) if by_id[cid]["lr"] >= 3e-3]  # the synthetic runs diverge there
    assert diverging and min(diverging) >= 20
    assert np.mean([true_best[c] for c in order[:10]]) > np.mean([true_best[c] for c in order[-10:]]) + 0.2
    random_order = Portfolio(held_out.configs, meta, max_epochs=10, seed=0, unrecorded_order="random").state_dict()["order"]
    assert random_order != order


def test_main_effects_follow_the_recorded_scores():
    recorded = [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    scores = main_effect_scores([{"a": 2, "b": "x"}, {"a": 1, "b": "y"}, {"a": 3}], recorded, np.array([0.0, 0.2, 0.6, 0.8]))
    np.testing.assert_allclose(scores, [0.6, 0.2, 0.4])  # a=3 unseen, b absent: no effect


def test_portfolio_scores_are_ranks_per_dataset():
    meta = synthetic_meta_dataset(n_datasets=2, n_configs=6, seed=1)
    scores = portfolio_scores(meta, 10)
    for dataset in meta.dataset_names():
        rows = np.array(meta.datasets) == dataset
        assert sorted(scores[rows]) == pytest.approx(np.linspace(0, 1, rows.sum()))
        assert np.argmax(scores[rows]) == np.argmax(np.nanmax(meta.curves[rows], axis=1))


def test_factory_builds_baselines_and_rejects_unknown_names(candidates):
    meta = synthetic_meta_dataset(n_datasets=2, n_configs=10)
    common = dict(candidates=candidates, space=synthetic_space(), metafeatures=None, meta_train=meta, max_epochs=3, seed=0)
    assert isinstance(make_optimizer("random", **common), RandomSearch)
    assert isinstance(make_optimizer("portfolio", **common), Portfolio)
    with pytest.raises(UnknownNameError, match="random"):
        make_optimizer("bohb", **common)


def test_only_quick_meta_trains_shared_predictors():
    meta = synthetic_meta_dataset(n_datasets=2, n_configs=5)
    for name in ("random", "portfolio", "quick-nometa"):
        assert meta_trained_predictors(name, meta_train=meta, space=synthetic_space(), seed=0) is None


def test_grouped_portfolios_order_by_what_runs_sharing_a_few_values_did_elsewhere():
    from qtt_core.metadataset.grouped import GroupedScores

    space = synthetic_space()
    meta = synthetic_meta_dataset(n_datasets=4, n_configs=30, n_epochs=4, seed=0)
    pool = sample_configurations(space, 20, seed=7)
    nested = make_optimizer("portfolio-nested", candidates=pool, space=space, metafeatures={}, meta_train=meta, max_epochs=4, seed=0)
    pair = make_optimizer("portfolio-lr-sched", candidates=pool, space=space, metafeatures={}, meta_train=meta, max_epochs=4, seed=0)
    assert nested.name == "portfolio-nested" and pair.name == "portfolio-lr-sched"
    assert pair.grouped.names == ("lr", "sched") and pair.grouped.shrinkage == 0.0
    expected = GroupedScores.fit(meta, 4, names=nested.grouped.names).score([nested.candidates[c] for c in nested._order])
    assert np.all(np.diff(expected) <= 1e-12)  # best first
    first = nested.ask()
    assert first.config_id == nested._order[0] and first.epoch == 1
