"""Asking for the ray executor without Ray installed is one line naming the install command."""

from __future__ import annotations

import sys

import pytest

from helpers import run_cli
from qtt_core.errors import UsageError
from qtt_core.executor import EXECUTOR_NAMES, make_executor

INSTALL = "pip install 'qtt-seg[ray]'"


def test_ray_executor_without_ray(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert "ray" in EXECUTOR_NAMES
    with pytest.raises(UsageError, match=r"pip install 'qtt-seg\[ray\]'"):
        make_executor("ray")
    out = tmp_path / "meta.csv"
    result = run_cli("meta", "build", "--model", "sam-tiny", "--tasks", "shapes-binary", "--configs", "1",
                     "--epochs", "1", "--out", out, "--executor", "ray")  # fmt: skip
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and INSTALL in lines[0]
    assert not out.exists()


def test_ray_options_need_the_ray_executor(tmp_path):
    result = run_cli("meta", "build", "--model", "sam-tiny", "--tasks", "shapes-binary", "--configs", "1",
                     "--epochs", "1", "--out", tmp_path / "meta.csv", "--address", "auto")  # fmt: skip
    assert result.returncode == 2 and "--executor ray" in result.stderr
