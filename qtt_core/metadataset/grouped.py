"""Coarse knowledge from recorded runs: how well runs that share a few hyperparameter values did.

A configuration's *grouped score* is the mean normalised score (:func:`normalised_best_scores`)
of the recorded runs that share its values of a few hyperparameters (its *group*), shrunk
towards the grouped score one hyperparameter coarser: with names ``(lr, sched)`` the score of
``lr = 1e-4, sched = cosine`` is the mean over runs with both values, shrunk towards the mean
over runs with ``lr = 1e-4``, shrunk towards the mean over all runs. Few hyperparameters and
means over many runs of several datasets: coarse, robust knowledge that carries over to a new
dataset, where a fit on every hyperparameter does not (a new dataset shares almost no
configuration with the recorded ones).

Which hyperparameters group is chosen on the recorded runs by leave-one-dataset-out
(:func:`choose_group_names`): forward selection, one name at a time, kept only when it raises
the held-out datasets' mean normalised score of the top-ranked configurations by a margin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtt_core.metadataset.table import MetaDataset
from qtt_core.space.identity import config_id

__all__ = ["WHOLE_CONFIGURATION", "GroupedScores", "best_recorded_configs", "choose_group_names", "normalised_best_scores", "out_of_dataset_scores"]

#: recorded runs the coarser group's score counts as (shrinkage of a group's mean)
SHRINKAGE = 1.0
#: forward selection adds a name only when it raises the held-out top-k quality by this much
SELECTION_MARGIN = 0.03
#: the held-out quality is the mean normalised score of this many top-ranked configurations
SELECTION_TOP_K = 3
#: at most this many names group
MAX_NAMES = 3


def normalised_best_scores(meta: MetaDataset, max_epochs: int, normalise: str = "minmax") -> np.ndarray:
    """Each run's best score within ``max_epochs`` epochs, normalised within its dataset.

    Args:
        meta: the recorded runs.
        max_epochs: epochs the score may take.
        normalise: ``"minmax"`` ((score - worst) / (best - worst)) or ``"rank"`` (the rank
            among the dataset's runs, 0 worst .. 1 best, ties averaged).

    Returns:
        ``N`` floats in [0, 1] (0.5 for every run of a dataset whose runs all score the same,
        0 for a run without any score).
    """
    from scipy.stats import rankdata

    if normalise not in ("minmax", "rank"):
        raise ValueError(f"normalise={normalise!r}: use 'minmax' or 'rank'")
    curves = meta.curves[:, :max_epochs]
    best = np.where(np.isnan(curves), -np.inf, curves).max(axis=1) if curves.shape[1] else np.full(len(meta), -np.inf)
    datasets = np.asarray(meta.datasets)
    normalised = np.full(len(best), 0.5)
    for dataset in meta.dataset_names():
        rows = (datasets == dataset) & np.isfinite(best)
        if rows.any() and best[rows].max() > best[rows].min():
            if normalise == "rank":
                normalised[rows] = (rankdata(best[rows]) - 1) / (rows.sum() - 1)
            else:
                low, high = best[rows].min(), best[rows].max()
                normalised[rows] = (best[rows] - low) / (high - low)
    normalised[~np.isfinite(best)] = 0.0
    return normalised


#: the grouping "name" of the whole configuration: runs of exactly the same configuration (a
#: strict portfolio; it carries over when the datasets were recorded with the same configurations)
WHOLE_CONFIGURATION = "configuration"


def _group_key(config: Mapping[str, Any], names: Sequence[str]) -> str:
    return "|".join(config_id(config) if name == WHOLE_CONFIGURATION else repr(config.get(name)) for name in names)


@dataclass
class GroupedScores:
    """Grouped scores of configurations, see the module docstring.

    Attributes:
        names: the hyperparameters that group, coarsest first (``()``: every configuration
            scores the overall mean).
        overall: mean normalised score of all recorded runs.
        groups: per depth ``k`` (1 .. ``len(names)``), group key -> ``[sum, count]`` of the
            normalised scores of the runs that share the first ``k`` names' values.
        shrinkage: how many runs the coarser score counts as; 0: no shrinkage, and a
            configuration whose group has no run scores 0 (a plain portfolio).
    """

    names: tuple[str, ...] = ()
    overall: float = 0.5
    groups: list[dict[str, list[float]]] = field(default_factory=list)
    shrinkage: float = SHRINKAGE

    @classmethod
    def fit(
        cls,
        meta: MetaDataset,
        max_epochs: int,
        names: Sequence[str] | None = None,
        shrinkage: float = SHRINKAGE,
        normalise: str = "minmax",
    ) -> GroupedScores:
        """Group the runs of ``meta`` by ``names`` (None: chosen by :func:`choose_group_names`)."""
        if names is None:
            names = choose_group_names(meta, max_epochs, shrinkage=shrinkage, normalise=normalise)
        scores = normalised_best_scores(meta, max_epochs, normalise) if len(meta) else np.zeros(0)
        groups: list[dict[str, list[float]]] = []
        for depth in range(1, len(names) + 1):
            table: dict[str, list[float]] = {}
            for config, score in zip(meta.configs, scores):
                entry = table.setdefault(_group_key(config, names[:depth]), [0.0, 0.0])
                entry[0] += float(score)
                entry[1] += 1.0
            groups.append(table)
        overall = float(np.mean(scores)) if len(scores) else 0.5
        return cls(tuple(names), overall, groups, float(shrinkage))

    def score(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``N`` grouped scores in [0, 1] (higher: runs like it did better elsewhere)."""
        scores = np.full(len(configs), self.overall)
        for depth, table in enumerate(self.groups, start=1):
            keys = [_group_key(config, self.names[:depth]) for config in configs]
            sums = np.array([table.get(key, (0.0, 0.0))[0] for key in keys])
            counts = np.array([table.get(key, (0.0, 0.0))[1] for key in keys])
            if self.shrinkage > 0:
                scores = (sums + self.shrinkage * scores) / (counts + self.shrinkage)
            else:
                scores = np.where(counts > 0, sums / np.maximum(counts, 1.0), 0.0)
        return scores

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "overall": self.overall, "groups": self.groups, "shrinkage": self.shrinkage}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroupedScores:
        groups = [{str(k): [float(v[0]), float(v[1])] for k, v in table.items()} for table in data.get("groups", [])]
        return cls(tuple(data.get("names", ())), float(data.get("overall", 0.5)), groups, float(data.get("shrinkage", SHRINKAGE)))


