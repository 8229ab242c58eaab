"""Build a meta-dataset: train sampled configurations on tasks and record their curves.

Resumable and tolerant: rows are written (atomically) as jobs finish; a re-run with the same
arguments skips jobs whose rows exist, keyed by (task, configuration, seed); a job that
fails becomes a row with ``status = failed`` and its ``reason`` (readers skip such rows).
Failed rows count as done on a re-run unless ``retry_failed`` is set: then their jobs run
again, and each failed row is replaced by its new result when that arrives (a build killed
half-way keeps the rows it has not retried yet).

Rows are keyed without model, epochs, space or prompt protocol, so a file holds one build:
every row records its model, space (by name and by a fingerprint of its contents) and prompt
protocol (``box`` or ``none``; rows from before the column count as ``box``), and the epoch
columns its epochs; a build with other settings is refused. A lock file ``<out>.lock`` keeps
two builds from writing one file at the same time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qtt_core.adapter import PROMPT_PROTOCOLS
from qtt_core.executor.base import Executor, Job, JobResult
from qtt_core.files import NEW_FILE_MODE
from qtt_core.space import config_id, sample_configurations

__all__ = ["BuildProgress", "BuildSummary", "build_meta_dataset", "plan_jobs"]

log = logging.getLogger("qtt_seg.meta")


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
    prompt: str = "box",
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
        prompt: the prompt protocol every session trains and scores with
            (``SessionRequest.prompt``: ``box`` or ``none``), recorded in each row.

    Raises:
        UsageError: ``prompt`` is unknown or the model's adapter does not support it; ``out``
            holds rows of another model, epoch count, search space or prompt protocol, or
            another build is writing it (its lock ``<out>.lock`` is held by a live process).
    """
    from qtt_core.executor.local import LocalExecutor
    from qtt_core.registry import Registry

    started = time.monotonic()
    registry = registry or Registry()
    adapter = registry.adapter_for(model)
    _check_prompt(prompt, adapter, model)
    registry.extractors.get(job_options.get("extractor", "default"))  # an unknown name lists the known ones, before any job
    space_name = space or adapter.default_space(model)
    configuration_space = registry.load_space(space_name)
    configs = sample_configurations(configuration_space, n_configs, seed=seed)
    jobs = plan_jobs(model, tasks, configs, epochs, seed, prompt=prompt, **job_options)
    fingerprint = _fingerprint(configuration_space)
    build = {"model": model, "epochs": str(epochs), "space": space_name, "space_fingerprint": fingerprint, "prompt": prompt}
    out = Path(out)
    with _exclusive(out):
        _remove_stale_temporaries(out)
        rows = _rows_of_the_same_build(out, build, epochs)
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
            row = _row(result, space_name, fingerprint, epochs)
            if result.job.key in retry:
                rows[retry[result.job.key]] = row
            else:
                rows.append(row)
            _write_rows(out, rows, epochs)
            succeeded += result.status == "ok"
            failed += result.status != "ok"
            progress(result)
    return BuildSummary(len(jobs), len(jobs) - len(todo), succeeded, failed, time.monotonic() - started, out)


def _check_prompt(prompt: str, adapter: Any, model: str) -> None:
    """Refuse an unknown protocol, or one the model's adapter does not support, before any job.

    Raises:
        UsageError: one line naming the protocols that would do.
    """
    from qtt_core.errors import UsageError

    if prompt not in PROMPT_PROTOCOLS:
        raise UsageError(f"--prompt {prompt!r} is not a prompt protocol; give one of {', '.join(PROMPT_PROTOCOLS)}")
    supported = list(adapter.prompt_protocols())
    if prompt not in supported:
        raise UsageError(f"model {model} does not support --prompt {prompt}; give one of {', '.join(supported)}")


def _key(row: dict[str, Any]) -> tuple[str, str, int]:
    """A row's job key, as :attr:`Job.key`: (task, configuration id, seed)."""
    return str(row["dataset"]), str(row["config_id"]), int(row["seed"])


