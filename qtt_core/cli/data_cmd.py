"""``qtt-seg data``: check a dataset before tuning on it."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from qtt_core.cli.output import print_json, stdout_console

app = typer.Typer(help="Check segmentation datasets.", no_args_is_help=True)


@app.command("check")
def check(
    data: str = typer.Argument(..., help="Dataset folder (images/ + masks/, optionally in train/ val/ test/) or CSV/Parquet file."),
    classes: Path | None = typer.Option(None, "--classes", help="Classes file (JSON): class names, ids, colours, background, ignore values (format: qtt_core/data/classes.py)."),
    images: str | None = typer.Option(None, "--images", help="Name of the image folder when it is not images/ (e.g. rgb)."),
    masks: str | None = typer.Option(None, "--masks", help="Name of the mask folder when it is not masks/ (e.g. figure_ground)."),
    mask_suffix: str | None = typer.Option(None, "--mask-suffix", help="Mask name = image stem + this (e.g. _mask); detected when omitted."),
    invert: bool = typer.Option(False, "--invert", help="Binary masks mark the object with 0: swap foreground and background."),
    resize: str = typer.Option("error", "--resize", help="Sizes differ: error, mask_to_image (nearest) or image_to_mask."),
    split_file: Path | None = typer.Option(None, "--split-file", help="A split saved by an earlier run (JSON)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/val/test split when none is given."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Pairs per split, sizes, channels, mask encoding, classes, problems. Exit 0 when usable, 2 when not."""
    from qtt_core.data import check_dataset

    report = check_dataset(
        data, classes=classes, images=images, masks=masks, mask_suffix=mask_suffix,
        invert=invert, resize=resize, split_file=split_file, split_seed=seed,
    )  # fmt: skip
    if as_json:
        print_json(report.to_dict())
    else:
        _print_summary(report)
    for warning in report.warnings:
        sys.stderr.write(f"qtt-seg: warning: {_one_line(warning)}\n")
    for problem in report.problems:
        sys.stderr.write(f"qtt-seg: problem: {_one_line(problem)}\n")
    sys.stderr.flush()
    if not report.usable:
        if not report.problems:
            sys.stderr.write("qtt-seg: problem: train or val split is empty; add pairs\n")
        raise SystemExit(2)


def _print_summary(report) -> None:
    console = stdout_console
    console.print(f"[bold]{report.source}[/bold]  {report.layout}")
    if not report.pairs:
        console.print(f"[red]not usable: {len(report.problems)} problems (listed on stderr)[/red]")
        return
    splits = ", ".join(f"{name} {count}" for name, count in report.splits.items())
    console.print(f"pairs: {report.pairs} ({splits}; {report.split_source or 'no'} split)")
    if report.sizes:
        h, w = report.sizes["height"], report.sizes["width"]
        console.print(f"sizes (HxW): min {h['min']}x{w['min']}, median {h['median']:g}x{w['median']:g}, max {h['max']}x{w['max']}")
    console.print(f"channels: {', '.join(map(str, report.channels)) or '-'}")
    console.print(f"mask encoding: {report.encoding or '-'}")
    if report.background:
        console.print(f"background: {report.background['rule']}", markup=False)
    if report.ignore:
        console.print("ignored: " + ", ".join(_ignored(entry) for entry in report.ignore), markup=False)
    if report.classes:
        table = Table("label", "class", "value in masks", "pixel fraction", "masks", title=f"{report.num_classes} classes")
        background = report.background.get("value") if report.background else 0
        if background is not None or report.background_fraction:
            table.add_row("0", "background", _text(background), f"{report.background_fraction:.4f}", "")
        for entry in report.classes:
            table.add_row(str(entry["label"]), _text(entry["name"]), str(entry["value"]), f"{entry['pixel_fraction']:.4f}", str(entry["masks"]))
        if report.ignore_fraction or report.ignore:
            values = ", ".join(str(entry["value"]) for entry in report.ignore)
            table.add_row("255", "(ignored)", _text(values), f"{report.ignore_fraction:.4f}", "")
        console.print(table)
    for note in report.notes:
        console.print(f"note: {note}")
    verdict = "[green]usable[/green]" if report.usable else f"[red]not usable: {len(report.problems)} problems (listed on stderr)[/red]"
    console.print(verdict)


def _ignored(entry: dict) -> str:
    """``11 (Unlabelled)``, or just the value for an unnamed ignore entry."""
    return f"{entry['value']} ({entry['name']})" if entry.get("name") and entry["name"] != "ignore" else str(entry["value"])


def _text(value) -> str:
    """A value for a table cell, with rich markup escaped (class names may hold brackets)."""
    return "" if value is None else escape(str(value))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
