"""sam-nano's pretraining tools run from a checkout (``tools/sam_nano/``); the package keeps what runs at run time."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib

from helpers import REPO_ROOT


def test_the_installed_package_keeps_only_the_meta_dataset_spec():
    assert importlib.util.find_spec("qtt_sam.nano.meta") is not None
    assert [importlib.util.find_spec(f"qtt_sam.nano.{tool}") for tool in ("pretrain", "scenes", "evaluate")] == [None] * 3
    packages = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert not [name for name in packages if name.split(".")[0] == "tools"]


def test_the_pretraining_command_runs_from_the_repository_root():
    done = subprocess.run([sys.executable, "-m", "tools.sam_nano.pretrain", "--help"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "python -m tools.sam_nano.pretrain" in done.stdout
