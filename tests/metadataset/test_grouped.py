"""Grouped scores: coarse knowledge from recorded runs, and the grouping chosen leave-one-dataset-out."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_shared
from qtt_core.metadataset.grouped import (
    GroupedScores,
    best_recorded_configs,
    choose_group_names,
    normalised_best_scores,
    out_of_dataset_scores,
)
from qtt_core.metadataset.table import MetaDataset


def table(rows: list[tuple[str, dict, float]]) -> MetaDataset:
    """One epoch per run: (dataset, configuration, score)."""
    return MetaDataset(
        configs=[c for _, c, _ in rows], metafeatures=np.zeros((len(rows), 0)), feature_names=[],
        datasets=[d for d, _, _ in rows], curves=np.array([[s] for _, _, s in rows]), cost_s=np.ones(len(rows)),
    )  # fmt: skip


def lr_matters(datasets=("a", "b", "c", "d"), noise_seed=0) -> MetaDataset:
    """lr 1e-4 is best on every dataset; ``noise`` is an irrelevant hyperparameter."""
    rng = np.random.default_rng(noise_seed)
    rows = []
    for k, dataset in enumerate(datasets):
        for lr, base in ((1e-5, 0.3), (1e-4, 0.8), (1e-3, 0.1)):
            for noise in range(4):
                rows.append((dataset, {"lr": lr, "noise": noise}, (0.5 + 0.1 * k) * (base + 0.05 * rng.random())))
    return table(rows)


def test_scores_are_normalised_within_each_dataset():
    meta = table([("a", {"x": 1}, 0.2), ("a", {"x": 2}, 0.4), ("b", {"x": 1}, 0.9), ("b", {"x": 2}, 0.6)])
    np.testing.assert_allclose(normalised_best_scores(meta, 1), [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(normalised_best_scores(meta, 1, "rank"), [0.0, 1.0, 1.0, 0.0])


def test_group_means_shrink_towards_the_coarser_group():
    meta = table([("a", {"lr": 1, "s": "x"}, 0.0), ("a", {"lr": 1, "s": "y"}, 1.0), ("a", {"lr": 2, "s": "x"}, 0.5)])
    plain = GroupedScores.fit(meta, 1, names=("lr", "s"), shrinkage=0.0)
    np.testing.assert_allclose(plain.score([{"lr": 1, "s": "y"}, {"lr": 3, "s": "x"}]), [1.0, 0.0])  # unseen: 0
    shrunk = GroupedScores.fit(meta, 1, names=("lr", "s"), shrinkage=1.0)
    overall = 0.5
    by_lr = (0.0 + 1.0 + overall) / 3
    assert shrunk.score([{"lr": 1, "s": "y"}])[0] == pytest.approx((1.0 + by_lr) / 2)
    assert shrunk.score([{"lr": 3, "s": "z"}])[0] == pytest.approx(overall)  # nothing shared: the overall mean


def test_leave_one_dataset_out_picks_what_carries_over_and_nothing_else():
    assert choose_group_names(lr_matters(), 1) == ("lr",)
    assert choose_group_names(lr_matters(datasets=("only",)), 1) == ()  # nothing to hold out


def test_out_of_dataset_scores_never_see_their_own_dataset():
    meta = table([("a", {"lr": 1}, 1.0), ("a", {"lr": 2}, 0.0), ("b", {"lr": 1}, 0.0), ("b", {"lr": 2}, 1.0)])
    np.testing.assert_allclose(out_of_dataset_scores(meta, 1, ("lr",), shrinkage=0.0), [0.0, 1.0, 1.0, 0.0])


def test_round_trip_and_best_recorded_configurations():
    meta = lr_matters()
    grouped = GroupedScores.fit(meta, 1)
    again = GroupedScores.from_dict(grouped.to_dict())
    configs = [{"lr": lr, "noise": 0} for lr in (1e-5, 1e-4, 1e-3)]
    np.testing.assert_array_equal(again.score(configs), grouped.score(configs))
    assert [c["lr"] for c in best_recorded_configs(meta, 3)] == [1e-4] * 3


@pytest.mark.shared_data
def test_on_the_recorded_sam2_runs_the_learning_rate_groups():
    from qtt_core.metadataset.io import read_meta_dataset
    from qtt_core.registry import Registry

    path = require_shared("metadataset", "qtt_seg_sam2_dev.csv")
    meta = read_meta_dataset(path, space=Registry().load_space("qtt-seg-sam2"))
    assert choose_group_names(meta, meta.num_epochs)[0] == "lr"
