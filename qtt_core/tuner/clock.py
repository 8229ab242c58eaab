"""The budget clock: wall-clock seconds spent in this process plus those of earlier runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["BudgetClock"]


@dataclass
class BudgetClock:
    """Counts seconds against a budget across resumes.

    Attributes:
        budget_s: the promised wall-clock seconds, everything included.
        spent_before_s: seconds spent by earlier (killed) processes of the same run.
    """

    budget_s: float
    spent_before_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    def elapsed_s(self) -> float:
        """Seconds spent so far, earlier processes included."""
        return self.spent_before_s + time.monotonic() - self.started

    def remaining_s(self) -> float:
        return self.budget_s - self.elapsed_s()

    def deadline(self, reserve_s: float = 0.0) -> float:
        """The ``time.monotonic()`` value at which only ``reserve_s`` seconds remain."""
        return self.started + (self.budget_s - self.spent_before_s) - reserve_s
