"""Progress of a run: a rich live panel on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["LiveProgress", "NullProgress", "Progress", "make_progress"]


class Progress(Protocol):
    def update(self, **fields: Any) -> None:
        """New values for some of: time_left_s, trials, config_id, epoch, incumbent, prompt ("box" or
        "none"), zero_shot (the untuned model's val IoU, box prompts) and baseline (the
        most-frequent-class baseline's val IoU, shown instead of zero_shot without prompts)."""
        ...


class NullProgress:
    """Shows nothing (output is not a terminal, or ``--quiet``)."""

    def update(self, **fields: Any) -> None:
        return None

    def new_run(self, label: str, budget_s: float) -> None:
        return None

    def __enter__(self) -> NullProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class LiveProgress:
    """A small rich panel on stderr: time left, trials, current configuration, incumbent, and what
    it is compared with (zero-shot with box prompts, the most-frequent-class baseline without).

    One panel may show several runs one after the other (``qtt-seg demo``): :meth:`new_run`
    names the next one and clears what the previous one showed.

    The panel is redrawn in place, so everything else written to the terminal while it is
    shown must go through ``console`` (pass the one the log handler uses): rich then prints
    it above the panel. Other writes to ``sys.stderr`` (warnings, stray prints) are routed
    through it too, and so are writes to ``sys.stdout`` when stdout is the same terminal.
    """

    def __init__(self, budget_s: float, console: Console | None = None):
        from rich.console import Console
        from rich.live import Live

        self.fields: dict[str, Any] = {"time_left_s": budget_s}
        self._time_left_at = time.monotonic()
        self.live = Live(
            console=console or Console(stderr=True), get_renderable=self._render, refresh_per_second=4,
            transient=False, redirect_stderr=True, redirect_stdout=sys.stdout.isatty(),
        )

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)

    def update(self, **fields: Any) -> None:
        """Takes the new values; the panel shows them at its next refresh."""
        new = {k: v for k, v in fields.items() if v is not None}
        if "time_left_s" in new:
            self._time_left_at = time.monotonic()
        self.fields.update(new)

    def new_run(self, label: str, budget_s: float) -> None:
        """Show the run ``label`` (a ``budget_s`` second run) from now on, the previous run's values cleared."""
        self.fields = {"run": label, "time_left_s": budget_s}
        self._time_left_at = time.monotonic()

    def _render(self):
        from rich.table import Table

        f = self.fields
        time_left = f.get("time_left_s", 0.0) - (time.monotonic() - self._time_left_at)
        table = Table.grid(padding=(0, 2))
        if "run" in f:
            table.add_row("run", str(f["run"]))
        table.add_row("time left", f"{max(0.0, time_left):.0f} s")
        table.add_row("trials", str(f.get("trials", 0)))
        table.add_row("training", f"{f.get('config_id', '-')} epoch {f.get('epoch', '-')}")
        incumbent = f.get("incumbent")
        table.add_row("best val IoU", f"{incumbent:.4f}" if incumbent is not None else "-")
        name, reference = ("baseline val IoU", f.get("baseline")) if f.get("prompt") == "none" else ("zero-shot val IoU", f.get("zero_shot"))
        table.add_row(name, f"{reference:.4f}" if reference is not None else "-")
        return table


def make_progress(budget_s: float, quiet: bool, console: Console | None = None) -> LiveProgress | NullProgress:
    """The live panel when stderr is a terminal and not ``quiet``; plain log lines only otherwise.

    ``console`` is the console the log lines go through (the CLI's ``err_console``): the
    panel must share it to stay in place under them.
    """
    if quiet or not sys.stderr.isatty():
        return NullProgress()
    return LiveProgress(budget_s, console)
