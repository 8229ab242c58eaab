"""Progress of a run: a rich live panel on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol

__all__ = ["LiveProgress", "NullProgress", "Progress", "make_progress"]


class Progress(Protocol):
    def update(self, **fields: Any) -> None:
        """New values for some of: time_left_s, trials, config_id, epoch, incumbent, zero_shot."""
        ...


class NullProgress:
    """Shows nothing (output is not a terminal, or ``--quiet``)."""

    def update(self, **fields: Any) -> None:
        return None

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class LiveProgress:
    """A small rich panel on stderr: time left, trials, current configuration, incumbent."""

    def __init__(self, budget_s: float):
        from rich.console import Console
        from rich.live import Live

        self.fields: dict[str, Any] = {"time_left_s": budget_s}
        self.started = time.monotonic()
        self.live = Live(self._render(), console=Console(stderr=True), refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)

    def update(self, **fields: Any) -> None:
        self.fields.update({k: v for k, v in fields.items() if v is not None})
        self.live.update(self._render())

    def _render(self):
        from rich.table import Table

        f = self.fields
        table = Table.grid(padding=(0, 2))
        table.add_row("time left", f"{max(0.0, f.get('time_left_s', 0.0)):.0f} s")
        table.add_row("trials", str(f.get("trials", 0)))
        table.add_row("training", f"{f.get('config_id', '-')} epoch {f.get('epoch', '-')}")
        incumbent = f.get("incumbent")
        zero = f.get("zero_shot")
        table.add_row("best val IoU", f"{incumbent:.4f}" if incumbent is not None else "-")
        table.add_row("zero-shot val IoU", f"{zero:.4f}" if zero is not None else "-")
        return table


def make_progress(budget_s: float, quiet: bool) -> LiveProgress | NullProgress:
    """The live panel when stderr is a terminal and not ``quiet``."""
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return LiveProgress(budget_s)
