"""The live progress panel as a person sees it: redrawn in place under the log lines.

The slow test runs ``qtt-seg demo`` under a pseudo-terminal and renders what it wrote with a
terminal emulator (pyte); the fast ones check the same in process and the plain-lines case.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import re
import shutil
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

pyte = pytest.importorskip("pyte")

from qtt_core.tuner.progress import LiveProgress, NullProgress, make_progress  # noqa: E402

COLUMNS, LINES = 120, 40
PANEL_TIME_LEFT = re.compile(r"^time left\s+\d+ s\s*$")  # not the log line "no time left for ..."
PANEL_TRIALS = re.compile(r"^trials\s+\d+\s*$")


def rendered_lines(raw: bytes) -> list[str]:
    """What a 120 x 40 terminal shows after ``raw``: its scrollback history, then the screen."""
    screen = pyte.HistoryScreen(COLUMNS, LINES, history=10000)
    pyte.ByteStream(screen).feed(raw)
    history = ["".join(line[x].data for x in range(COLUMNS)) for line in screen.history.top]
    return [line.rstrip() for line in history + list(screen.display)]


def panel_rows(lines: list[str], pattern: re.Pattern[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if pattern.match(line)]


def qtt_seg_command() -> list[str]:
    """The installed ``qtt-seg`` script of this interpreter (or the same entry point via -m)."""
    script = shutil.which("qtt-seg", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "qtt_core.cli.main"]


def run_in_terminal(command: list[str], timeout_s: float) -> tuple[int, bytes]:
    """Run ``command`` with stdin, stdout and stderr on a 120 x 40 pseudo-terminal.

    Returns its exit code and every byte it wrote to the terminal.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal and stdio
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
            os.execvpe(command[0], command, {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(LINES)})
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    chunks, deadline = [], time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal (it exited)
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks)


@pytest.mark.slow
def test_demo_panel_is_redrawn_in_place_under_the_log_lines(tmp_path):
    code, raw = run_in_terminal([*qtt_seg_command(), "demo", "--budget", "20", "--out", str(tmp_path / "demo")], timeout_s=240)
    text = raw.decode("utf-8", "replace")
    assert code == 0, text[-3000:]

    # it was drawn many times while the demo ran, each time over the previous drawing
    assert len(re.findall(r"time left\s+\d+ s", text)) > 1
    assert "\x1b[1A" in text  # cursor up: the redraw goes back over the old panel

    lines = rendered_lines(raw)
    screen = "\n".join(lines)
    time_left, trials = panel_rows(lines, PANEL_TIME_LEFT), panel_rows(lines, PANEL_TRIALS)
    assert len(time_left) == 1, screen
    assert len(trials) == 1, screen
    assert trials[0] == time_left[0] + 1
    zero_shot = [i for i, line in enumerate(lines) if "zero-shot IoU" in line]
    assert zero_shot and max(zero_shot) < time_left[0], screen  # log lines above the panel
    assert any(line.startswith("test IoU") for line in lines[time_left[0]:]), screen  # the summary below it


def test_log_lines_go_above_the_panel_through_the_shared_console(monkeypatch):
    from rich.console import Console
    from rich.logging import RichHandler

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=COLUMNS, height=LINES)
    logger = logging.getLogger("qtt_seg.test_live_panel")
    handler = RichHandler(console=console, show_path=False, show_time=False)
    logger.addHandler(handler)
    try:
        with LiveProgress(30.0, console) as progress:
            for trial in range(1, 6):
                logger.warning("trial %d done", trial)
                print(f"stray line {trial}", file=sys.stderr)  # routed through the console too
                progress.update(trials=trial, time_left_s=30.0 - trial)
                progress.live.refresh()
    finally:
        logger.removeHandler(handler)

    lines = rendered_lines(buffer.getvalue().replace("\n", "\r\n").encode())  # a tty's onlcr
    time_left, trials = panel_rows(lines, PANEL_TIME_LEFT), panel_rows(lines, PANEL_TRIALS)
    assert len(time_left) == 1 and len(trials) == 1, "\n".join(lines)
    assert lines[trials[0]].split() == ["trials", "5"]
    logged = [i for i, line in enumerate(lines) if "trial 5 done" in line or "stray line 5" in line]
    assert len(logged) == 2 and max(logged) < time_left[0], "\n".join(lines)


def test_no_panel_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(make_progress(10.0, quiet=False), NullProgress)


def test_panel_on_a_terminal_shares_the_given_console_unless_quiet(monkeypatch):
    from rich.console import Console

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    console = Console(file=io.StringIO())
    progress = make_progress(10.0, quiet=False, console=console)
    assert isinstance(progress, LiveProgress) and progress.live.console is console
    assert isinstance(make_progress(10.0, quiet=True, console=console), NullProgress)
