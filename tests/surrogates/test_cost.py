"""The cost predictor: seconds per epoch, run correction, persistence."""

from __future__ import annotations

import numpy as np
import pytest
from botorch.models.model import Model

from qtt_core.errors import UsageError
from qtt_core.surrogates import CostPredictor


def cost_inputs(cost, data):
    return cost.inputs(cost.encoder.encode(data.configs), dict(zip(data.feature_names, data.metafeatures[0], strict=True)))


def test_predicts_seconds_per_epoch_of_unseen_configurations(trained_pair, held_out):
    cost = trained_pair[1]
    assert isinstance(cost.model, Model)
    predicted = cost.predict(cost_inputs(cost, held_out))
    truth = held_out.epoch_cost_s()
    assert predicted.shape == truth.shape and np.all(predicted > 0)
    assert np.corrcoef(np.log(predicted), np.log(truth))[0, 1] > 0.8


def test_observed_costs_correct_the_scale(trained_pair, held_out):
    cost = trained_pair[1]
    X = cost_inputs(cost, held_out)
    try:
        base = cost.predict(X)
        cost.observe(X[:3], 2.0 * base[:3])
        np.testing.assert_allclose(cost.predict(X), 2.0 * base, rtol=1e-9)
    finally:
        cost.log_correction = 0.0


def test_without_meta_training_it_fits_the_run_costs(space, held_out):
    cost = CostPredictor(space, seed=0)
    X = cost_inputs(cost, held_out)
    np.testing.assert_allclose(cost.predict(X[:2]), 1.0)  # nothing known: one second
    truth = held_out.epoch_cost_s()
    cost.observe(X[:1], truth[:1])
    np.testing.assert_allclose(cost.predict(X[5:7]), truth[0])
    cost.observe(X[:20], truth[:20])
    assert cost.model is not None
    assert np.corrcoef(np.log(cost.predict(X[20:])), np.log(truth[20:]))[0, 1] > 0.5


def test_save_load_round_trip(trained_pair, held_out, tmp_path):
    cost = trained_pair[1]
    cost.save(tmp_path)
    loaded = CostPredictor.load(tmp_path)
    X = cost_inputs(cost, held_out)
    np.testing.assert_allclose(loaded.predict(X), cost.predict(X), rtol=1e-10)


def test_saving_an_unfitted_predictor_is_a_usage_error(space, tmp_path):
    with pytest.raises(UsageError):
        CostPredictor(space).save(tmp_path)
