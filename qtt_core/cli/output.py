"""Printing for the command line: JSON on stdout, messages on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from rich.console import Console

__all__ = ["err_console", "fail", "print_json", "stdout_console"]

stdout_console = Console()
err_console = Console(stderr=True)


def print_json(payload: Any) -> None:
    """One JSON object on stdout (nothing else is printed there with ``--json``)."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit with ``code``."""
    sys.stderr.write(f"qtt-seg: error: {' '.join(str(message).split())}\n")
    sys.stderr.flush()
    raise SystemExit(code)
