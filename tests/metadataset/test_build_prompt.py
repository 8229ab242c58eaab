"""``meta build --prompt box|none``: the runs' prompt protocol reaches every session, each row
records it, a file holds one protocol, and files from before the column hold ``box`` runs.

The command-line tests build with the model ``mock`` of this module (``QTT_SEG_PLUGINS`` names
it besides the built-in SAM plugin), which supports both protocols.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from helpers import REPO_ROOT, registry_with, require_shared, run_cli

from qtt_core.errors import UsageError
from qtt_core.hookspecs import hookimpl
from qtt_core.metadataset.build import build_meta_dataset
from qtt_core.metadataset.io import read_meta_dataset, read_prompt, write_meta_dataset
from qtt_core.registry import Registry
from qtt_core.testing import MockAdapter, synthetic_meta_dataset

BUILD = ["meta", "build", "--model", "mock", "--tasks", "shapes-binary", "--configs", "2", "--epochs", "2", "--seed", "1"]


class PromptRecorder(MockAdapter):
    """``mock`` with the prompt protocols ``protocols``, remembering the prompt of every session."""

    def __init__(self, protocols: tuple[str, ...] = ("box", "none")):
        super().__init__(epoch_cost_s=0.0)
        self.protocols = protocols
        self.prompts: list[str] = []

    def prompt_protocols(self) -> list[str]:
        return list(self.protocols)

    def open_session(self, request):
        self.prompts.append(request.prompt)
        return super().open_session(request)


@hookimpl
def qtt_model_adapters():
    """This module as a plugin: the model ``mock`` with both protocols."""
    return [PromptRecorder()]


@pytest.fixture
def mock_cli(monkeypatch):
    monkeypatch.setenv("QTT_SEG_PLUGINS", f"{os.environ.get('QTT_SEG_PLUGINS', '')},{__name__}")


def _build(out: Path, adapter: MockAdapter | None = None, **options):
    """An API build of ``mock`` into ``out`` (2 configurations, 2 epochs, one task)."""
    registry = registry_with(adapter or PromptRecorder())
    return build_meta_dataset("mock", ["shapes-binary"], 2, 2, out, seed=1, registry=registry, **options)


def test_every_session_gets_the_prompt_and_every_row_records_it(tmp_path):
    adapter = PromptRecorder()
    summary = _build(tmp_path / "none.csv", adapter, prompt="none")
    assert summary.succeeded == 2 and adapter.prompts == ["none", "none"]
    frame = pd.read_csv(tmp_path / "none.csv")
    assert list(frame["prompt"]) == ["none", "none"]
    assert read_prompt(tmp_path / "none.csv") == "none"
    meta = read_meta_dataset(tmp_path / "none.csv")
    assert meta.prompt == "none" and "prompt" not in meta.extra

    default = PromptRecorder()
    _build(tmp_path / "box.csv", default)
    assert default.prompts == ["box", "box"] and set(pd.read_csv(tmp_path / "box.csv")["prompt"]) == {"box"}
    assert read_meta_dataset(tmp_path / "box.csv").prompt == "box"


def test_extending_a_file_with_another_prompt_is_refused(tmp_path):
    out = tmp_path / "meta.csv"
    _build(out, prompt="none")
    written = out.read_bytes()
    with pytest.raises(UsageError, match=r"prompt protocol none there, box asked\): use another --out") as error:
        _build(out)
    assert str(out) in str(error.value) and "\n" not in str(error.value)
    assert out.read_bytes() == written
    again = _build(out, prompt="none")
    assert (again.skipped, again.succeeded) == (2, 0)


def test_a_file_without_the_prompt_column_holds_box_runs(tmp_path):
    out = tmp_path / "meta.csv"
    _build(out)
    built = pd.read_csv(out)
    built.drop(columns="prompt").to_csv(out, index=False)
    assert read_prompt(out) == "box" and read_meta_dataset(out).prompt == "box"

    with pytest.raises(UsageError, match="prompt protocol box there, none asked"):
        _build(out, prompt="none")
    again = _build(out)
    assert (again.skipped, again.succeeded) == (2, 0)
    pd.testing.assert_frame_equal(pd.read_csv(out), built, check_like=True)  # the column is back, as box


def test_a_protocol_the_model_lacks_is_refused_before_any_job(tmp_path):
    adapter = PromptRecorder(protocols=("box",))
    with pytest.raises(UsageError, match="model mock does not support --prompt none; give one of box"):
        _build(tmp_path / "meta.csv", adapter, prompt="none")
    with pytest.raises(UsageError, match="'points' is not a prompt protocol; give one of box, none"):
        _build(tmp_path / "meta.csv", adapter, prompt="points")
    assert adapter.prompts == [] and not (tmp_path / "meta.csv").exists()


def test_the_shipped_and_shared_files_without_the_column_read_as_box():
    from qtt_sam.nano.meta import META_DATASET_FILE

    assert "prompt" not in pd.read_csv(META_DATASET_FILE, nrows=1).columns
    assert read_meta_dataset(META_DATASET_FILE).prompt == "box"
    published = require_shared("metadataset", "qtt_seg_sam2_dev.csv")
    assert read_prompt(published) == "box" and read_meta_dataset(published).prompt == "box"


def test_the_protocol_survives_writing_and_reading_and_one_file_holds_one(tmp_path):
    space = Registry(autoload=False).load_space("sam-lora")
    meta = synthetic_meta_dataset(space, {"a": 0.6, "b": 0.9}, 3, seed=0)
    meta.prompt = "none"
    path = write_meta_dataset(meta, tmp_path / "meta.csv")
    assert read_meta_dataset(path).prompt == "none" and read_meta_dataset(path).subset([0, 1]).prompt == "none"

    frame = pd.read_csv(path)
    frame.loc[0, "prompt"] = "box"
    frame.to_csv(path, index=False)
    with pytest.raises(UsageError, match=r"mixes prompt protocols \['box', 'none'\]; split it into one file per protocol"):
        read_meta_dataset(path)
    frame["prompt"] = "points"
    frame.to_csv(path, index=False)
    with pytest.raises(UsageError, match="prompt protocol 'points' is not one of box, none"):
        read_prompt(path)


def test_meta_build_cli_prompt(mock_cli, tmp_path):
    out = tmp_path / "meta.csv"
    bogus = run_cli(*BUILD, "--out", out, "--prompt", "bogus")
    assert bogus.returncode == 2, bogus
    lines = bogus.stderr.strip().splitlines()
    assert len(lines) == 1 and "--prompt 'bogus'" in lines[0] and "box, none" in lines[0], lines
    assert not out.exists()

    first = run_cli(*BUILD, "--out", out, "--prompt", "none")
    assert first.returncode == 0 and "2 runs recorded" in first.stdout, first
    assert set(pd.read_csv(out)["prompt"]) == {"none"}
    box = run_cli(*BUILD, "--out", out)
    assert box.returncode == 2 and "prompt protocol none there, box asked" in box.stderr, box
    assert len(box.stderr.strip().splitlines()) == 1


def test_the_ray_jobs_carry_the_prompt():
    """A job crosses to a Ray worker pickled; its prompt goes with it (no Ray needed to check)."""
    import pickle

    from qtt_core.executor.ray_executor import _portable
    from qtt_core.metadataset.build import plan_jobs

    job = plan_jobs("mock", [str(REPO_ROOT)], [{"lr": 0.1}], 2, 0, prompt="none")[0]
    assert pickle.loads(pickle.dumps(_portable(job))).prompt == "none"
