"""One simulated tuning run on recorded learning curves, and the oracle it is measured against.

Training a configuration from epoch ``k`` to ``k + 1`` is a look-up of its recorded curve. A
simulated clock advances by the recorded seconds of that epoch and by the optimiser's own
compute time (``time.perf_counter`` around ``ask`` and ``tell``). Time is kept per worker
(``SimulatedClock.free_at_s``); with one worker the run is sequential. A run with several
workers would hand each ask to the earliest free worker and deliver tells in order of finish
time; only one worker is simulated so far.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qtt_core.metadataset.table import MetaDataset
from qtt_core.optimizer.base import Optimizer
from qtt_core.space.identity import config_id

__all__ = ["Event", "ReplayPool", "SimulatedClock", "normalised_regret", "oracle_scores", "simulate_run"]


@dataclass
class ReplayPool:
    """The recorded runs of one dataset, as the candidate pool of a replay.

    Attributes:
        dataset: the dataset id.
        config_ids: ``C`` ids, distinct (a configuration recorded twice keeps its first row).
        configs: ``C`` configurations.
        curves: ``C x E`` scores after epochs 1..E (NaN where the run had stopped).
        epoch_cost_s: ``C`` recorded seconds per epoch.
        metafeatures: the dataset's meta-features by name.
        duplicates: rows dropped because their configuration was already in the pool.
    """

    dataset: str
    config_ids: list[str]
    configs: list[dict[str, Any]]
    curves: np.ndarray
    epoch_cost_s: np.ndarray
    metafeatures: dict[str, float]
    duplicates: int = 0

    @classmethod
    def from_meta_dataset(cls, meta_dataset: MetaDataset, dataset: str) -> ReplayPool:
        """The pool of ``dataset``: exactly the configurations recorded for it."""
        rows = [i for i, name in enumerate(meta_dataset.datasets) if name == dataset]
        first: dict[str, int] = {}
        for i in rows:
            first.setdefault(config_id(meta_dataset.configs[i]), i)
        keep = list(first.values())
        epoch_cost_s = meta_dataset.epoch_cost_s()
        return cls(
            dataset=dataset,
            config_ids=list(first),
            configs=[meta_dataset.configs[i] for i in keep],
            curves=meta_dataset.curves[keep],
            epoch_cost_s=epoch_cost_s[keep],
            metafeatures={n: float(v) for n, v in zip(meta_dataset.feature_names, meta_dataset.metafeatures[rows[0]])},
            duplicates=len(rows) - len(keep),
        )

    @property
    def num_epochs(self) -> int:
        return int(self.curves.shape[1])

    def best_scores(self) -> np.ndarray:
        """``C`` best recorded score of each configuration over all epochs (-inf: none)."""
        return np.where(np.isnan(self.curves), -np.inf, self.curves).max(axis=1)

    def reference(self) -> tuple[float, float]:
        """``(y_star, y_min)``: the best and the worst of the configurations' best scores."""
        best = self.best_scores()
        best = best[np.isfinite(best)]
        return float(best.max()), float(best.min())


@dataclass(frozen=True)
class Event:
    """One epoch that finished in the simulation.

    Attributes:
        end_s: simulated seconds since the start when it finished.
        config_id: which configuration.
        epoch: the 1-based epoch it reached.
        score: the recorded score after that epoch.
    """

    end_s: float
    config_id: str
    epoch: int
    score: float


@dataclass
class SimulatedClock:
    """Simulated seconds per worker; ``free_at_s[w]`` is when worker ``w`` is next idle."""

    workers: int = 1
    free_at_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.free_at_s = self.free_at_s or [0.0] * self.workers

    def next_worker(self) -> int:
        """The worker that is free first."""
        return int(np.argmin(self.free_at_s))

    def advance(self, worker: int, seconds: float) -> float:
        """Spend ``seconds`` on ``worker``; returns its new time."""
        self.free_at_s[worker] += float(seconds)
        return self.free_at_s[worker]


@dataclass
class RunTrace:
    """What one simulated run did.

    Attributes:
        events: finished epochs in order of finish time.
        optimizer_time_s: measured seconds the optimiser spent in ask and tell.
        failed: configurations told failed (no recorded score at the asked epoch).
    """

    events: list[Event] = field(default_factory=list)
    optimizer_time_s: float = 0.0
    failed: list[str] = field(default_factory=list)

    def incumbent_at(self, budget_s: float) -> tuple[float, int, int]:
        """``(best score, epochs, distinct configurations)`` of epochs ending by ``budget_s``.

        The score is NaN when no epoch finished in time.
        """
        done = [e for e in self.events if e.end_s <= budget_s]
        best = max((e.score for e in done), default=float("nan"))
        return best, len(done), len({e.config_id for e in done})


