"""``qtt-seg meta build``: record a meta-dataset by training sampled configurations on tasks."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from qtt_core.cli.output import err_console, stdout_console

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from qtt_core.metadataset.build import BuildProgress


def build(
    model: str = typer.Option(..., "--model", help="Model to train (see `qtt-seg plugins`)."),
    tasks: str = typer.Option(..., "--tasks", help="Comma-separated dataset paths or generated task families (e.g. shapes-binary,blobs-grey)."),
    configs: int = typer.Option(..., "--configs", min=1, help="Configurations sampled from the space (the same for every task)."),
    epochs: int = typer.Option(..., "--epochs", min=1, help="Epochs per run; the score of each is recorded."),
    out: Path = typer.Option(..., "--out", help="Meta-dataset file (.csv or .parquet); extended when it exists, by a build with the same --model, --epochs, --space and --prompt only (OUT.lock marks a build writing it)."),
    space: str = typer.Option(None, help="Search space name or YAML file (default: the model's space)."),
    seed: int = typer.Option(0, help="Seed of the configuration sample, the task splits and training."),
    executor: str = typer.Option("local", help="Where jobs run: local (this process, one at a time) or ray (a Ray instance or cluster)."),
    address: str = typer.Option(None, help="Ray only: 'auto' or HOST:PORT of a running cluster (default: start a local Ray instance)."),
    cpus_per_job: float = typer.Option(None, "--cpus-per-job", min=0.01, help="CPUs per job: its torch threads; with ray also the CPUs its task asks for (default 1; local: torch's default)."),
    gpus_per_job: float = typer.Option(0.0, "--gpus-per-job", min=0.0, help="Ray only: GPUs each job asks for (fractions share a GPU)."),
    device: str = typer.Option(None, help="Device for training: cpu, cuda or cuda:N (default: cuda with --gpus-per-job > 0, else cpu)."),
    checkpoint: Path = typer.Option(None, help="Local checkpoint of the model (a path every worker can read)."),
    extractor: str = typer.Option("default", "--extractor", help="Meta-feature extractor recorded with each run (see `qtt-seg plugins`)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Run again the jobs recorded as failed (their rows are replaced)."),
    prompt: str = typer.Option("box", "--prompt", help="Prompt protocol of every run, recorded in each row: box (a ground-truth box per object, the paper's) or none (no prompts)."),
) -> None:
    """Train every sampled configuration on every task for --epochs; resumable, skips finished jobs."""
    from qtt_core.adapter import PROMPT_PROTOCOLS
    from qtt_core.errors import UsageError
    from qtt_core.executor import make_executor
    from qtt_core.metadataset.build import build_meta_dataset

    if prompt not in PROMPT_PROTOCOLS:  # before an executor starts; build_meta_dataset checks the model's support
        raise UsageError(f"--prompt {prompt!r} is not a prompt protocol; give one of {', '.join(PROMPT_PROTOCOLS)}")
    task_list = [t.strip() for t in tasks.split(",") if t.strip()]
    if executor != "ray" and (address or gpus_per_job):
        raise UsageError("--address and --gpus-per-job need --executor ray")
    options = {"address": address, "cpus_per_job": cpus_per_job or 1.0, "gpus_per_job": gpus_per_job} if executor == "ray" else {}
    if executor != "ray" and cpus_per_job:
        import torch

        torch.set_num_threads(max(1, int(cpus_per_job)))  # jobs run in this process
    device = device or ("cuda" if gpus_per_job > 0 else "cpu")
    with make_executor(executor, **options) as runner, _progress_display() as show:
        summary = build_meta_dataset(
            model, task_list, configs, epochs, out, space=space, seed=seed, executor=runner,
            on_progress=show, retry_failed=retry_failed, prompt=prompt, device=device, checkpoint=str(checkpoint) if checkpoint else None, extractor=extractor,
        )
    stdout_console.print(
        f"{summary.succeeded} runs recorded, {summary.failed} failed, {summary.skipped} already done "
        f"of {summary.planned}, in {summary.elapsed_s:.0f} s -> {summary.out}"
    )


@contextmanager
def _progress_display() -> Iterator[Callable[[BuildProgress], None]]:
    """A progress callback: a rich bar on a terminal, one plain line per job otherwise."""
    if not err_console.is_terminal:
        yield _print_line
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("meta build"), BarColumn(), MofNCompleteColumn(),
        TextColumn("running {task.fields[running]}, failed {task.fields[failed]}, {task.fields[eta]} left"),
        console=err_console,
    ) as bar:  # fmt: skip
        task_id = bar.add_task("jobs", total=None, running=0, failed=0, eta="?")

        def show(progress: BuildProgress) -> None:
            bar.update(task_id, total=progress.total, completed=progress.done, running=progress.running,
                       failed=progress.failed, eta=_duration(progress.eta_s))  # fmt: skip
            if progress.result is not None and progress.result.status != "ok":
                bar.console.print(f"failed: {_describe(progress)}", markup=False, highlight=False)

        yield show


def _print_line(progress: BuildProgress) -> None:
    if progress.result is None:
        err_console.print(f"jobs to run: {progress.total}", markup=False, highlight=False)
        return
    err_console.print(
        f"[{progress.done}/{progress.total}] {_describe(progress)}; running {progress.running}, "
        f"failed {progress.failed}, {_duration(progress.eta_s)} left",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip


def _describe(progress: BuildProgress) -> str:
    result = progress.result
    status = "ok" if result.status == "ok" else f"failed: {result.reason}"
    retried = f" (attempt {result.attempts})" if result.attempts > 1 else ""
    return f"{result.job.task} {result.job.config_id}: {status}{retried}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
