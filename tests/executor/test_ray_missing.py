"""Mistakes with the ray executor are one line: Ray not installed (naming the install command), a
cluster that does not answer, Ray options without the ray executor."""

from __future__ import annotations

import sys

import pytest

from helpers import require_ray, run_cli
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
    assert result.returncode == 2 and "--address and --gpus-per-job need --executor ray" in result.stderr


def test_an_address_nobody_answers_at_is_one_line(tmp_path):
    require_ray()
    result = run_cli("meta", "build", "--model", "sam-tiny", "--tasks", "shapes-binary", "--configs", "1", "--epochs", "1",
                     "--out", tmp_path / "meta.csv", "--executor", "ray", "--address", "127.0.0.1:1")  # fmt: skip
    assert result.returncode == 2 and "no Ray cluster answers at --address 127.0.0.1:1" in result.stderr, result
    assert len(result.stderr.strip().splitlines()) == 1
