"""``qtt-seg demo``: the whole job, offline, on a generated dataset and the embedded model."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from qtt_core.cli.output import err_console, stdout_console
from qtt_core.errors import UsageError


def demo(
    budget: float = typer.Option(90.0, "--budget", help="Seconds for the tuning run."),
    out: Path = typer.Option(None, "--out", help="Folder for the generated data and the run (default: qtt-seg-demo-<time>)."),
    model: str = typer.Option("", help="Model to tune (default: the installed plugins' default model, which works offline)."),
    task: str = typer.Option("textured-binary", help="Generated task family for the dataset."),
    seed: int = typer.Option(0, help="Random seed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and the result."),
) -> None:
    """Generate a small dataset, tune the offline default model on it, print where the report is."""
    from qtt_core.cli.tune_cmd import _console_logging, _summary
    from qtt_core.demo import write_task_folder
    from qtt_core.tuner import tune
    from qtt_core.tuner.progress import make_progress

    out = out or Path(f"qtt-seg-demo-{time.strftime('%Y%m%d-%H%M%S')}")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty; choose another --out")
    data = write_task_folder(task, out / "data", seed=seed)
    stdout_console.print(f"dataset: {data} (generated '{task}': train/val/test with images/ and masks/)")
    _console_logging(quiet, False)
    with make_progress(budget, quiet, console=err_console) as progress:
        result = tune(data, budget, out=out / "run", model=model, seed=seed, progress=progress)
    _summary(result)
    stdout_console.print(f"next: qtt-seg predict {out / 'run'} {data / 'test' / 'images'}/*.png --out {out / 'predictions'}")
