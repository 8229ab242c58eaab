"""The ``qtt-seg`` command line. Each command group lives in its own module."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import typer

from qtt_core.cli import bench_cmd, data_cmd, demo_cmd, meta_cmd, plugins_cmd, space_cmd, tune_cmd
from qtt_core.cli.output import fail
from qtt_core.errors import QttError

app = typer.Typer(
    name="qtt-seg",
    help="Quickly tune segmentation foundation models (SAM, SAM 2) to your dataset within a time budget.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("tune")(tune_cmd.tune)
app.command("predict")(tune_cmd.predict)
app.command("demo")(demo_cmd.demo)
app.command("plugins")(plugins_cmd.plugins)
app.add_typer(space_cmd.app, name="space")
app.add_typer(data_cmd.app, name="data")
app.add_typer(bench_cmd.app, name="bench")
app.add_typer(meta_cmd.app, name="meta")


def run() -> None:
    """Console-script entry point: user errors exit 2 with one line, internal errors 1."""
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")  # segment-anything's use
    if _is_own_process():
        from qtt_core.tuner.clock import mark_process_entry

        mark_process_entry()  # a run's budget counts from this process's start, imports included
    try:
        app(standalone_mode=False)
    except QttError as error:
        fail(str(error), code=2)
    except (typer.Abort, KeyboardInterrupt):
        fail("interrupted", code=130)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except Exception as error:  # noqa: BLE001 - click's own usage errors come here too
        if hasattr(error, "format_message") and hasattr(error, "exit_code"):  # click (or typer's copy)
            fail(f"{error.format_message()} (see qtt-seg --help)", code=error.exit_code)
        fail(f"internal error: {type(error).__name__}: {error} (please report it)", code=1)


def _is_own_process() -> bool:
    """True when this process was started as ``qtt-seg`` (the console script or ``python -m qtt_core.cli.main``)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return (spec is not None and spec.name == "qtt_core.cli.main") or Path(getattr(main, "__file__", "") or "").name == "qtt-seg"


if __name__ == "__main__":
    run()
