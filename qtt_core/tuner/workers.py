"""Workers of a parallel tuning run (``tune --workers N``): each trains one trial at a time.

A worker holds its own :class:`~qtt_core.adapter.TuningSession`, opened on the run's
``sessions/`` folder, so a configuration's freeze-thaw state moves with it to whichever
worker continues it: a worker trains, the session saves the state there, and the worker
releases the configuration (drops what it held in memory) before reporting back. The driver
hands a configuration to one worker at a time (the optimiser keeps it pending until then),
and only the driver writes the run's own files; workers write nothing but session states.

A worker that is lost (its actor died, its session could not open) is not its trial's fault:
the driver asks the trial again and :meth:`WorkerPool.restart` replaces the worker, at most
:data:`MAX_RESTARTS` times each.

- ``local``: ``N`` threads of this process (torch releases the GIL in its kernels), one
  session each. Sessions share nothing but torch's global random state, so a run with
  ``N > 1`` is not reproducible bit for bit (which worker gets what is timing anyway).
- ``ray``: ``N`` Ray actors, one session each, on a local Ray instance or a cluster
  (``address``). Workers must see the run folder and the data at the same paths (a shared
  file system on a cluster). ``ray`` is imported only here, when asked for.
"""

from __future__ import annotations

import logging
import queue
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field, replace
from typing import Any

from qtt_core.adapter import EpochReport, ModelAdapter, SessionRequest, TuningSession, failure_reason
from qtt_core.errors import UsageError
from qtt_core.optimizer.base import Ask
from qtt_core.precision import resolve_device
from qtt_core.ray_cluster import RayConnection, check_reachable, first_line, import_ray, worker_env

__all__ = ["TrialOutcome", "WorkerPool", "make_worker_pool", "train_trial"]

log = logging.getLogger("qtt_seg.tune")

#: seconds that stopping the Ray workers and shutting a local instance down take: trials on Ray
#: get a deadline that much earlier, so that the final phase still fits the budget
RAY_STOP_S = 2.0
#: seconds closing a thread pool waits for trials still running (each stops at its deadline's step boundary)
CLOSE_WAIT_S = 2.0
#: replacements of one lost worker before the pool runs without it
MAX_RESTARTS = 2


@dataclass
class TrialOutcome:
    """What a worker reports for one trial.

    Attributes:
        worker: the worker's index, 0..N-1.
        ask: what it was asked to train.
        reports: one per finished epoch (empty: the deadline left no time for an epoch).
        reason: why it failed ("" when it did not).
        worker_lost: the worker itself is gone (its process died, its session could not open).
    """

    worker: int
    ask: Ask
    reports: list[EpochReport] = field(default_factory=list)
    reason: str = ""
    worker_lost: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.reason)


def train_trial(session: TuningSession, config_id: str, config: Mapping[str, Any], to_epoch: int, deadline: float) -> tuple[list[EpochReport], str]:
    """Train one trial on ``session`` up to ``deadline`` (``time.monotonic()``), then release it.

    Returns:
        ``(reports, reason)``: the finished epochs, and "" or why the trial failed.
    """
    try:
        return session.train(config_id, dict(config), to_epoch, deadline=deadline), ""
    except Exception as error:  # noqa: BLE001 - a failing trial must not end the run
        return [], failure_reason(error)
    finally:
        session.release(config_id)  # the next worker continues from the saved state


class WorkerPool(ABC):
    """``workers`` workers, each training one trial at a time, with results collected as they finish."""

    def __init__(self, workers: int):
        self.workers = int(workers)
        self.restarts = [0] * self.workers

    def start(self) -> None:  # noqa: B027 - optional
        """Start the workers (in the background where possible); called before the zero-shot pass."""

    def restart(self, worker: int) -> bool:
        """Replace a lost ``worker``; False (retired) after :data:`MAX_RESTARTS` replacements."""
        if self.restarts[worker] >= MAX_RESTARTS:
            log.warning("worker %d was lost %d times; the run goes on without it", worker, self.restarts[worker] + 1)
            return False
        self.restarts[worker] += 1
        self._replace(worker)
        return True

    @abstractmethod
    def _replace(self, worker: int) -> None:
        """Start a new worker in place of the lost ``worker``."""

    @abstractmethod
    def submit(self, worker: int, ask: Ask, deadline: float) -> None:
        """Have ``worker`` (idle) train ``ask`` until ``deadline`` (``time.monotonic()`` of this process)."""

    @abstractmethod
    def wait(self, timeout_s: float) -> list[TrialOutcome]:
        """The outcomes that finished, blocking up to ``timeout_s`` for the first one ([] on timeout)."""

    @abstractmethod
    def close(self) -> None:
        """Stop the workers; trials still running are stopped or abandoned (their epochs never count)."""


