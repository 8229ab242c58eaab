"""Input rows of the predictors."""

from __future__ import annotations

import numpy as np

from qtt_core.surrogates import CURVE_FEATURES, MetaFeatureScaler, curve_summary


def test_curve_summary_of_empty_partial_and_full_curves():
    curves = np.array([[0.0, 0.0, 0.0], [0.2, 0.5, np.nan], [0.3, 0.6, 0.4]])
    out = curve_summary(curves, np.array([0, 2, 3]), max_epochs=3)
    assert out.shape == (3, len(CURVE_FEATURES))
    np.testing.assert_allclose(out[0], 0.0)
    np.testing.assert_allclose(out[1], [0.5, 0.5, 0.3, 2 / 3, 1.0])
    np.testing.assert_allclose(out[2], [0.4, 0.6, -0.2, 1.0, 1.0])


def test_metafeature_scaler_round_trip_and_missing_names():
    scaler = MetaFeatureScaler.fit(["n", "c"], np.array([[100.0, 1.0], [1000.0, 3.0], [10000.0, 3.0]]))
    row = scaler.transform_dict({"n": 1000.0})
    assert row.shape == (2,) and row[1] == 0.0  # missing -> training mean
    assert np.all(np.abs(scaler.transform(np.array([[1e12, 1.0]]))) <= 3.0)
    again = MetaFeatureScaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.transform_dict({"n": 5.0, "c": 2.0}), scaler.transform_dict({"n": 5.0, "c": 2.0}))
