"""Executors for training jobs: ``local`` (in-process) and ``ray`` (a Ray cluster)."""

from __future__ import annotations

from qtt_core.executor.base import Executor, Job, JobResult
from qtt_core.executor.local import LocalExecutor
from qtt_core.executor.worker import load_task, run_job

__all__ = ["EXECUTOR_NAMES", "Executor", "Job", "JobResult", "LocalExecutor", "load_task", "make_executor", "run_job"]


EXECUTOR_NAMES = ("local", "ray")


def make_executor(name: str = "local", **options) -> Executor:
    """The executor called ``name`` (see :data:`EXECUTOR_NAMES`), built with ``options``.

    Raises:
        UnknownNameError: an unknown name.
        UsageError: ``ray`` without Ray installed (names ``pip install 'qtt-seg[ray]'``).
    """
    from qtt_core.errors import UnknownNameError

    if name == "local":
        return LocalExecutor(**options)
    if name == "ray":
        from qtt_core.executor.ray_executor import RayExecutor  # imports ray, or says how to install it

        return RayExecutor(**options)
    raise UnknownNameError(f"unknown executor {name!r}; known: {', '.join(EXECUTOR_NAMES)}")