class ThreadWorkerPool(WorkerPool):
    """Workers as threads of this process, one session each (see the module docstring)."""

    def __init__(self, workers: int, open_session: Callable[[], TuningSession]):
        super().__init__(workers)
        self._open_session = open_session
        self._sessions: list[TuningSession | None] = [None] * self.workers
        # one thread per worker: a worker's warm-up and trials run in order on its own session
        self._threads = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"qtt-worker-{w}") for w in range(self.workers)]
        self._done: queue.Queue[TrialOutcome] = queue.Queue()
        self._busy: dict[int, Future] = {}

    def start(self) -> None:
        for worker in range(self.workers):
            self._threads[worker].submit(self._session, worker)  # opened and warmed up in the background

    def _session(self, worker: int) -> TuningSession:
        if self._sessions[worker] is None:
            session = self._open_session()
            session.zero_shot_score("val")  # builds the model and measures a validation pass (deadlines)
            self._sessions[worker] = session
        return self._sessions[worker]

    def submit(self, worker: int, ask: Ask, deadline: float) -> None:
        self._busy[worker] = self._threads[worker].submit(self._run, worker, ask, deadline)

    def _replace(self, worker: int) -> None:
        self._sessions[worker] = None  # the next trial opens a new session on the same thread

    def _run(self, worker: int, ask: Ask, deadline: float) -> None:
        try:
            session = self._session(worker)
        except Exception as error:  # noqa: BLE001 - the session could not even be opened
            self._done.put(TrialOutcome(worker, ask, [], f"worker {worker} could not open a session: {type(error).__name__}: {error}", True))
            return
        reports, reason = train_trial(session, ask.config_id, ask.config, ask.epoch, deadline)
        self._done.put(TrialOutcome(worker, ask, reports, reason))

    def wait(self, timeout_s: float) -> list[TrialOutcome]:
        outcomes = []
        try:
            outcomes.append(self._done.get(timeout=max(0.0, timeout_s)))
            while True:
                outcomes.append(self._done.get_nowait())
        except queue.Empty:
            pass
        for outcome in outcomes:
            self._busy.pop(outcome.worker, None)
        return outcomes

    def close(self, timeout_s: float = CLOSE_WAIT_S) -> None:
        """Stop the workers, waiting up to ``timeout_s`` for trials still running (they stop at their deadline)."""
        for thread in self._threads:
            thread.shutdown(wait=False, cancel_futures=True)
        _, running = futures_wait(list(self._busy.values()), timeout=timeout_s)
        if running:
            log.warning("%d worker threads still run past the deadline; their epochs are not counted", len(running))
        for worker, session in enumerate(self._sessions):
            future = self._busy.get(worker)
            if session is not None and (future is None or future.done()):  # a straggler's session is left to its thread
                session.close()
                self._sessions[worker] = None


