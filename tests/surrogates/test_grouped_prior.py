"""The grouped prior mean: untried configurations ranked by grouped score, tried ones by their
own curve at the same scale, so a run leaves its prior's ranking only when observations say so."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qtt_core.optimizer.quick import QuickTuneOptimizer
from qtt_core.space import sample_configurations
from qtt_core.surrogates.dkl import GroupedPriorMean


def test_untried_is_linear_in_the_grouped_score_and_tried_grows_from_its_best():
    intercept, slope = torch.tensor([0.2, 0.4]), torch.tensor([0.5, 0.5])
    mean = GroupedPriorMean(intercept, slope, grouped_column=0, best_column=1, observed_column=2, length_column=3, fidelity_column=4)
    x = torch.tensor(
        [
            [0.6, 0.0, 0.0, 0.0, 1.0],  # untried, epoch 2 of 2
            [0.6, 0.0, 0.0, 0.0, 0.5],  # untried, epoch 1
            [0.6, 0.3, 1.0, 0.5, 1.0],  # best 0.3 after epoch 1, predicted at epoch 2
        ],
        dtype=torch.float64,
    )
    np.testing.assert_allclose(mean(x).numpy(), [0.7, 0.5, 0.3 * 0.7 / 0.5])


def test_meta_trained_prior_ranks_like_the_grouped_scores(trained_pair, held_out):
    from scipy.stats import spearmanr

    performance = trained_pair[0]
    n = len(held_out)
    X = performance.inputs(performance.encode(held_out.configs), {}, np.zeros((n, 0)), np.zeros(n, dtype=int), np.full(n, held_out.num_epochs))
    with torch.no_grad():
        prior = performance.model.mean_module(X).numpy()
    grouped = performance.grouped.score(held_out.configs)
    assert spearmanr(prior, grouped).statistic == pytest.approx(1.0) or np.ptp(grouped) == 0


@pytest.fixture
def quick(trained_pair, space):
    candidates = sample_configurations(space, 40, seed=3)
    return QuickTuneOptimizer(candidates, space, {}, max_epochs=trained_pair[0].max_epochs, seed=0, predictors=trained_pair)


def test_a_first_pick_that_scores_as_its_prior_said_is_continued(quick):
    first = quick.ask(remaining_s=1000.0)
    quick.tell(first.config_id, 1, 0.5, 10.0)  # whatever the scale: the dataset's is learnt from it
    second = quick.ask(remaining_s=990.0)
    assert (second.config_id, second.epoch) == (first.config_id, 2)


def test_a_first_pick_far_below_the_others_is_left(quick):
    first = quick.ask(remaining_s=1000.0)
    quick.tell(first.config_id, 1, 0.6, 10.0)
    second = quick.ask(remaining_s=990.0)
    quick.tell(second.config_id, second.epoch, 0.6, 10.0)
    # another configuration collapses after its first epoch: the run does not return to it
    others = [cid for cid in quick.pool.ids if cid != first.config_id]
    quick.tell(others[0], 1, 0.01, 10.0)
    for _ in range(3):
        ask = quick.ask(remaining_s=900.0)
        assert ask.config_id != others[0]
        quick.tell(ask.config_id, ask.epoch, 0.6, 10.0)
