"""Build a meta-dataset: train sampled configurations on tasks and record their curves.

Resumable and tolerant: rows are written (atomically) as jobs finish; a re-run with the same
arguments skips jobs whose rows exist, keyed by (task, configuration, seed); a job that
fails becomes a row with ``status = failed`` and its ``reason`` (readers skip such rows).
Failed rows count as done on a re-run unless ``retry_failed`` is set: then their jobs run
again, and each failed row is replaced by its new result when that arrives (a build killed
half-way keeps the rows it has not retried yet).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qtt_core.executor.base import Executor, Job, JobResult
from qtt_core.space import config_id, sample_configurations

__all__ = ["BuildProgress", "BuildSummary", "build_meta_dataset", "plan_jobs"]


@dataclass
class BuildSummary:
    """What one call did. Attributes count jobs; ``elapsed_s`` is wall-clock seconds."""

    planned: int
    skipped: int
    succeeded: int
    failed: int
    elapsed_s: float
    out: Path


@dataclass
class BuildProgress:
    """Where a build stands, after each finished job (and once before the first).

    Attributes:
        total: jobs this call runs (those already in the file are not counted).
        done: jobs finished, ``failed`` of them failed.
        running: jobs running now (the executor's capacity, or fewer near the end).
        elapsed_s: wall-clock seconds since the jobs were handed to the executor.
        result: the job that just finished (None in the first call).
    """

    total: int
    done: int
    failed: int
    running: int
    elapsed_s: float
    result: JobResult | None = None

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far (None before the first job finished)."""
        if not self.done:
            return None
        return self.elapsed_s / self.done * (self.total - self.done)


def plan_jobs(model: str, tasks: Sequence[str], configs: Sequence[dict[str, Any]], epochs: int, seed: int, **job_options: Any) -> list[Job]:
    """One job per (task, configuration), in task-major order."""
    return [Job(model, task, config_id(c), dict(c), epochs, seed, **job_options) for task in tasks for c in configs]


def build_meta_dataset(
    model: str,
    tasks: Sequence[str],
    n_configs: int,
    epochs: int,
    out: str | Path,
    *,
    space: str | None = None,
    seed: int = 0,
    executor: Executor | None = None,
    registry: Any = None,
    on_progress: Callable[[BuildProgress], None] | None = None,
    retry_failed: bool = False,
    **job_options: Any,
) -> BuildSummary:
    """Train ``n_configs`` configurations sampled from the model's space on every task.

    Args:
        tasks: generated task family names or dataset paths (as ``tune`` takes them).
        out: the meta-dataset file (project format, CSV or Parquet); extended if present.
        executor: where jobs run (default: a :class:`LocalExecutor` with ``registry``); the
            caller closes it. Whatever it is, only this process writes ``out``.
        on_progress: called before the first job and after each row is written.
        retry_failed: run again the planned jobs whose rows say ``status = failed`` (a
            failure for a reason that has since gone: memory, a lost worker, a fixed bug).
    """
    from qtt_core.executor.local import LocalExecutor
    from qtt_core.registry import Registry

    started = time.monotonic()
    registry = registry or Registry()
    adapter = registry.adapter_for(model)
    space_name = space or adapter.default_space(model)
    configs = sample_configurations(registry.load_space(space_name), n_configs, seed=seed)
    jobs = plan_jobs(model, tasks, configs, epochs, seed, **job_options)
    out = Path(out)
    _remove_stale_temporaries(out)
    rows = _read_rows(out)
    done = {_key(r): i for i, r in enumerate(rows)}
    retry = {key: i for key, i in done.items() if retry_failed and rows[i].get("status") == "failed"}
    todo = [job for job in jobs if job.key not in done or job.key in retry]
    executor = executor or LocalExecutor(registry)
    succeeded = failed = 0
    handed_over = time.monotonic()

    def progress(result: JobResult | None) -> None:
        if on_progress is not None:
            finished = succeeded + failed
            running = min(executor.capacity, len(todo) - finished)
            on_progress(BuildProgress(len(todo), finished, failed, running, time.monotonic() - handed_over, result))

    progress(None)
    for result in executor.run(todo):
        row = _row(result, space_name, epochs)
        if result.job.key in retry:
            rows[retry[result.job.key]] = row
        else:
            rows.append(row)
        _write_rows(out, rows, epochs)
        succeeded += result.status == "ok"
        failed += result.status != "ok"
        progress(result)
    return BuildSummary(len(jobs), len(jobs) - len(todo), succeeded, failed, time.monotonic() - started, out)


def _key(row: dict[str, Any]) -> tuple[str, str, int]:
    """A row's job key, as :attr:`Job.key`: (task, configuration id, seed)."""
    return str(row["dataset"]), str(row["config_id"]), int(row["seed"])


def _row(result: JobResult, space: str, epochs: int) -> dict[str, Any]:
    import json

    job = result.job
    row: dict[str, Any] = {
        "dataset": job.task,
        "config": json.dumps(dict(sorted(job.config.items()))),
        "config_id": job.config_id,
        "space": space,
        "model": job.model,
        "seed": job.seed,
        "status": result.status,
        "reason": result.reason,
        "attempts": result.attempts,
        "cost_s": float(np.sum(result.costs_s)) if result.costs_s else 0.0,
    }
    row.update({f"mf_{k}": v for k, v in result.metafeatures.items()})
    for epoch in range(1, epochs + 1):
        row[f"epoch_{epoch}_score"] = result.scores[epoch - 1] if epoch <= len(result.scores) else np.nan
    return row


def _remove_stale_temporaries(path: Path) -> None:
    """Half-written copies of ``path`` left by a build that was killed while writing."""
    if path.parent.is_dir():
        for temporary in path.parent.glob(f".{path.name}.*.tmp"):
            temporary.unlink(missing_ok=True)


def _read_rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path, keep_default_na=True)
    return frame.to_dict("records")


def _write_rows(path: Path, rows: list[dict[str, Any]], epochs: int) -> None:
    from qtt_core.files import write_atomic

    frame = pd.DataFrame(rows)
    ordered = [c for c in frame.columns if not c.startswith(("mf_", "epoch_"))]
    ordered += sorted(c for c in frame.columns if c.startswith("mf_"))
    ordered += [c for c in (f"epoch_{e}_score" for e in range(1, epochs + 1)) if c in frame.columns]
    frame = frame[ordered + [c for c in frame.columns if c not in ordered]]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".parquet", ".pq"):
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        write_atomic(path, buffer.getvalue())
    else:
        write_atomic(path, frame.to_csv(index=False))
