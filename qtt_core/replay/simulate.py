"""One simulated tuning run on recorded learning curves, and the oracle it is measured against.

Training a configuration from epoch ``k`` to ``k + 1`` is a look-up of its recorded curve. A
simulated clock advances by the recorded seconds of that epoch and by the optimiser's own
compute time (``time.perf_counter`` around ``ask`` and ``tell``). Time is kept per worker
(``SimulatedClock.free_at_s``). With one worker the run is sequential. With ``N`` workers,
each free worker asks (``ask(reserve=True)``: the optimiser knows what is in flight) at its
own time, trains on its own clock, and the tells arrive in order of finish time: before a
worker asks at time ``t``, every epoch that ended by ``t`` has been told. An ask's and a
tell's measured time is charged to the worker that asked or finished (the driver's work is
not serialised across workers: a small optimism when asks are slow against epochs). A
budget-aware optimiser (``optimizer.budget_aware``) is told at each ask the seconds left to
``horizon_s`` on the asking worker's clock.
"""

from __future__ import annotations

import heapq
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


def simulate_run(
    optimizer: Optimizer, pool: ReplayPool, horizon_s: float, count_optimizer_time: bool = True, workers: int = 1
) -> RunTrace:
    """Run ``optimizer`` on ``pool`` with ``workers`` simulated workers up to ``horizon_s``.

    Each asked epoch is trained epoch by epoch from where its configuration stopped, and
    each finished epoch is told. An epoch whose score was not recorded is told as failed.
    A worker whose next epoch would end after ``horizon_s`` stops (that epoch is never
    counted); the run ends when every worker has stopped or the optimiser has nothing left.
    A worker whose ask returns None while trials are in flight waits for the next tell.

    Args:
        optimizer: a fresh optimiser over ``pool.configs`` (with ``workers > 1`` it must
            support ``ask(reserve=True)``, see :mod:`qtt_core.optimizer.base`).
        pool: the recorded runs.
        horizon_s: the largest budget, in simulated seconds.
        count_optimizer_time: add the optimiser's measured ask/tell time to the clock.
        workers: simulated parallel workers.

    Returns:
        The trace; events in order of finish time, every one at or before ``horizon_s``.

    Raises:
        RuntimeError: the optimiser asked for a configuration outside the pool, one in
            flight, an epoch it had already reached or beyond the recorded epochs.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return _Simulation(optimizer, pool, float(horizon_s), count_optimizer_time, int(workers)).run()


@dataclass(order=True)
class _Training:
    """An epoch in flight on a worker (ordered by finish time, then by start order)."""

    end_s: float
    order: int
    worker: int = field(compare=False)
    config_id: str = field(compare=False)
    row: int = field(compare=False)
    epoch: int = field(compare=False)
    to_epoch: int = field(compare=False)


class _Simulation:
    """The event loop of :func:`simulate_run`: idle workers ask, epochs in flight finish in time order."""

    def __init__(self, optimizer: Optimizer, pool: ReplayPool, horizon_s: float, count_optimizer_time: bool, workers: int):
        self.optimizer, self.pool, self.horizon_s = optimizer, pool, horizon_s
        self.count_optimizer_time, self.workers = count_optimizer_time, workers
        self.index = {cid: i for i, cid in enumerate(pool.config_ids)}
        self.reached: dict[str, int] = {}
        self.clock, self.trace = SimulatedClock(workers=workers), RunTrace()
        self.in_flight: list[_Training] = []  # a heap
        self.idle = list(range(workers))  # workers ready to ask, at clock.free_at_s
        self.waiting: list[int] = []  # workers whose ask found nothing free
        self._order = 0

    def run(self) -> RunTrace:
        while self.idle or self.in_flight:
            next_ask_s = min((self.clock.free_at_s[w] for w in self.idle), default=float("inf"))
            if self.in_flight and self.in_flight[0].end_s <= next_ask_s:
                self._finish(heapq.heappop(self.in_flight))
                continue
            worker = min(self.idle, key=lambda w: (self.clock.free_at_s[w], w))
            self.idle.remove(worker)
            if self.clock.free_at_s[worker] < self.horizon_s and not self._ask(worker):
                if not self.in_flight:
                    break  # nothing left and nothing that could free anything
                self.waiting.append(worker)
        return self.trace

    def _timed(self, worker: int, call, *args):
        start = time.perf_counter()
        result = call(*args)
        spent = time.perf_counter() - start
        self.trace.optimizer_time_s += spent
        if self.count_optimizer_time:
            self.clock.advance(worker, spent)
        return result

    def _ask(self, worker: int) -> bool:
        """``worker`` asks and starts training; False when the optimiser has nothing free."""
        options: dict[str, Any] = {"reserve": True} if self.workers > 1 else {}
        if getattr(self.optimizer, "budget_aware", False):
            options["remaining_s"] = self.horizon_s - self.clock.free_at_s[worker]
        ask = self._timed(worker, lambda: self.optimizer.ask(**options))
        if ask is None:
            return False
        row = self.index.get(ask.config_id)
        start_epoch = self.reached.get(ask.config_id, 0)
        busy = any(t.config_id == ask.config_id for t in self.in_flight)
        if row is None or busy or not start_epoch < ask.epoch <= self.pool.num_epochs:
            raise RuntimeError(
                f"optimiser {self.optimizer.name!r} asked for {ask.config_id} epoch {ask.epoch} "
                f"(in pool: {row is not None}, in flight: {busy}, reached: {start_epoch}, recorded epochs: {self.pool.num_epochs})"
            )
        self._start(worker, ask.config_id, row, start_epoch + 1, ask.epoch)
        return True

    def _start(self, worker: int, cid: str, row: int, epoch: int, to_epoch: int) -> None:
        """Train ``epoch`` of ``cid`` on ``worker``: fail it, stop the worker at the horizon, or put it in flight."""
        score = float(self.pool.curves[row, epoch - 1])
        if np.isnan(score):
            self._timed(worker, self.optimizer.tell_failed, cid, f"no recorded score after epoch {epoch}")
            self.trace.failed.append(cid)
            self.idle.append(worker)
            return
        end_s = self.clock.free_at_s[worker] + float(self.pool.epoch_cost_s[row])
        if end_s > self.horizon_s:
            return  # this worker's next epoch would end after the horizon: it stops
        self.clock.advance(worker, float(self.pool.epoch_cost_s[row]))
        self._order += 1
        heapq.heappush(self.in_flight, _Training(end_s, self._order, worker, cid, row, epoch, to_epoch))

    def _finish(self, done: _Training) -> None:
        """Tell the finished epoch; the worker continues its ask or becomes idle; waiting workers wake."""
        score = float(self.pool.curves[done.row, done.epoch - 1])
        self.reached[done.config_id] = done.epoch
        self.trace.events.append(Event(done.end_s, done.config_id, done.epoch, score))
        self._timed(done.worker, self.optimizer.tell, done.config_id, done.epoch, score, float(self.pool.epoch_cost_s[done.row]))
        for worker in self.waiting:
            self.clock.free_at_s[worker] = max(self.clock.free_at_s[worker], done.end_s)
        self.idle.extend(self.waiting)
        self.waiting.clear()
        if done.epoch < done.to_epoch:
            self._start(done.worker, done.config_id, done.row, done.epoch + 1, done.to_epoch)
        else:
            self.idle.append(done.worker)


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
