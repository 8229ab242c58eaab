"""The explore-then-commit policies of ``benchmarks/explore_or_commit.py`` on synthetic recorded runs."""

from __future__ import annotations

import numpy as np
from explore_or_commit import ExploreThenCommit

from qtt_core.metadataset.synthetic import synthetic_meta_dataset
from qtt_core.optimizer.baselines import GroupedPortfolio
from qtt_core.replay.simulate import ReplayPool, simulate_run


def _pool_and_meta_train():
    meta = synthetic_meta_dataset(n_datasets=3, n_configs=12, n_epochs=6, seed=2)
    held_out = meta.dataset_names()[0]
    return ReplayPool.from_meta_dataset(meta, held_out), meta.subset(np.asarray(meta.datasets) != held_out)


def _trained(trace) -> list[tuple[str, int]]:
    return [(event.config_id, event.epoch) for event in trace.events]


def test_committing_to_the_first_pick_is_the_grouped_portfolio():
    pool, meta_train = _pool_and_meta_train()
    horizon_s = 40 * float(pool.epoch_cost_s.max())
    commit = simulate_run(ExploreThenCommit(pool.configs, meta_train, pool.num_epochs, 3, explore=1, epochs=pool.num_epochs), pool, horizon_s)
    portfolio = simulate_run(GroupedPortfolio(pool.configs, meta_train, pool.num_epochs, 3), pool, horizon_s)
    assert _trained(commit) == _trained(portfolio)


def test_explores_the_first_candidates_then_goes_on_with_the_best_of_them():
    pool, meta_train = _pool_and_meta_train()
    policy = ExploreThenCommit(pool.configs, meta_train, pool.num_epochs, 0, explore=3, epochs=2)
    order = list(policy._order)
    trained = _trained(simulate_run(policy, pool, 1e6))
    assert trained[:6] == [(cid, epoch) for cid in order[:3] for epoch in (1, 2)]
    curves = {cid: pool.curves[pool.config_ids.index(cid)] for cid in order[:3]}
    best = max(order[:3], key=lambda cid: np.nanmax(curves[cid][:2]))
    assert trained[6] == (best, 3)
    assert len(trained) == len(set(trained)) and {cid for cid, _ in trained} == set(pool.config_ids)
