"""Where a run's seconds go before its first epoch, one record per process (first and each resume).

The phases follow the run's set-up in order; each phase's seconds include the imports it
triggers (torch with the predictors, peft and the model's libraries with the model), which on
a cold process are most of the time. ``run.log`` gets one line per process and
``result.json`` the list (``startup``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from qtt_core.tuner.clock import BudgetClock

__all__ = ["StartupTimer"]

log = logging.getLogger("qtt_seg.tune")


class StartupTimer:
    """Seconds per set-up phase of this process, counted from the clock's start.

    Args:
        clock: the run's clock; its ``started`` is this process's start for the command line,
            the :func:`~qtt_core.tuner.tune` call otherwise.
        resumed: whether this process continues a killed run.
    """

    def __init__(self, clock: BudgetClock, resumed: bool):
        self.clock = clock
        self.resumed = resumed
        self.phases: dict[str, float] = {}
        self.first_epoch_s: float | None = None
        self._last = clock.started

    def mark(self, phase: str) -> None:
        """End ``phase`` now: its seconds are those since the previous mark (or the clock's start)."""
        now = time.monotonic()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - self._last, 3)
        self._last = now

    def first_epoch(self) -> dict[str, Any] | None:
        """Called before each trial starts; the first call ends the set-up, logs it and returns
        its record (None after)."""
        if self.first_epoch_s is not None:
            return None
        self.mark("first ask")
        self.first_epoch_s = round(time.monotonic() - self.clock.started, 3)
        parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.phases.items())
        log.info("first epoch starts %.2f s after this %s started (%s)", self.first_epoch_s, "resume" if self.resumed else "run", parts)
        return self.record()

    def record(self) -> dict[str, Any]:
        """``{"resumed", "first_epoch_s", "phases": {phase: seconds}}`` (first_epoch_s None if no epoch started)."""
        return {"resumed": self.resumed, "first_epoch_s": self.first_epoch_s, "phases": dict(self.phases)}
