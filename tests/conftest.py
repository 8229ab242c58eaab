"""Test-wide settings: hermetic plugin loading and the location of ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never pick up plugins installed in the environment by accident; the built-in SAM
# plugin is registered explicitly, the way PYTEST_PLUGINS works.
os.environ["QTT_SEG_DISABLE_PLUGIN_AUTOLOAD"] = "1"
os.environ.setdefault("QTT_SEG_PLUGINS", "qtt_sam.plugin")
os.environ.setdefault("OMP_NUM_THREADS", "2")

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


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """A private cache directory for data and checkpoints."""
    path = tmp_path / "cache"
    monkeypatch.setenv("QTT_SEG_CACHE_DIR", str(path))
    return path
