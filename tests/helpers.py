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
