"""The in-memory meta-dataset: recorded tuning runs, one row per (dataset, configuration)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MetaDataset"]


@dataclass
class MetaDataset:
    """Recorded learning curves and costs.

    Attributes:
        configs: ``N`` plain dicts of active hyperparameters (normalised, see
            ``qtt_core.space.normalise_config``).
        metafeatures: ``N x F`` float array, columns named by ``feature_names``.
        feature_names: the ``F`` meta-feature names.
        datasets: ``N`` dataset ids.
        curves: ``N x E`` float array, the score after epochs 1..E (NaN after a run stopped).
        cost_s: ``N`` wall-clock seconds for all ``E`` recorded epochs.
        space: name of the search space the configurations belong to ("" if unknown).
        extra: per-row extra columns (e.g. seed, status) by name, each a list of ``N`` values.
        prompt: the prompt protocol every run was trained and scored with, one of
            :data:`qtt_core.adapter.PROMPT_PROTOCOLS` (``box``, the paper's, or ``none``);
            learning curves differ by protocol, so a meta-dataset holds runs of one.
    """

    configs: list[dict[str, Any]]
    metafeatures: np.ndarray
    feature_names: list[str]
    datasets: list[str]
    curves: np.ndarray
    cost_s: np.ndarray
    space: str = ""
    extra: dict[str, list[Any]] = field(default_factory=dict)
    prompt: str = "box"

    @property
    def num_epochs(self) -> int:
        """``E``, the number of recorded epochs."""
        return int(self.curves.shape[1])

    def __len__(self) -> int:
        return len(self.configs)

    def epoch_cost_s(self) -> np.ndarray:
        """``N`` seconds per epoch (the recorded total divided by the epochs run)."""
        epochs_run = np.maximum(1, np.sum(~np.isnan(self.curves), axis=1))
        return self.cost_s / epochs_run

    def subset(self, rows: np.ndarray | list[int]) -> MetaDataset:
        """The rows ``rows`` (indices or boolean mask) as a new MetaDataset."""
        index = np.arange(len(self))[rows]
        return MetaDataset(
            configs=[self.configs[i] for i in index],
            metafeatures=self.metafeatures[index],
            feature_names=list(self.feature_names),
            datasets=[self.datasets[i] for i in index],
            curves=self.curves[index],
            cost_s=self.cost_s[index],
            space=self.space,
            extra={k: [v[i] for i in index] for k, v in self.extra.items()},
            prompt=self.prompt,
        )

    def dataset_names(self) -> list[str]:
        """Distinct dataset ids in order of first appearance."""
        return list(dict.fromkeys(self.datasets))