def out_of_dataset_scores(meta: MetaDataset, max_epochs: int, names: Sequence[str], shrinkage: float = SHRINKAGE) -> np.ndarray:
    """Each run's grouped score from the *other* datasets' runs: ``N`` floats.

    What a predictor learns the grouped score's meaning from: on a new dataset a configuration's
    grouped score never includes its own result, so the meta-training rows' must not either.
    """
    datasets = np.asarray(meta.datasets)
    out = np.zeros(len(meta))
    for dataset in meta.dataset_names():
        rows = datasets == dataset
        others = GroupedScores.fit(meta.subset(~rows), max_epochs, names, shrinkage) if (~rows).any() else GroupedScores()
        out[rows] = others.score([meta.configs[i] for i in np.flatnonzero(rows)])
    return out


def choose_group_names(
    meta: MetaDataset,
    max_epochs: int,
    shrinkage: float = SHRINKAGE,
    normalise: str = "minmax",
    max_names: int = MAX_NAMES,
    margin: float = SELECTION_MARGIN,
    top_k: int = SELECTION_TOP_K,
) -> tuple[str, ...]:
    """The hyperparameters to group by, chosen by leave-one-dataset-out on ``meta``.

    Forward selection: starting from none, add the name (a hyperparameter, or
    :data:`WHOLE_CONFIGURATION`) whose grouping gives the highest
    held-out quality (for each dataset in turn, rank its runs by grouped scores fitted on the
    other datasets; the quality is the mean normalised score of the ``top_k`` first, averaged
    over datasets), as long as it beats the current quality by ``margin``.

    Returns:
        Up to ``max_names`` names; ``()`` with fewer than two datasets (nothing to hold out).
    """
    if len(meta.dataset_names()) < 2:
        return ()
    names = sorted({name for config in meta.configs for name in config}) + [WHOLE_CONFIGURATION]
    chosen: list[str] = []
    best = _held_out_quality(meta, max_epochs, chosen, shrinkage, normalise, top_k)
    while len(chosen) < max_names:
        trials = [(_held_out_quality(meta, max_epochs, [*chosen, n], shrinkage, normalise, top_k), n) for n in names if n not in chosen]
        if not trials:
            break
        quality, name = max(trials, key=lambda t: t[0])
        if quality < best + margin:
            break
        chosen.append(name)
        best = quality
    return tuple(chosen)


def _held_out_quality(
    meta: MetaDataset, max_epochs: int, names: Sequence[str], shrinkage: float, normalise: str, top_k: int
) -> float:
    datasets = np.asarray(meta.datasets)
    truth = normalised_best_scores(meta, max_epochs, normalise)
    values = []
    for dataset in meta.dataset_names():
        rows = np.flatnonzero(datasets == dataset)
        grouped = GroupedScores.fit(meta.subset(datasets != dataset), max_epochs, names, shrinkage, normalise)
        order = np.argsort(-grouped.score([meta.configs[i] for i in rows]), kind="stable")
        values.append(float(np.mean(truth[rows][order[:top_k]])))
    return float(np.mean(values))


def best_recorded_configs(meta: MetaDataset, n: int) -> list[dict[str, Any]]:
    """The ``n`` recorded configurations with the highest mean normalised best score, best first."""
    scores: dict[str, list[float]] = {}
    configs: dict[str, dict[str, Any]] = {}
    for config, score in zip(meta.configs, normalised_best_scores(meta, meta.num_epochs)):
        key = config_id(config)
        configs.setdefault(key, dict(config))
        scores.setdefault(key, []).append(float(score))
    ranked = sorted(scores, key=lambda key: -float(np.mean(scores[key])))
    return [configs[key] for key in ranked[:n]]
