"""sam-nano's shipped meta-dataset and predictors: registered, readable, big enough, usable."""

from __future__ import annotations

import numpy as np
import pytest

from qtt_core.metadataset.io import read_meta_dataset
from qtt_core.registry import Registry
from qtt_core.surrogates import load_predictors
from qtt_sam.nano.meta import META_DATASET_FILE, PREDICTORS_DIR, make_predictors


def test_the_plugin_registers_the_meta_dataset_and_its_predictors_for_sam_nano():
    spec = Registry().meta_datasets.get("qtt-seg-sam-nano")
    assert spec.models == ("sam-nano",) and spec.space == "sam-lora"
    assert spec.path == META_DATASET_FILE and spec.predictors == PREDICTORS_DIR


def test_the_shipped_meta_dataset_has_300_ten_epoch_runs_over_6_tasks_or_more():
    meta = read_meta_dataset(META_DATASET_FILE, Registry().load_space("sam-lora"))
    assert len(meta) >= 300 and len(meta.dataset_names()) >= 6 and meta.num_epochs == 10
    assert np.isfinite(meta.curves).all() and (meta.epoch_cost_s() > 0).all()
    assert META_DATASET_FILE.stat().st_size < 1_000_000


def test_the_shipped_predictors_load_meta_trained_on_that_file():
    performance, cost = load_predictors(PREDICTORS_DIR)
    assert performance.meta_trained and cost.meta_trained and performance.max_epochs == 10
    meta = read_meta_dataset(META_DATASET_FILE)
    assert performance.scaler.feature_names == list(meta.feature_names)


@pytest.mark.slow
def test_predictors_can_be_remade_from_the_file(tmp_path):
    summary = make_predictors(META_DATASET_FILE, tmp_path / "pred")
    assert summary["space"] == "sam-lora" and summary["rows"] >= 300
    assert {"performance.json", "performance.safetensors", "cost.json", "cost.safetensors"} <= set(summary["files"])
