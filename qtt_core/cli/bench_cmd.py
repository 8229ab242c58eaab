"""``qtt-seg bench``: benchmarks on recorded meta-datasets."""

from __future__ import annotations

from pathlib import Path

import typer

from qtt_core.cli.output import err_console, print_json, stdout_console
from qtt_core.errors import UsageError

app = typer.Typer(help="Benchmark optimisers on recorded meta-datasets.", no_args_is_help=True)

#: the space of files in the published QTT-SEG format
PUBLISHED_SPACE = "qtt-seg-sam2"


@app.command("replay")
def replay(
    meta_dataset: Path = typer.Option(..., "--meta-dataset", help="Recorded runs: CSV or Parquet (published QTT-SEG or qtt-seg format)."),
    datasets: str = typer.Option("", "--datasets", help="Held-out datasets, comma-separated (default: all)."),
    budgets: str = typer.Option("60,120,180", "--budgets", help="Budgets in simulated seconds, comma-separated."),
    seeds: int = typer.Option(5, "--seeds", help="Seeds per optimiser and dataset."),
    workers: str = typer.Option("1", "--workers", help="Simulated parallel workers, comma-separated counts (e.g. 1,2,4,8)."),
    optimizers: str = typer.Option("quick,quick-nometa,random,portfolio,portfolio-nested,portfolio-lr-sched", "--optimizers", help="Optimisers, comma-separated."),
    out: Path | None = typer.Option(None, "--out", help="Folder for replay.csv, regret_over_time.png and replay.json."),
    space: str = typer.Option("", "--space", help="Search space name or YAML file (default: the file's own, qtt-seg-sam2 for the published format)."),
    share_meta_training: bool = typer.Option(False, "--share-meta-training", help="Meta-train predictors once per held-out dataset, not once per seed (faster)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Replay optimisers leave-one-dataset-out on recorded learning curves, with simulated time."""
    from qtt_core.metadataset import detect_format, read_meta_dataset
    from qtt_core.registry import Registry
    from qtt_core.replay import run_replay

    budget_values = _parse_budgets(budgets)
    worker_counts = _parse_workers(workers)
    if seeds < 1:
        raise UsageError(f"--seeds {seeds}: give at least 1")
    registry = Registry()
    space_name = space or _default_space(meta_dataset, detect_format(meta_dataset))
    configuration_space = registry.load_space(space_name) if space_name else None
    table = read_meta_dataset(meta_dataset, space=configuration_space)
    names = _split(optimizers)
    total = len(_split(datasets) or table.dataset_names()) * len(names) * seeds * len(worker_counts)
    if as_json:
        result = run_replay(
            table, _split(datasets) or None, budget_values, seeds, names, out, space=configuration_space,
            share_meta_training=share_meta_training, workers=worker_counts,
        )  # fmt: skip
        print_json(result.to_json())
        return
    from rich.progress import Progress

    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("replay", total=total)
        result = run_replay(
            table, _split(datasets) or None, budget_values, seeds, names, out, space=configuration_space,
            share_meta_training=share_meta_training, workers=worker_counts,
            progress=lambda message: progress.update(task, advance=1, description=message),
        )  # fmt: skip
    _print_summary(result)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parse_budgets(text: str) -> list[float]:
    try:
        values = [float(part) for part in _split(text)]
    except ValueError:
        raise UsageError(f"--budgets {text!r}: give seconds separated by commas, e.g. 60,120,180") from None
    if not values or any(not v > 0 for v in values):
        raise UsageError(f"--budgets {text!r}: give positive seconds separated by commas, e.g. 60,120,180")
    return values


def _parse_workers(text: str) -> list[int]:
    try:
        values = [int(part) for part in _split(text)]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values) or len(set(values)) != len(values):
        raise UsageError(f"--workers {text!r}: give distinct whole numbers of at least 1 separated by commas, e.g. 1,2,4,8")
    return values


def _default_space(path: Path, kind: str) -> str:
    """The space a file's configurations belong to: its ``space`` column, or the published one."""
    if kind == "published":
        return PUBLISHED_SPACE
    if kind == "project":
        from qtt_core.metadataset import read_meta_dataset

        return read_meta_dataset(path).space
    return ""


def _print_summary(result) -> None:
    from rich.table import Table

    budgets = sorted({row["budget_s"] for row in result.rows})
    table = Table("optimiser", *[f"{b:g} s" for b in budgets], title="mean normalised regret (lower is better)")
    for name, by_budget in result.summary.items():
        table.add_row(name, *[f"{by_budget[f'{b:g}']:.3f}" for b in budgets])
    stdout_console.print(table)
    _print_per_dataset(result, budgets)
    for name in ("spearman_final", "median_rel_error_cost"):
        values = [q[name] for q in result.quality if q[name] == q[name]]
        if values:
            stdout_console.print(f"{name}: mean {sum(values) / len(values):.3f} over {len(values)} held-out runs")
    for kind, path in result.files.items():
        stdout_console.print(f"{kind}: {path}")


def _print_per_dataset(result, budgets: list[float]) -> None:
    """Regret at each budget and the first pick's true percentile, per held-out dataset."""
    from rich.table import Table

    table = Table("held out", "optimiser", *[f"{b:g} s" for b in budgets], "first pick",
                  title="per held-out dataset: mean regret, and the percentile of the first configuration trained (1 = best)")  # fmt: skip
    for dataset, by_label in result.per_dataset().items():
        for label, cell in by_label.items():
            pick = cell.get("first_pick")
            table.add_row(dataset, label, *[f"{cell[f'{b:g}']:.3f}" for b in budgets], "-" if pick is None else f"{pick:.2f}")
    stdout_console.print(table)
