"""``qtt-seg meta``: meta-train the predictors on a recorded meta-dataset (and build one)."""

from __future__ import annotations

from pathlib import Path

import typer

from qtt_core.cli import meta_build_cmd
from qtt_core.cli.output import err_console, print_json, stdout_console

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
    """Meta-train the performance and cost predictors on FILE and save them to --out (they
    record FILE's prompt protocol, box or none, and serve runs of that protocol only)."""
    from qtt_core.surrogates.fit_file import fit_predictors_file

    summary = fit_predictors_file(file, out, space=space, default_space=DEFAULT_SPACE, seed=seed, steps=steps)
    if as_json:
        print_json(summary)
        return
    err_console.print(
        f"meta-trained on {summary['rows']} runs of {len(summary['datasets'])} datasets "
        f"(prompt protocol {summary['prompt']}) in {summary['fit_s']} s"
    )
    stdout_console.print(f"predictors saved to {out}")
