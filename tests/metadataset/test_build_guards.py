"""``meta build`` trusts its ``--out``: one build per file (same model, epochs and search space),
and one writer at a time (the lock ``<out>.lock``).

The command-line tests build with the model ``mock``, which this module contributes as a plugin
(``QTT_SEG_PLUGINS`` names it besides the built-in SAM plugin).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import registry_with, run_cli

from qtt_core.errors import UsageError
from qtt_core.hookspecs import hookimpl
from qtt_core.metadataset.build import build_meta_dataset
from qtt_core.testing import MockAdapter

BUILD = ["meta", "build", "--model", "mock", "--tasks", "shapes-binary", "--configs", "2", "--epochs", "2", "--seed", "1"]


@hookimpl
def qtt_model_adapters():
    """This module as a plugin: the model ``mock``, with no time per epoch."""
    return [MockAdapter(epoch_cost_s=0.0)]


@pytest.fixture
def mock_cli(monkeypatch):
    """``qtt-seg`` sees the model ``mock`` besides the SAM models."""
    monkeypatch.setenv("QTT_SEG_PLUGINS", f"{os.environ.get('QTT_SEG_PLUGINS', '')},{__name__}")


def _lock(out: Path) -> Path:
    return out.with_name(out.name + ".lock")


def _build(out: Path, **options):
    """A quick API build of ``mock`` into ``out`` (2 configurations, 2 epochs, one task)."""
    registry = registry_with(MockAdapter(epoch_cost_s=0.0))
    return build_meta_dataset("mock", ["shapes-binary"], 2, 2, out, seed=1, registry=registry, **options)


@pytest.mark.parametrize(
    ("option", "value", "difference"),
    [
        ("--model", "sam-nano", "model mock there, sam-nano asked"),
        ("--epochs", "3", "epochs 2 there, 3 asked"),
        ("--space", "sam2-lora", "search space sam-lora there, sam2-lora asked"),
    ],
)
def test_another_build_into_the_same_file_is_refused(mock_cli, tmp_path, option, value, difference):
    out = tmp_path / "meta.csv"
    first = run_cli(*BUILD, "--out", out)
    assert first.returncode == 0 and "2 runs recorded" in first.stdout, first
    written = out.read_bytes()

    options = dict(zip(BUILD[2::2], BUILD[3::2]))
    options[option] = value
    again = run_cli("meta", "build", *[part for pair in options.items() for part in pair], "--out", out)
    assert again.returncode == 2, again
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and difference in lines[0] and "use another --out" in lines[0], lines
    assert out.read_bytes() == written and not _lock(out).exists()

    same = run_cli(*BUILD, "--out", out)
    assert same.returncode == 0 and "0 runs recorded, 0 failed, 2 already done of 2" in same.stdout, same


def test_a_space_file_changed_under_its_name_is_refused(tmp_path):
    from qtt_core.space.loading import builtin_space_specs

    space_file = tmp_path / "space.yaml"
    source = next(spec.source for spec in builtin_space_specs() if spec.name == "sam-lora")
    description = yaml.safe_load(Path(source).read_text())
    space_file.write_text(yaml.safe_dump(description))
    out = tmp_path / "meta.csv"
    _build(out, space=str(space_file))
    fingerprint = pd.read_csv(out)["space_fingerprint"].unique()
    assert len(fingerprint) == 1 and fingerprint[0].startswith("s")

    batch_size = next(hp for hp in description["hyperparameters"] if hp["name"] == "batch_size")
    batch_size["sequence"].append(16)
    space_file.write_text(yaml.safe_dump(description))
    with pytest.raises(UsageError, match=rf"search space fingerprint {fingerprint[0]} there, s\w+ asked"):
        _build(out, space=str(space_file))


def test_a_file_from_before_fingerprints_gets_them(tmp_path):
    out = tmp_path / "meta.csv"
    _build(out)
    built = pd.read_csv(out)
    built.drop(columns="space_fingerprint").to_csv(out, index=False)

    again = _build(out)
    assert (again.skipped, again.succeeded) == (2, 0)
    pd.testing.assert_frame_equal(pd.read_csv(out), built, check_like=True)
    with pytest.raises(UsageError, match="search space sam-lora there, sam2-lora asked"):
        _build(out, space="sam2-lora")


def test_a_live_lock_refuses_a_second_build(mock_cli, tmp_path):
    out = tmp_path / "meta.csv"
    lock = _lock(out)
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    result = run_cli(*BUILD, "--out", out)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(lock) in lines[0] and f"pid {os.getpid()}" in lines[0], lines
    assert lock.exists() and not out.exists()  # another build's lock is left alone


def test_a_stale_lock_is_taken_over(tmp_path, caplog):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    pid = int(finished.stdout)
    out = tmp_path / "meta.csv"
    _lock(out).write_text(json.dumps({"pid": pid, "host": socket.gethostname()}))
    with caplog.at_level("WARNING", logger="qtt_seg.meta"):
        summary = _build(out)
    assert summary.succeeded == 2 and len(pd.read_csv(out)) == 2
    assert f"taking over the stale lock {_lock(out)} of pid {pid}" in caplog.text
    assert not _lock(out).exists()


def test_the_lock_is_held_during_the_run_and_removed_after_it(tmp_path):
    out = tmp_path / "meta.csv"
    holders = []
    _build(out, on_progress=lambda progress: holders.append(json.loads(_lock(out).read_text())))
    assert holders and all(h == {"pid": os.getpid(), "host": socket.gethostname()} for h in holders)
    assert not _lock(out).exists()

    def interrupt(progress):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path / "interrupted.csv", on_progress=interrupt)
    assert not _lock(tmp_path / "interrupted.csv").exists()
