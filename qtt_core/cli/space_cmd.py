"""``qtt-seg space``: show and sample search spaces."""

from __future__ import annotations

import typer
from rich.table import Table

from qtt_core.cli.output import print_json, stdout_console
from qtt_core.registry import Registry

app = typer.Typer(help="Show and sample search spaces.", no_args_is_help=True)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="A registered space name or a ConfigSpace YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Hyperparameters, conditions and the exact number of valid configurations."""
    from qtt_core.space import describe_space  # ConfigSpace (and scipy): only when a space is shown

    description = describe_space(name, Registry().load_space(name))
    if as_json:
        print_json(description)
        return
    table = Table("hyperparameter", "type", "values", "active when", title=f"{name}: {description['size']:,} valid configurations")
    for hp in description["hyperparameters"]:
        values = ", ".join(map(str, hp["values"]))
        table.add_row(hp["name"], hp["type"] + (" (log)" if hp["log"] else ""), values, " or ".join(hp["active_when"]))
    stdout_console.print(table)
    for clause in description["forbidden"]:
        stdout_console.print(f"forbidden: {clause}")


@app.command("sample")
def sample(
    name: str = typer.Argument(..., help="A registered space name or a ConfigSpace YAML file."),
    n: int = typer.Option(5, "-n", min=1, help="Number of configurations."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Print N random valid configurations as JSON lines."""
    import json

    from qtt_core.space import sample_configurations

    for config in sample_configurations(Registry().load_space(name), n, seed=seed):
        typer.echo(json.dumps(config))
