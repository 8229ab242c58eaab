"""``qtt-seg meta fit``: meta-trains both predictors from a meta-dataset file and saves them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import require_shared, run_cli

from qtt_core.metadataset.io import write_meta_dataset
from qtt_core.surrogates import load_predictors


def test_missing_file_is_a_usage_error(tmp_path):
    result = run_cli("meta", "fit", tmp_path / "nope.csv", "--out", tmp_path / "out")
    assert result.returncode == 2 and "nope.csv" in result.stderr


@pytest.mark.slow
def test_meta_fit_writes_predictors_that_load(tmp_path, meta):
    path = write_meta_dataset(meta, tmp_path / "meta.csv")
    result = run_cli("meta", "fit", path, "--out", tmp_path / "pred", "--space", "sam-lora", "--steps", "5", "--json")
    assert result.returncode == 0, result
    summary = json.loads(result.stdout)
    assert summary["rows"] == len(meta) and "performance.safetensors" in summary["files"]
    performance, cost = load_predictors(tmp_path / "pred")
    assert performance.meta_trained and cost.meta_trained
    assert performance.scaler.feature_names == list(meta.feature_names)


@pytest.mark.slow
@pytest.mark.shared_data
def test_meta_training_on_the_dev_meta_dataset_ranks_a_held_out_dataset():
    from scipy.stats import spearmanr

    from qtt_core.metadataset.io import read_meta_dataset
    from qtt_core.registry import Registry
    from qtt_core.surrogates import meta_train_predictors

    path = require_shared("metadataset", "qtt_seg_sam2_dev.csv")
    space = Registry(autoload=False).load_space("qtt-seg-sam2")
    meta = read_meta_dataset(path, space)
    held_out = np.array(meta.datasets) == "lesion"
    performance, cost = meta_train_predictors(meta.subset(~held_out), space, seed=0, steps=100)
    test = meta.subset(held_out)
    n = len(test)
    X = performance.inputs(performance.encode(test.configs), dict(zip(test.feature_names, test.metafeatures[0], strict=True)), np.zeros((n, 0)), np.zeros(n, dtype=int), np.full(n, test.num_epochs))
    assert spearmanr(performance.predict(X)[0], np.nanmax(test.curves, axis=1)).statistic > 0.5
    cost_s = cost.predict(cost.inputs(cost.encoder.encode(test.configs), dict(zip(test.feature_names, test.metafeatures[0], strict=True))))
    assert np.median(np.abs(cost_s / test.epoch_cost_s() - 1)) < 0.5
