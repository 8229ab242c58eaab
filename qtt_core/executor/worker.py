"""What a worker does with one job: load the task, train, report scores and costs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from qtt_core.adapter import SessionRequest, failure_reason
from qtt_core.executor.base import Job, JobResult

__all__ = ["load_task", "run_job"]


def load_task(task: str, seed: int = 0, registry: Any = None, **data_options: Any) -> Any:
    """A dataset for ``task``: a generated task family by name, or a dataset path.

    Raises:
        UsageError: neither a known family nor an existing path (lists the families).
    """
    from qtt_core.data.synthetic import TASK_FAMILIES, generate_task
    from qtt_core.errors import UsageError

    if task in TASK_FAMILIES:
        return generate_task(TASK_FAMILIES[task], seed=seed)
    if Path(task).exists():
        from qtt_core.data import load_dataset

        return load_dataset(task, split_seed=seed, **data_options)
    raise UsageError(f"task {task!r} is neither a dataset path nor a generated task family ({', '.join(TASK_FAMILIES)})")


def run_job(job: Job, registry: Any = None) -> JobResult:
    """Train ``job.config`` on ``job.task`` to ``job.epochs``; never raises (failures are results)."""
    from qtt_core.registry import Registry

    try:
        registry = registry or Registry()
        adapter = registry.adapter_for(job.model)
        data = load_task(job.task, job.seed, **dict(job.data_options))
        metafeatures = registry.extractors.get(job.extractor).extract(data, seed=job.seed)
        with tempfile.TemporaryDirectory(prefix="qtt-job-") as work:
            session = adapter.open_session(
                SessionRequest(model=job.model, data=data, device=job.device, checkpoint=job.checkpoint, workdir=Path(work), seed=job.seed,
                               options={"max_epochs": job.epochs}, prompt=job.prompt)
            )
            try:
                reports = session.train(job.config_id, job.config, job.epochs)
            finally:
                session.close()
        if len(reports) < job.epochs:
            return JobResult(job, "failed", [r.score for r in reports], [r.cost_s for r in reports], metafeatures,
                             f"stopped after {len(reports)} of {job.epochs} epochs")
        return JobResult(job, "ok", [r.score for r in reports], [r.cost_s for r in reports], metafeatures)
    except Exception as error:  # noqa: BLE001 - a job's failure is data, not a crash
        return JobResult(job, "failed", reason=failure_reason(error))
