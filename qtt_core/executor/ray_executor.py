"""The ray executor: jobs run as Ray Core tasks on a local Ray instance or a cluster.

Each job is one remote task that asks for ``cpus_per_job`` CPUs and ``gpus_per_job`` GPUs;
results come back to the driver, which alone writes files. A job that raises is a failed
result (``run_job`` never raises); a worker process that dies mid-job (killed, out of memory,
its node lost) is started again up to ``max_retries`` times, then becomes a failed result.

Starting or joining Ray, the workers' environment (plugins load there as on the driver),
resource checks and failure reasons are :mod:`qtt_core.ray_cluster`'s, shared with
``tune --workers``. ``ray`` is imported only when this executor is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qtt_core.errors import UsageError
from qtt_core.executor.base import Executor, Job, JobResult
from qtt_core.executor.worker import run_job
from qtt_core.ray_cluster import INSTALL_HINT, RayConnection, check_reachable, first_line, import_ray, worker_env

__all__ = ["INSTALL_HINT", "RayExecutor"]


class RayExecutor(Executor):
    """Runs jobs as Ray tasks, as many at once as the cluster has room for.

    Args:
        address: None starts a local Ray instance (unless this process is already connected);
            ``"auto"`` or ``"HOST:PORT"`` joins a running cluster (``ray start --head``).
        cpus_per_job: CPUs each job asks for (> 0); also the worker's torch thread count.
        gpus_per_job: GPUs each job asks for (fractions share a GPU).
        max_retries: how often a job whose worker process died is started again.
        num_cpus: CPUs of a local instance (None: all of this machine's).
        plugins: plugin module names the workers register besides ``QTT_SEG_PLUGINS``.
        env_vars: more environment variables for the workers.

    Raises:
        UsageError: ray is not installed (names the install command), a bad option, or
            nothing answers at ``address`` (Ray itself is started or joined at the first run).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        cpus_per_job: float = 1.0,
        gpus_per_job: float = 0.0,
        max_retries: int = 2,
        num_cpus: int | None = None,
        plugins: Sequence[str] = (),
        env_vars: Mapping[str, str] | None = None,
    ):
        import_ray()
        if not cpus_per_job > 0:
            raise UsageError(f"cpus per job must be > 0, got {cpus_per_job}")
        if gpus_per_job < 0 or max_retries < 0:
            raise UsageError(f"gpus per job ({gpus_per_job}) and max retries ({max_retries}) must be >= 0")
        check_reachable(address)
        self.address = address
        self.cpus_per_job = float(cpus_per_job)
        self.gpus_per_job = float(gpus_per_job)
        self.max_retries = int(max_retries)
        self.num_cpus = num_cpus
        self.plugins = list(plugins)
        self.env_vars = dict(env_vars or {})
        self.connection = RayConnection(address, num_cpus)

    # -- connection ---------------------------------------------------------------------------

    def _connect(self) -> Any:
        """The ``ray`` module, initialised: joined, started, or as this process already had it."""
        import ray

        if ray.is_initialized():
            return ray
        ray = self.connection.connect()
        self.connection.check_room(1, self.cpus_per_job, self.gpus_per_job)
        return ray

    def close(self) -> None:
        """Shut Ray down (or disconnect from the cluster) if this executor started it."""
        self.connection.close()

    @property
    def threads(self) -> int:
        """Torch threads of a job: its whole CPUs, at least one."""
        return max(1, int(self.cpus_per_job))

    @property
    def capacity(self) -> int:
        """Jobs the cluster runs at once: its CPUs (and GPUs) over what each job asks for."""
        import ray

        if not ray.is_initialized():
            return 1
        resources = ray.cluster_resources()
        slots = int(resources.get("CPU", 0) // self.cpus_per_job)
        if self.gpus_per_job > 0:
            slots = min(slots, int(resources.get("GPU", 0) // self.gpus_per_job))
        return max(1, slots)

    def _inherits_env(self) -> bool:
        """Whether workers already have this process's environment: a local instance this
        executor started, with nothing to add (no runtime environment: its workers start
        sooner, and the ones Ray starts in advance are used)."""
        return self.connection.is_local and not self.plugins and not self.env_vars

    def worker_env(self) -> dict[str, str]:
        """Environment variables every task carries, so that plugins load as on the driver."""
        return worker_env(plugins=self.plugins, env_vars=self.env_vars)

    # -- running ------------------------------------------------------------------------------

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Run ``jobs``; yield each result as its task finishes.

        ``jobs`` is consumed lazily: the next job is taken only when the cluster has room
        for it, so a generator may choose it from the results yielded so far.
        """
        ray = self._connect()
        from ray import exceptions

        retryable = (exceptions.WorkerCrashedError, exceptions.NodeDiedError, exceptions.OutOfMemoryError,
                     exceptions.LocalRayletDiedError, exceptions.ObjectLostError)  # fmt: skip
        options: dict[str, Any] = {"num_cpus": self.cpus_per_job, "num_gpus": self.gpus_per_job, "max_retries": 0}
        if not self._inherits_env():
            options["runtime_env"] = {"env_vars": self.worker_env()}
        task = ray.remote(_run_on_worker).options(**options)
        threads = self.threads
        pending = iter(jobs)
        in_flight: dict[Any, tuple[Job, int]] = {}
        exhausted = False
        try:
            while True:
                slots = self.capacity
                while not exhausted and len(in_flight) < slots:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                    else:
                        in_flight[task.remote(_portable(job), threads)] = (job, 1)
                if not in_flight:
                    return
                [ref], _ = ray.wait(list(in_flight), num_returns=1)
                job, attempt = in_flight.pop(ref)
                try:
                    result = ray.get(ref)
                except retryable as error:
                    if attempt <= self.max_retries:
                        in_flight[task.remote(_portable(job), threads)] = (job, attempt + 1)
                        continue
                    result = JobResult(job, "failed", reason=f"worker died {attempt} times: {first_line(error)}")
                except exceptions.RuntimeEnvSetupError as error:
                    raise UsageError(f"Ray workers cannot set up their environment ({first_line(error)[:200]}); check the cluster's Python packages") from None
                except exceptions.RayError as error:
                    result = JobResult(job, "failed", reason=f"{type(error).__name__}: {first_line(error)}")
                result.job, result.attempts = job, attempt
                yield result
        finally:
            for ref in in_flight:
                ray.cancel(ref, force=True)


def _run_on_worker(job: Job, threads: int) -> JobResult:
    """The remote task: one job with ``threads`` torch threads.

    A worker that has not imported torch yet gets them through ``OMP_NUM_THREADS`` when the
    job imports it; one that has (a reused worker) is told directly.
    """
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    else:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    return run_job(job)


def _portable(job: Job) -> Job:
    """``job`` with relative paths that exist here made absolute (workers start elsewhere)."""
    from qtt_core.data.synthetic import TASK_FAMILIES

    changes = {}
    if job.task not in TASK_FAMILIES and not Path(job.task).is_absolute() and Path(job.task).exists():
        changes["task"] = str(Path(job.task).resolve())
    if job.checkpoint and not Path(job.checkpoint).is_absolute() and Path(job.checkpoint).exists():
        changes["checkpoint"] = str(Path(job.checkpoint).resolve())
    return replace(job, **changes) if changes else job
