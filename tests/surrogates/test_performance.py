"""The deep-kernel performance predictor: learns, conditions, saves, follows BoTorch shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from botorch.models.model import Model
from scipy.stats import spearmanr

from qtt_core.errors import UsageError
from qtt_core.surrogates import DeepKernelGP, PerformancePredictor


def final_inputs(predictor, data, metafeatures=None):
    n = len(data)
    mf = metafeatures if metafeatures is not None else dict(zip(data.feature_names, data.metafeatures[0], strict=True))
    encoded = predictor.encode(data.configs)
    return predictor.inputs(encoded, mf, np.zeros((n, 0)), np.zeros(n, dtype=int), np.full(n, data.num_epochs))


def test_ranks_unseen_configurations_of_an_unseen_dataset(trained_pair, held_out):
    performance, _ = trained_pair
    mean, std = performance.predict(final_inputs(performance, held_out))
    rho = spearmanr(mean, held_out.curves[:, -1]).statistic
    assert rho > 0.2, f"rank correlation {rho:.2f} on 200 held-out configurations"  # p < 0.005
    assert np.all(std > 0)


def test_untrained_predictor_does_not_rank(space, held_out):
    untrained = PerformancePredictor(space, max_epochs=held_out.num_epochs, seed=0)
    mean, _ = untrained.predict(final_inputs(untrained, held_out, {}))
    np.testing.assert_allclose(mean, mean[0])  # a constant prior mean: no ranking without data


def test_conditioning_on_observations_moves_predictions_towards_them(trained_pair, held_out):
    performance = trained_pair[0]
    try:
        X = final_inputs(performance, held_out)
        Y = torch.as_tensor(held_out.curves[:, -1:], dtype=torch.float64)
        prior_mean, prior_std = performance.predict(X[:10])
        performance.condition(X[:10], Y[:10])
        mean, std = performance.predict(X[:10])
        assert np.mean(np.abs(mean - Y[:10, 0].numpy())) < np.mean(np.abs(prior_mean - Y[:10, 0].numpy()))
        assert np.all(std < prior_std)
    finally:
        performance.condition(None, None)


def test_is_a_botorch_model_with_botorch_shapes(trained_pair, held_out):
    model = trained_pair[0].model
    assert isinstance(model, Model) and isinstance(model, DeepKernelGP)
    X = final_inputs(trained_pair[0], held_out)[:12]
    assert model.posterior(X).mean.shape == (12, 1)
    batched = X.reshape(4, 3, -1)
    posterior = model.posterior(batched)
    assert posterior.mean.shape == (4, 3, 1) and posterior.variance.shape == (4, 3, 1)
    assert torch.allclose(posterior.mean.reshape(-1), model.posterior(X).mean.reshape(-1))


def test_save_load_round_trip_gives_identical_predictions(trained_pair, held_out, tmp_path):
    performance = trained_pair[0]
    performance.save(tmp_path)
    assert json.loads((tmp_path / "performance.json").read_text())["scaler"]["feature_names"] == ["num_samples", "num_channels"]
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob("*.pt"))
    loaded = PerformancePredictor.load(tmp_path)
    X = final_inputs(performance, held_out)
    np.testing.assert_allclose(loaded.predict(X)[0], performance.predict(X)[0], rtol=1e-9)  # up to float rounding
    np.testing.assert_allclose(loaded.predict(X)[1], performance.predict(X)[1], rtol=1e-9)
    assert loaded.typical_scale == performance.typical_scale
    assert loaded.scale_prior_weight == performance.scale_prior_weight


def test_older_files_without_a_scale_prior_weight_load_with_the_default(trained_pair, tmp_path):
    from qtt_core.surrogates.performance import SCALE_PRIOR_WEIGHT

    trained_pair[0].save(tmp_path)
    settings = json.loads((tmp_path / "performance.json").read_text())
    del settings["scale_prior_weight"]
    (tmp_path / "performance.json").write_text(json.dumps(settings))
    assert PerformancePredictor.load(tmp_path).scale_prior_weight == SCALE_PRIOR_WEIGHT


def test_load_from_a_folder_without_predictors_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="meta fit"):
        PerformancePredictor.load(tmp_path)


def test_meta_training_is_deterministic_for_a_seed(space, meta, held_out):
    small = meta.subset(np.arange(0, len(meta), 3))
    first = PerformancePredictor(space, seed=3).meta_fit(small, n_pairs=200, steps=10)
    second = PerformancePredictor(space, seed=3).meta_fit(small, n_pairs=200, steps=10)
    X = final_inputs(first, held_out)
    np.testing.assert_array_equal(first.predict(X)[0], second.predict(X)[0])


def test_calibrate_rescales_to_the_dataset(trained_pair, held_out):
    performance = trained_pair[0]
    try:
        performance.reset_scale()
        X = final_inputs(performance, held_out)[:5]
        scale = performance.calibrate(X, 0.5 * np.ones(5))
        assert scale > 0 and performance.score_scale == scale
        assert performance.calibrate(None, None) == performance.typical_scale
    finally:
        performance.reset_scale()


def test_the_scale_prior_weight_says_how_fast_observations_outweigh_the_typical_scale(trained_pair, held_out):
    performance = trained_pair[0]
    X = final_inputs(performance, held_out)[:1]
    with torch.no_grad():
        prior_mean = float(performance.model.mean_module(X)[0])
    observed = 0.25 * prior_mean * performance.typical_scale  # a dataset at a quarter of the typical scale
    scales = {}
    try:
        for weight in (0.0, 0.1, 1.0, 100.0):
            performance.scale_prior_weight = weight
            performance.reset_scale()
            scales[weight] = performance.calibrate(X, np.array([observed]))
    finally:
        performance.scale_prior_weight = PerformancePredictor(performance.space).scale_prior_weight
        performance.reset_scale()
    assert scales[0.0] == pytest.approx(observed / prior_mean)  # the observation alone
    assert scales[0.0] < scales[0.1] < scales[1.0] < scales[100.0] <= performance.typical_scale
    assert scales[100.0] == pytest.approx(performance.typical_scale, rel=0.05)
