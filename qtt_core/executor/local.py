"""The local executor: jobs run one after another in this process (the default)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from qtt_core.executor.base import Executor, Job, JobResult
from qtt_core.executor.worker import run_job

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """Runs each job in-process, in order, with one registry for all."""

    name = "local"

    def __init__(self, registry: Any = None):
        self.registry = registry

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        for job in jobs:
            yield run_job(job, self.registry)