def simulate_run(optimizer: Optimizer, pool: ReplayPool, horizon_s: float, count_optimizer_time: bool = True) -> RunTrace:
    """Run ``optimizer`` on ``pool`` until it stops or the next epoch would end after ``horizon_s``.

    Each asked epoch is trained epoch by epoch from where its configuration stopped, and
    each finished epoch is told. An epoch whose score was not recorded is told as failed.

    Args:
        optimizer: a fresh optimiser over ``pool.configs``.
        pool: the recorded runs.
        horizon_s: the largest budget, in simulated seconds.
        count_optimizer_time: add the optimiser's measured ask/tell time to the clock.

    Returns:
        The trace; every event ends at or before ``horizon_s``.

    Raises:
        RuntimeError: the optimiser asked for a configuration outside the pool or an epoch
            it had already reached or beyond the recorded epochs.
    """
    index = {cid: i for i, cid in enumerate(pool.config_ids)}
    reached: dict[str, int] = {}
    clock, trace = SimulatedClock(workers=1), RunTrace()

    def timed(call, *args):
        start = time.perf_counter()
        result = call(*args)
        spent = time.perf_counter() - start
        trace.optimizer_time_s += spent
        if count_optimizer_time:
            clock.advance(0, spent)
        return result

    while clock.free_at_s[0] < horizon_s:
        ask = timed(optimizer.ask)
        if ask is None:
            break
        row = index.get(ask.config_id)
        start_epoch = reached.get(ask.config_id, 0)
        if row is None or not start_epoch < ask.epoch <= pool.num_epochs:
            raise RuntimeError(
                f"optimiser {optimizer.name!r} asked for {ask.config_id} epoch {ask.epoch} "
                f"(in pool: {row is not None}, reached: {start_epoch}, recorded epochs: {pool.num_epochs})"
            )
        for epoch in range(start_epoch + 1, ask.epoch + 1):
            score = float(pool.curves[row, epoch - 1])
            if np.isnan(score):
                timed(optimizer.tell_failed, ask.config_id, f"no recorded score after epoch {epoch}")
                trace.failed.append(ask.config_id)
                break
            end_s = clock.free_at_s[0] + float(pool.epoch_cost_s[row])
            if end_s > horizon_s:
                return trace
            clock.advance(0, float(pool.epoch_cost_s[row]))
            reached[ask.config_id] = epoch
            trace.events.append(Event(end_s, ask.config_id, epoch, score))
            timed(optimizer.tell, ask.config_id, epoch, score, float(pool.epoch_cost_s[row]))
    return trace


def oracle_scores(pool: ReplayPool, budgets_s: np.ndarray) -> np.ndarray:
    """The best score any single configuration reaches within each budget, trained alone.

    Args:
        pool: the recorded runs.
        budgets_s: ``B`` budgets in seconds.

    Returns:
        ``B`` scores (NaN where no configuration finishes an epoch in time).
    """
    curves = np.where(np.isnan(pool.curves), -np.inf, pool.curves)
    best_so_far = np.maximum.accumulate(curves, axis=1)  # C x E
    epochs = np.floor(np.asarray(budgets_s, dtype=float)[:, None] / pool.epoch_cost_s[None, :] + 1e-9)
    epochs = np.minimum(epochs, pool.num_epochs).astype(int)  # B x C
    columns = np.arange(len(pool.config_ids))[None, :]
    reachable = np.where(epochs > 0, best_so_far[columns, np.maximum(epochs - 1, 0)], -np.inf)
    best = reachable.max(axis=1)
    return np.where(np.isfinite(best), best, np.nan)


def normalised_regret(score: float | np.ndarray, y_star: float, y_min: float) -> np.ndarray:
    """``(y_star - score) / (y_star - y_min)`` clipped to [0, 1]; 1 where ``score`` is NaN.

    With ``y_star == y_min`` the regret is 0 for any finished score.
    """
    score = np.asarray(score, dtype=float)
    spread = y_star - y_min
    regret = (y_star - score) / spread if spread > 0 else np.zeros_like(score)
    return np.where(np.isnan(score), 1.0, np.clip(regret, 0.0, 1.0))
