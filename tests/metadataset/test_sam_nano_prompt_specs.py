"""sam-nano registers a meta-dataset per prompt protocol recorded: ``qtt-seg-sam-nano`` (box) always,
``qtt-seg-sam-nano-none`` once ``sam_nano_meta_none.csv`` exists; ``python -m qtt_sam.nano.meta
FILE --prompt none`` makes its predictors."""

from __future__ import annotations

import json

import pytest
import torch

from qtt_core.metadataset.io import write_meta_dataset
from qtt_core.registry import Registry
from qtt_core.testing import synthetic_meta_dataset
from qtt_sam.nano import meta as nano_meta


@pytest.fixture
def assets(tmp_path, monkeypatch):
    """The none protocol's file and predictors folder moved to ``tmp_path`` (not there yet)."""
    monkeypatch.setitem(nano_meta.META_DATASET_FILES, "none", tmp_path / "sam_nano_meta_none.csv")
    monkeypatch.setitem(nano_meta.PREDICTORS_DIRS, "none", tmp_path / "predictors_none")
    return tmp_path


def _write(path, prompt):
    meta = synthetic_meta_dataset(Registry(autoload=False).load_space("sam-lora"), {"a": 0.6, "b": 0.9}, 8, seed=0)
    meta.prompt, meta.space = prompt, "sam-lora"
    return write_meta_dataset(meta, path)


def test_the_none_spec_is_registered_once_its_file_is_recorded(assets):
    assert [spec.name for _, spec in Registry(autoload=False).meta_datasets.items() if spec.name.startswith("qtt-seg-sam-nano")] == ["qtt-seg-sam-nano"]
    assert Registry(autoload=False).meta_datasets.get("qtt-seg-sam-nano").prompt == "box"

    _write(assets / "sam_nano_meta_none.csv", "none")
    spec = Registry(autoload=False).meta_datasets.get("qtt-seg-sam-nano-none")
    assert (spec.prompt, spec.models, spec.space) == ("none", ("sam-nano",), "sam-lora")
    assert spec.path == assets / "sam_nano_meta_none.csv" and spec.predictors is None  # not fitted yet

    (assets / "predictors_none").mkdir()
    (assets / "predictors_none" / "performance.json").write_text("{}")
    assert Registry(autoload=False).meta_datasets.get("qtt-seg-sam-nano-none").predictors == assets / "predictors_none"


def test_the_module_refuses_a_file_of_another_protocol(assets, capsys):
    box = _write(assets / "box.csv", "box")
    with pytest.raises(SystemExit) as exit_:
        nano_meta.main([str(box), "--prompt", "none"])
    assert exit_.value.code == 2
    assert "prompt protocol 'box', not 'none'" in capsys.readouterr().err
    assert not (assets / "predictors_none").exists()


@pytest.mark.slow
def test_the_module_writes_predictors_none(assets):
    torch.set_num_threads(1)
    _write(assets / "sam_nano_meta_none.csv", "none")
    nano_meta.main(["--prompt", "none"])
    assert json.loads((assets / "predictors_none" / "performance.json").read_text())["prompt"] == "none"
    assert json.loads((assets / "predictors_none" / "cost.json").read_text())["prompt"] == "none"
