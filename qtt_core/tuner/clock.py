"""The budget clock: wall-clock seconds spent by every process of a run, and its heartbeat.

A run killed and resumed is one run: its budget counts the seconds all of its processes
spent. Each process saves its elapsed time in a heartbeat file every
:data:`HEARTBEAT_INTERVAL_S` (and the run state holds it at each save), so a kill loses at
most that much from the count; a resumed process starts from the larger of the two. The
command line starts the clock when its process started (:func:`process_started`), so the
seconds spent importing torch count too (:func:`mark_process_entry`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["HEARTBEAT_INTERVAL_S", "BudgetClock", "Heartbeat", "mark_process_entry", "process_started", "read_heartbeat", "take_process_entry"]

log = logging.getLogger("qtt_seg.tune")

#: seconds between two heartbeat writes (the most a kill can take from the budget's count)
HEARTBEAT_INTERVAL_S = 0.25


@dataclass
class BudgetClock:
    """Counts seconds against a budget across resumes.

    Attributes:
        budget_s: the promised wall-clock seconds, everything included.
        spent_before_s: seconds spent by earlier (killed) processes of the same run.
        started: the ``time.monotonic()`` value at which this process's count starts.
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


def process_started() -> float:
    """The ``time.monotonic()`` value at which this process started (now, where unknown).

    Linux: from the process's start time in ``/proc/self/stat`` and the uptime.
    """
    now = time.monotonic()
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime_s = float(Path("/proc/uptime").read_text().split()[0])
        age_s = uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return now
    return now - min(max(age_s, 0.0), 60.0)  # a minute at most: never a stale or odd reading


_process_entry: list[float] = []


def mark_process_entry() -> None:
    """Called by a command-line entry point of its own process: the next run's clock starts when the process did."""
    _process_entry[:] = [process_started()]


def take_process_entry() -> float | None:
    """The start :func:`mark_process_entry` recorded, once (None after, or when none was)."""
    return _process_entry.pop() if _process_entry else None


def read_heartbeat(path: Path) -> float:
    """The elapsed seconds a heartbeat file holds (0 when absent or unreadable)."""
    try:
        return float(json.loads(path.read_text())["elapsed_s"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


class Heartbeat:
    """Writes ``{"elapsed_s": ...}`` of ``clock`` to ``path`` every :data:`HEARTBEAT_INTERVAL_S` (a thread).

    Use as a context manager; :meth:`beat` writes at once (phase boundaries).
    """

    def __init__(self, path: Path, clock: BudgetClock, interval_s: float = HEARTBEAT_INTERVAL_S):
        self.path, self.clock, self.interval_s = Path(path), clock, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qtt-seg-heartbeat", daemon=True)
        self._lock = threading.Lock()

    def beat(self) -> None:
        """Write the elapsed time now (a temporary file renamed over the last; no fsync, it is rewritten soon)."""
        with self._lock:
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            try:
                temporary.write_text(json.dumps({"elapsed_s": round(self.clock.elapsed_s(), 3), "pid": os.getpid()}))
                os.replace(temporary, self.path)
            except OSError as error:  # a full disk must not end the run; the state still saves elapsed time
                log.debug("heartbeat not written: %s", error)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.beat()

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.beat()
