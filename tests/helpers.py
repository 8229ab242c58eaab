"""Helpers for tests (importable as ``helpers``: pyproject puts tests/ on the path)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the repository, or None when it is absent (a user's clone)."""
    path = REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


def require_shared(*parts: str) -> Path:
    """The path ``../shared/data/<parts>``; skips the test with a clear reason when absent."""
    root = shared_data_dir()
    if root is None or not root.joinpath(*parts).exists():
        pytest.skip(f"needs ../shared/data/{'/'.join(parts)} beside the repository (not in a plain clone)")
    return root.joinpath(*parts)


class CliResult:
    """What a command printed and its exit code."""

    def __init__(self, code: int, stdout: str, stderr: str):
        self.returncode = code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self) -> str:
        return f"CliResult(code={self.returncode}, stdout={self.stdout[-500:]!r}, stderr={self.stderr[-500:]!r})"


def run_cli(*args: str) -> CliResult:
    """Run ``qtt-seg ARGS`` in this process (fast) through the console-script entry point."""
    import contextlib
    import io
    import sys

    from qtt_core.cli.main import run

    stdout, stderr = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["qtt-seg", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            run()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv = argv
    return CliResult(code, stdout.getvalue(), stderr.getvalue())