def _row(result: JobResult, space: str, space_fingerprint: str, epochs: int) -> dict[str, Any]:
    job = result.job
    row: dict[str, Any] = {
        "dataset": job.task,
        "config": json.dumps(dict(sorted(job.config.items()))),
        "config_id": job.config_id,
        "space": space,
        "space_fingerprint": space_fingerprint,
        "prompt": job.prompt,
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


#: how a mismatch names each fact of a build that every row of one file shares
_BUILD_FACTS = {
    "model": "model", "epochs": "epochs", "space": "search space", "space_fingerprint": "search space fingerprint",
    "prompt": "prompt protocol",
}  # fmt: skip


def _fingerprint(space: Any) -> str:
    """An id of a space by what it can sample, not by its name or file (``"s"`` + 10 hex digits).

    Hashes each hyperparameter's name and values and the number of valid configurations
    (which changes with the conditions and forbidden clauses).
    """
    from qtt_core.space.loading import describe_space

    description = describe_space("", space)
    content = {"size": description["size"], "values": {hp["name"]: hp["values"] for hp in description["hyperparameters"]}}
    return "s" + hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _rows_of_the_same_build(out: Path, build: dict[str, str], epochs: int) -> list[dict[str, Any]]:
    """The rows already in ``out``, checked to come from a build like this one.

    Rows from before space fingerprints get this build's, and rows from before prompt
    protocols get ``box`` (what they were built with); both are written to ``out``, so that
    the file says what it holds.
    """
    rows = _read_rows(out)
    _check_same_build(out, rows, build)
    if any(pd.isna(row.get("space_fingerprint")) or pd.isna(row.get("prompt")) for row in rows):
        rows = [{**row, "space_fingerprint": build["space_fingerprint"], "prompt": build["prompt"]} for row in rows]
        _write_rows(out, rows, epochs)
    return rows


def _check_same_build(out: Path, rows: list[dict[str, Any]], build: dict[str, str]) -> None:
    """Refuse to extend ``out`` when its rows come from another model, epoch count or space.

    Args:
        build: this build's facts (the keys of ``_BUILD_FACTS``), as strings. The rows record
            them in their columns (epochs: the last ``epoch_N_score`` column); a fact no row
            records (a fingerprint, in files from before fingerprints) is not compared, except
            the prompt protocol: a row without one was built with ``box``.

    Raises:
        UsageError: one line naming the file, each fact that differs and the fix.
    """
    from qtt_core.errors import UsageError

    if not rows:
        return
    epoch_columns = [int(m.group(1)) for c in rows[0] if (m := re.fullmatch(r"epoch_(\d+)_score", str(c)))]
    recorded = {fact: {str(r[fact]) for r in rows if pd.notna(r.get(fact))} for fact in _BUILD_FACTS}
    recorded["epochs"] = {str(max(epoch_columns))} if epoch_columns else set()
    recorded["prompt"] = {str(r["prompt"]) if pd.notna(r.get("prompt")) else "box" for r in rows}
    differences = [
        f"{name} {', '.join(sorted(recorded[fact]))} there, {build[fact]} asked"
        for fact, name in _BUILD_FACTS.items()
        if recorded[fact] and recorded[fact] != {build[fact]}
    ]
    if differences:
        raise UsageError(
            f"{out} holds another build ({'; '.join(differences)}): use another --out, or the options it was built with"
        )


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold the lock file ``<out>.lock`` while this build writes ``out``.

    The lock is created exclusively and holds this process's pid and host; it is removed on
    the way out, whatever ends the build (an error, KeyboardInterrupt). A lock whose process
    no longer runs on this host is stale: it is taken over with a warning.

    Raises:
        UsageError: another build holds the lock (names the lock and its pid).
    """
    lock = out.with_name(f"{out.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            descriptor = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, NEW_FILE_MODE)
            break
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder is None:
                continue  # released meanwhile
            if not _is_stale(holder):
                from qtt_core.errors import UsageError

                raise UsageError(
                    f"{lock} says pid {holder.get('pid', '?')} on {holder.get('host', '?')} is building {out}: wait "
                    "for it to end, or use another --out (delete the lock if that process is gone)"
                ) from None
            log.warning("taking over the stale lock %s of pid %s, which no longer runs", lock, holder["pid"])
            lock.unlink(missing_ok=True)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}) + "\n")
        yield
    finally:
        lock.unlink(missing_ok=True)


def _lock_holder(lock: Path) -> dict[str, Any] | None:
    """The lock's ``{"pid": ..., "host": ...}`` ({} when unreadable, None when gone)."""
    try:
        holder = json.loads(lock.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _is_stale(holder: dict[str, Any]) -> bool:
    """Whether the lock's process is known to have ended (it ran on this host, its pid is gone)."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's process
        return False
    return False


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
