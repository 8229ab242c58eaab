"""Numeric inputs of the predictors: configuration, meta-features, partial curve, fidelity.

One input row is the concatenation of
- the encoded configuration (``qtt_core.space.SpaceEncoder``, ``D`` columns in [0, 1]);
- the normalised meta-features (``F`` columns, signed log then z-scored, clipped to [-3, 3]);
- a summary of the partial learning curve observed so far (:data:`CURVE_FEATURES`);
- the fidelity: the target epoch divided by ``max_epochs``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CURVE_FEATURES", "MetaFeatureScaler", "curve_summary", "performance_inputs"]

#: names of the curve-summary columns, in order
CURVE_FEATURES = ("curve_last", "curve_best", "curve_slope", "curve_length", "curve_observed")


@dataclass
class MetaFeatureScaler:
    """Signed ``log1p`` then z-score per meta-feature, fitted on the meta-training rows.

    Attributes:
        feature_names: the ``F`` meta-feature names, in column order.
        mean, std: per-feature statistics of the log-transformed values (length ``F``).
    """

    feature_names: list[str]
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, feature_names: Sequence[str], values: np.ndarray) -> MetaFeatureScaler:
        """Fit on an ``N x F`` array of raw meta-features."""
        logged = _signed_log(np.asarray(values, dtype=float).reshape(len(values), len(feature_names)))
        std = logged.std(axis=0) if len(logged) else np.ones(len(feature_names))
        mean = logged.mean(axis=0) if len(logged) else np.zeros(len(feature_names))
        std = np.where(std < 1e-8, 1.0, std)
        return cls(list(feature_names), mean.tolist(), std.tolist())

    @property
    def dim(self) -> int:
        """``F``."""
        return len(self.feature_names)

    def transform(self, values: np.ndarray) -> np.ndarray:
        """``N x F`` raw values to ``N x F`` normalised values in [-3, 3]."""
        values = np.asarray(values, dtype=float)
        values = values.reshape(len(values) if values.ndim == 2 else 1, self.dim)
        scaled = (_signed_log(values) - np.asarray(self.mean)) / np.asarray(self.std)
        return np.clip(np.nan_to_num(scaled), -3.0, 3.0)

    def transform_dict(self, metafeatures: Mapping[str, float] | None) -> np.ndarray:
        """One dataset's meta-features (missing names count as the training mean) as a length-``F`` row."""
        metafeatures = metafeatures or {}
        row = np.array([float(metafeatures.get(name, np.nan)) for name in self.feature_names])
        scaled = self.transform(np.nan_to_num(row, nan=0.0))[0]
        missing = np.isnan(row)
        scaled[missing] = 0.0
        return scaled

    def to_dict(self) -> dict[str, Any]:
        return {"feature_names": self.feature_names, "mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MetaFeatureScaler:
        return cls(list(data["feature_names"]), list(data["mean"]), list(data["std"]))


def _signed_log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


def curve_summary(curves: np.ndarray, lengths: np.ndarray, max_epochs: int) -> np.ndarray:
    """Summaries of partial learning curves.

    Args:
        curves: ``N x L`` scores after epochs 1..L (values past ``lengths`` are ignored).
        lengths: ``N`` number of observed epochs per row (0 = nothing observed yet).
        max_epochs: the epoch count that fidelity 1 stands for.

    Returns:
        ``N x 5`` array, columns :data:`CURVE_FEATURES`: last score, best score, last minus
        previous score, ``length / max_epochs``, and 1 when anything was observed (all 0 else).
    """
    curves = np.asarray(curves, dtype=float)
    lengths = np.asarray(lengths, dtype=int)
    n = len(lengths)
    out = np.zeros((n, len(CURVE_FEATURES)))
    if n == 0 or curves.shape[1] == 0:
        return out
    rows = np.arange(n)
    seen = lengths > 0
    last_index = np.clip(lengths - 1, 0, curves.shape[1] - 1)
    prev_index = np.clip(lengths - 2, 0, curves.shape[1] - 1)
    last = np.nan_to_num(curves[rows, last_index])
    prev = np.where(lengths > 1, np.nan_to_num(curves[rows, prev_index]), last)
    mask = np.arange(curves.shape[1])[None, :] < lengths[:, None]
    best = np.where(mask, np.nan_to_num(curves, nan=-np.inf), -np.inf).max(axis=1)
    out[:, 0] = np.where(seen, last, 0.0)
    out[:, 1] = np.where(seen, best, 0.0)
    out[:, 2] = np.where(seen, last - prev, 0.0)
    out[:, 3] = lengths / float(max_epochs)
    out[:, 4] = seen.astype(float)
    return out


def performance_inputs(
    encoded_configs: np.ndarray,
    metafeatures: np.ndarray,
    curves: np.ndarray,
    lengths: np.ndarray,
    target_epochs: np.ndarray,
    max_epochs: int,
) -> np.ndarray:
    """The ``N x (D + F + 5 + 1)`` input rows of the performance predictor.

    Args:
        encoded_configs: ``N x D`` encoded configurations.
        metafeatures: ``N x F`` normalised meta-features (``F`` may be 0).
        curves, lengths: partial curves, see :func:`curve_summary`.
        target_epochs: ``N`` 1-based epochs to predict the score at.
    """
    fidelity = np.asarray(target_epochs, dtype=float)[:, None] / float(max_epochs)
    metafeatures = np.asarray(metafeatures, dtype=float)
    return np.concatenate(
        [
            np.asarray(encoded_configs, dtype=float),
            metafeatures.reshape(len(fidelity), metafeatures.shape[-1] if metafeatures.ndim == 2 else 0),
            curve_summary(curves, lengths, max_epochs),
            fidelity,
        ],
        axis=1,
    )