class RayWorkerPool(WorkerPool):
    """Workers as Ray actors, one session each (see the module docstring).

    Args:
        workers: number of actors.
        adapter: the model adapter (sent to the actors; its plugin must import there).
        request: the session request; ``data`` is replaced by ``load_data`` on the actors.
        load_data: called on each actor to get the dataset (e.g. load it from its path).
        address: None starts a local Ray instance; ``"auto"`` or ``"HOST:PORT"`` joins a cluster.
        cpus_per_job / gpus_per_job: resources each actor holds.
        num_cpus: CPUs of a local instance (None: all of this machine's).
    """

    def __init__(
        self,
        workers: int,
        adapter: ModelAdapter,
        request: SessionRequest,
        load_data: Callable[[], Any],
        address: str | None = None,
        cpus_per_job: float = 1.0,
        gpus_per_job: float = 0.0,
        num_cpus: int | None = None,
    ):
        super().__init__(workers)
        self.ray = import_ray("--executor ray")
        if not cpus_per_job > 0 or gpus_per_job < 0:
            raise UsageError(f"cpus per job must be > 0 and gpus per job >= 0, got {cpus_per_job} and {gpus_per_job}")
        check_reachable(address)
        self.adapter, self.request, self.load_data = adapter, replace(request, data=None), load_data
        self.connection = RayConnection(address, num_cpus)
        self.cpus_per_job, self.gpus_per_job = float(cpus_per_job), float(gpus_per_job)
        self._actors: list[Any] = []
        self._in_flight: dict[Any, tuple[int, Ask]] = {}

    def start(self) -> None:
        ray = self.connection.connect()
        self.connection.check_room(self.workers, self.cpus_per_job, self.gpus_per_job)
        options: dict[str, Any] = {"num_cpus": self.cpus_per_job, "num_gpus": self.gpus_per_job, "max_restarts": 0}
        if self.connection.address is not None:  # a cluster's workers get the plugin environment; a local instance
            options["runtime_env"] = {"env_vars": worker_env(threads=int(self.cpus_per_job))}  # inherits it (and its prestarted workers)
        self._actor_class = ray.remote(_TrialActor).options(**options)
        self._actors = [self._new_actor() for _ in range(self.workers)]

    def _new_actor(self) -> Any:
        """An actor that builds its model and times a validation pass while the driver does the same."""
        handle = self._actor_class.remote(self.adapter, self.request, self.load_data, max(1, int(self.cpus_per_job)))
        handle.warm_up.remote()
        return handle

    def submit(self, worker: int, ask: Ask, deadline: float) -> None:
        wall_deadline = time.time() + (deadline - RAY_STOP_S - time.monotonic())  # an instant, not a duration that starts when the call runs
        ref = self._actors[worker].train.remote(ask.config_id, dict(ask.config), ask.epoch, wall_deadline)
        self._in_flight[ref] = (worker, ask)

    def _replace(self, worker: int) -> None:
        self.ray.kill(self._actors[worker])
        self._actors[worker] = self._new_actor()

    def wait(self, timeout_s: float) -> list[TrialOutcome]:
        if not self._in_flight:
            return []
        ready, _ = self.ray.wait(list(self._in_flight), num_returns=1, timeout=max(0.0, timeout_s))
        if ready:
            ready, _ = self.ray.wait(list(self._in_flight), num_returns=len(self._in_flight), timeout=0)
        outcomes = []
        for ref in ready:
            worker, ask = self._in_flight.pop(ref)
            try:
                reports, reason = self.ray.get(ref)
                outcomes.append(TrialOutcome(worker, ask, reports, reason))
            except self.ray.exceptions.RayError as error:  # the actor died (killed, out of memory)
                outcomes.append(TrialOutcome(worker, ask, [], f"worker {worker} died: {first_line(error)}", True))
        return outcomes

    def close(self) -> None:
        for handle in self._actors:
            self.ray.kill(handle)
        self._actors, self._in_flight = [], {}
        self.connection.close()


class _TrialActor:
    """A Ray actor: one session for the whole run, one trial at a time."""

    def __init__(self, adapter: ModelAdapter, request: SessionRequest, load_data: Callable[[], Any], threads: int):
        import torch

        torch.set_num_threads(threads)
        self.session = adapter.open_session(replace(request, data=load_data(), device=resolve_device(request.device)))

    def warm_up(self) -> None:
        self.session.zero_shot_score("val")

    def train(self, config_id: str, config: dict[str, Any], to_epoch: int, wall_deadline: float) -> tuple[list[EpochReport], str]:
        """Train until ``wall_deadline`` (a ``time.time()`` instant; clocks of a cluster's machines agree well enough)."""
        return train_trial(self.session, config_id, config, to_epoch, time.monotonic() + (wall_deadline - time.time()))


def make_worker_pool(
    executor: str,
    workers: int,
    adapter: ModelAdapter,
    request: SessionRequest,
    load_data: Callable[[], Any],
    address: str | None = None,
    **ray_options: Any,
) -> WorkerPool:
    """The pool for ``executor`` (``local`` or ``ray``) with ``workers`` workers.

    Raises:
        UsageError: an unknown executor, ``address`` without ray, or ray not installed.
    """
    if executor == "local":
        if address:
            raise UsageError(f"--address {address} needs --executor ray (the local executor runs in this process)")
        return ThreadWorkerPool(workers, lambda: adapter.open_session(request))
    if executor == "ray":
        return RayWorkerPool(workers, adapter, request, load_data, address=address, **ray_options)
    raise UsageError(f"unknown executor {executor!r}; use local or ray")
