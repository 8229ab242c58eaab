"""``qtt-seg meta``: meta-train the predictors on a recorded meta-dataset (and build one)."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from qtt_core.cli import meta_build_cmd
from qtt_core.cli.output import err_console, print_json, stdout_console
from qtt_core.errors import UsageError

app = typer.Typer(help="Build meta-datasets and meta-train the predictors on them.", no_args_is_help=True)
app.command("build")(meta_build_cmd.build)

DEFAULT_SPACE = "qtt-seg-sam2"


@app.command("fit")
def fit(
    file: Path = typer.Argument(..., help="Meta-dataset: the published QTT-SEG CSV, or the project's CSV/Parquet."),
    out: Path = typer.Option(..., "--out", help="Folder for the predictors (performance.* and cost.*: safetensors + JSON)."),
    space: str = typer.Option(None, "--space", help=f"Search space name or YAML file (default: the file's own, else {DEFAULT_SPACE})."),
    seed: int = typer.Option(0, help="Seed of example sampling and training."),
    steps: int = typer.Option(300, min=1, help="Adam steps of the performance predictor's deep kernel."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Meta-train the performance and cost predictors on FILE and save them to --out."""
    from qtt_core.metadataset.io import read_meta_dataset
    from qtt_core.registry import Registry
    from qtt_core.surrogates import meta_train_predictors, save_predictors

    if not file.is_file():
        raise UsageError(f"meta-dataset {file} does not exist; give a CSV or Parquet file of recorded runs")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder for the predictors")
    registry = Registry()
    space_name = space or read_meta_dataset(file).space or DEFAULT_SPACE
    configuration_space = registry.load_space(space_name)
    meta = read_meta_dataset(file, configuration_space)
    if len(meta.dataset_names()) < 1 or len(meta) < 2:
        raise UsageError(f"meta-dataset {file} has {len(meta)} rows; meta-training needs recorded runs")
    started = time.perf_counter()
    performance, cost = meta_train_predictors(meta, configuration_space, seed=seed, steps=steps)
    save_predictors(out, performance, cost)
    summary = {
        "out": str(out),
        "space": str(space_name),
        "rows": len(meta),
        "datasets": meta.dataset_names(),
        "feature_names": list(meta.feature_names),
        "max_epochs": meta.num_epochs,
        "fit_s": round(time.perf_counter() - started, 2),
        "files": sorted(p.name for p in out.iterdir()),
    }
    if as_json:
        print_json(summary)
        return
    err_console.print(f"meta-trained on {len(meta)} runs of {len(summary['datasets'])} datasets in {summary['fit_s']} s")
    stdout_console.print(f"predictors saved to {out}")
