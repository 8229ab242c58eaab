"""``qtt-seg plugins``: what is installed and what each plugin contributes."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.table import Table

from qtt_core.cli.output import print_json, stdout_console
from qtt_core.registry import Registry


def plugins(as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout.")) -> None:
    """List plugins: name, version, hooks, and the models, spaces, extractors they add."""
    infos = Registry().plugins()
    if as_json:
        print_json({"plugins": [asdict(info) for info in infos]})
        return
    table = Table("plugin", "version", "status", "contributes")
    for info in infos:
        status = "ok" if info.available else f"unavailable: {info.reason}"
        contributes = "; ".join(f"{k}: {', '.join(v)}" for k, v in info.contributes.items() if v)
        table.add_row(info.name, info.version, status, contributes)
    stdout_console.print(table)
