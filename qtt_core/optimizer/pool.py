"""Book-keeping of a candidate pool: partial curves, costs, failures, early stopping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qtt_core.errors import UsageError
from qtt_core.space.identity import config_id, normalise_config

__all__ = ["CandidatePool"]


class CandidatePool:
    """Every candidate's observed curve (freeze-thaw) and status, as arrays over the pool.

    Attributes:
        configs: ``N`` plain configurations; ``ids``: their config ids.
        curves: ``N x max_epochs`` observed scores (NaN where not observed).
        lengths: ``N`` epochs reached.
        cost_sum_s, cost_count: ``N`` summed seconds and number of epochs with a cost.
        failed, stopped: ``N`` booleans (failed trials; early-stopped configurations).
    """

    def __init__(self, candidates: Sequence[Mapping[str, Any]], max_epochs: int):
        unique: dict[str, dict[str, Any]] = {}
        for candidate in candidates:
            config = normalise_config(candidate)
            unique.setdefault(config_id(config), config)
        self.ids = list(unique)
        self.configs = list(unique.values())
        self.max_epochs = int(max_epochs)
        self._index = {cid: i for i, cid in enumerate(self.ids)}
        self.reset()

    def __len__(self) -> int:
        return len(self.ids)

    def reset(self) -> None:
        """Forget every observation."""
        n = len(self.ids)
        self.curves = np.full((n, self.max_epochs), np.nan)
        self.lengths = np.zeros(n, dtype=int)
        self.cost_sum_s = np.zeros(n)
        self.cost_count = np.zeros(n, dtype=int)
        self.failed = np.zeros(n, dtype=bool)
        self.stopped = np.zeros(n, dtype=bool)
        self._epochs_without_gain = np.zeros(n, dtype=int)

    def index_of(self, cid: str) -> int:
        """Position of ``cid`` in the pool.

        Raises:
            UsageError: ``cid`` is not in the pool.
        """
        try:
            return self._index[cid]
        except KeyError:
            raise UsageError(f"configuration {cid!r} is not in the candidate pool; tell only ids that ask returned") from None

    def observe(self, index: int, epoch: int, score: float, cost_s: float, patience: int, tolerance: float) -> None:
        """Record ``score`` after ``epoch`` (1-based) and the ``cost_s`` seconds it took.

        Epochs skipped in between take the same score; the configuration is stopped after
        ``patience`` epochs in a row that gain no more than ``tolerance`` over its best.
        """
        if not 1 <= epoch <= self.max_epochs:
            raise UsageError(f"epoch {epoch} of {self.ids[index]} is outside 1..{self.max_epochs}")
        reached = int(self.lengths[index])
        previous_best = np.nanmax(self.curves[index, :reached]) if reached else -np.inf
        start = min(reached, epoch - 1)
        self.curves[index, start:epoch] = score
        self.lengths[index] = max(reached, epoch)
        if np.isfinite(cost_s) and cost_s >= 0:
            self.cost_sum_s[index] += cost_s
            self.cost_count[index] += max(1, epoch - reached)
        if score > previous_best + tolerance:
            self._epochs_without_gain[index] = 0
        else:
            self._epochs_without_gain[index] += 1
        if patience > 0 and self._epochs_without_gain[index] >= patience:
            self.stopped[index] = True

    def fail(self, index: int) -> None:
        """Mark a failed trial; it is never asked again."""
        self.failed[index] = True

    def active(self) -> np.ndarray:
        """Indices of candidates that may still be trained (not failed, stopped or finished)."""
        return np.flatnonzero(~self.failed & ~self.stopped & (self.lengths < self.max_epochs))

    def untried(self) -> np.ndarray:
        """Active indices with no epoch observed."""
        return np.flatnonzero(~self.failed & ~self.stopped & (self.lengths == 0))

    def num_tried(self) -> int:
        """Candidates with an observation or a failure."""
        return int(np.sum((self.lengths > 0) | self.failed))

    def observed_prefixes(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (row, t) with epoch t + 1 observed: two arrays of equal length (row index, t)."""
        rows = np.repeat(np.arange(len(self)), self.lengths)
        prefix = np.concatenate([np.arange(n) for n in self.lengths]) if len(rows) else np.zeros(0, dtype=int)
        return rows, prefix.astype(int)

    def observed_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows with a recorded cost, and their mean seconds per epoch."""
        rows = np.flatnonzero(self.cost_count > 0)
        return rows, self.cost_sum_s[rows] / self.cost_count[rows]

    def best_score_at_epoch(self) -> np.ndarray:
        """Length ``max_epochs``: the best score observed at each epoch (NaN where none)."""
        if not np.any(self.lengths):
            return np.full(self.max_epochs, np.nan)
        observed = self.curves[self.lengths > 0]
        with np.errstate(all="ignore"):
            best = np.where(np.all(np.isnan(observed), axis=0), np.nan, np.nanmax(np.nan_to_num(observed, nan=-np.inf), axis=0))
        return best

    def best_score(self) -> float:
        """The best score observed at any epoch (NaN when none)."""
        found = self.incumbent()
        return float("nan") if found is None else found[2]

    def incumbent(self) -> tuple[str, int, float] | None:
        """(config_id, epoch, score) of the best observation; the earliest one on ties."""
        if not np.any(self.lengths):
            return None
        scores = np.where(np.isnan(self.curves), -np.inf, self.curves)
        flat = int(np.argmax(scores))
        index, epoch = divmod(flat, self.max_epochs)
        return self.ids[index], epoch + 1, float(self.curves[index, epoch])
