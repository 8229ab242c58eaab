"""``qtt-seg meta build``: record a meta-dataset by training sampled configurations on tasks."""

from __future__ import annotations

from pathlib import Path

import typer

from qtt_core.cli.output import err_console, stdout_console


def build(
    model: str = typer.Option(..., "--model", help="Model to train (see `qtt-seg plugins`)."),
    tasks: str = typer.Option(..., "--tasks", help="Comma-separated dataset paths or generated task families (e.g. shapes-binary,blobs-grey)."),
    configs: int = typer.Option(..., "--configs", min=1, help="Configurations sampled from the space (the same for every task)."),
    epochs: int = typer.Option(..., "--epochs", min=1, help="Epochs per run; the score of each is recorded."),
    out: Path = typer.Option(..., "--out", help="Meta-dataset file (.csv or .parquet); extended when it exists."),
    space: str = typer.Option(None, help="Search space name or YAML file (default: the model's space)."),
    seed: int = typer.Option(0, help="Seed of the configuration sample, the task splits and training."),
    executor: str = typer.Option("local", help="Where jobs run: local (this process)."),
    device: str = typer.Option("cpu", help="Device for training: cpu, cuda or cuda:N."),
    checkpoint: Path = typer.Option(None, help="Local checkpoint of the model."),
) -> None:
    """Train every sampled configuration on every task for --epochs; resumable, skips finished jobs."""
    from qtt_core.executor import make_executor
    from qtt_core.metadataset.build import build_meta_dataset

    task_list = [t.strip() for t in tasks.split(",") if t.strip()]

    def report(result, done: int, total: int) -> None:
        status = "ok" if result.status == "ok" else f"failed: {result.reason}"
        err_console.print(f"[{done}/{total}] {result.job.task} {result.job.config_id}: {status}")

    with make_executor(executor) as runner:
        summary = build_meta_dataset(
            model, task_list, configs, epochs, out, space=space, seed=seed, executor=runner,
            on_result=report, device=device, checkpoint=str(checkpoint) if checkpoint else None,
        )
    stdout_console.print(
        f"{summary.succeeded} runs recorded, {summary.failed} failed, {summary.skipped} already done "
        f"of {summary.planned}, in {summary.elapsed_s:.0f} s -> {summary.out}"
    )
