"""Test-wide settings: hermetic plugin loading, private caches, ../shared lookup.

Helpers for tests live in tests/helpers.py: ``from helpers import require_shared``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qtt_core.installed import package_installed
from helpers import REPO_ROOT, require_shared, shared_data_dir  # noqa: F401 - re-exported

# Tests never pick up plugins installed in the environment by accident; the built-in SAM
# plugin is registered explicitly, the way PYTEST_PLUGINS works.
os.environ["QTT_SEG_DISABLE_PLUGIN_AUTOLOAD"] = "1"
# The SAM 2 plugin too where its optional dependency (the sam2 package) is installed.
os.environ.setdefault("QTT_SEG_PLUGINS", "qtt_sam.plugin" + (",qtt_sam2.plugin" if package_installed("sam2", "build_sam") else ""))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """A private cache directory for data and checkpoints."""
    path = tmp_path / "cache"
    monkeypatch.setenv("QTT_SEG_CACHE_DIR", str(path))
    return path


@pytest.fixture
def shared():
    """``shared("real", "kvasir_seg_sample")``: a path under ../shared/data, or skip."""
    return require_shared
