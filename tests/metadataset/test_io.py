"""Reading and writing meta-datasets: the published QTT-SEG CSV, the project's format, validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import require_shared
from qtt_core.errors import UnknownNameError, UsageError
from qtt_core.hookspecs import hookimpl
from qtt_core.metadataset import (
    PUBLISHED_FEATURES,
    detect_format,
    load_named_meta_dataset,
    read_meta_dataset,
    write_meta_dataset,
)
from qtt_core.metadataset.io import PUBLISHED_HYPERPARAMETERS
from qtt_core.metadataset.synthetic import synthetic_meta_dataset, synthetic_space
from qtt_core.registry import Registry
from qtt_core.space import config_id
from qtt_core.specs import MetaDatasetSpec


@pytest.fixture(scope="module")
def sam2_space():
    return Registry(autoload=False).load_space("qtt-seg-sam2")


def published_rows(n: int = 3) -> pd.DataFrame:
    """A tiny file in the published format (values of the qtt-seg-sam2 space)."""
    rows = []
    for i in range(n):
        row = {
            "cosine_t0": 3, "cosine_t_mult": 2, "decay_rate": 0.5, "horizontal_flip": 1, "lora": i % 2,
            "lora_dropout": 0.1, "lora_rank": 8, "lr": [1e-05, 0.0001, 0.007][i % 3], "onecycle_div_factor": 25,
            "onecycle_final_div_factor": 160, "onecycle_pct_start": 0.05, "patience_epochs": 1, "poly_power": 0.9,
            "random_rotate": 0, "sched": ["cosine", "plateau", "cosine_warm"][i % 3], "step_size": 3,
            "vertical_flip": 0, "weight_decay": 0.0, "num_samples": 100, "default_resolution": "(480, 640)",
            "num_channels": 3, "num_classes": 2, "dataset": f"set{i % 2}", "cost": 120.0 + i,
        }  # fmt: skip
        row.update({f"epoch_{k}_iou": 0.1 * k / 9 + 0.01 * i for k in range(10)})
        rows.append(row)
    return pd.DataFrame(rows)


def test_published_dev_file_reads_with_active_hyperparameters(sam2_space):
    path = require_shared("metadataset", "qtt_seg_sam2_dev.csv")
    md = read_meta_dataset(path, space=sam2_space)
    assert len(md) == 450 and md.num_epochs == 10 and len(md.dataset_names()) == 8
    assert md.feature_names == list(PUBLISHED_FEATURES) and md.space == "qtt-seg-sam2"
    us = md.datasets.index("US")
    assert md.metafeatures[us].tolist() == [633, 464, 449, 3, 3]
    for config in md.configs:
        assert ("lora_rank" in config) == (config["lora"] == 1)
        assert ("cosine_t0" in config) == (config["sched"] == "cosine_warm")
        assert ("decay_rate" in config) == (config["sched"] in ("plateau", "step"))
    assert np.all(md.cost_s > 0) and not np.isnan(md.curves).any()
    assert detect_format(path) == "published"


def test_published_format_without_space_keeps_every_column(tmp_path):
    path = tmp_path / "published.csv"
    published_rows().to_csv(path, index=False)
    md = read_meta_dataset(path)
    assert all(set(c) == set(PUBLISHED_HYPERPARAMETERS) for c in md.configs)
    assert md.metafeatures[0].tolist() == [100, 480, 640, 3, 2]
    np.testing.assert_allclose(md.curves[2, 9], 0.12)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_project_format(tmp_path, suffix):
    md = synthetic_meta_dataset(n_datasets=2, n_configs=5, n_epochs=4, seed=3)
    md.curves[0, 2:] = np.nan  # a run that stopped after two epochs
    md.extra = {"seed": list(range(len(md))), "status": ["ok"] * (len(md) - 1) + ["stopped"]}
    path = write_meta_dataset(md, tmp_path / f"md{suffix}")
    back = read_meta_dataset(path, space=synthetic_space())
    assert back.configs == md.configs and back.datasets == md.datasets
    assert [type(v) for v in back.configs[0].values()] == [type(v) for v in md.configs[0].values()]
    np.testing.assert_array_equal(back.curves, md.curves)
    np.testing.assert_allclose(back.cost_s, md.cost_s)
    np.testing.assert_allclose(back.metafeatures, md.metafeatures)
    assert back.feature_names == md.feature_names and back.space == "synthetic"
    assert back.extra == md.extra
    assert detect_format(path) == "project"


def test_space_reduction_drops_inactive_values_from_project_rows(tmp_path):
    md = synthetic_meta_dataset(n_datasets=1, n_configs=3, n_epochs=2)
    md.configs[0] = {**md.configs[0], "lora": 0, "lora_rank": 16}  # recorded unconditionally
    path = write_meta_dataset(md, tmp_path / "md.csv")
    back = read_meta_dataset(path, space=synthetic_space())
    assert "lora_rank" not in back.configs[0] and back.configs[0]["lora"] == 0


def _error(path, **kwargs) -> str:
    with pytest.raises(UsageError) as info:
        read_meta_dataset(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_validation_errors_name_the_file_row_and_column(tmp_path, sam2_space):
    path = tmp_path / "bad.csv"
    frame = published_rows()
    frame.drop(columns=["cost"]).to_csv(path, index=False)
    assert "cost" in _error(path)

    bad = frame.copy()
    bad.loc[1, [f"epoch_{k}_iou" for k in range(10)]] = np.nan
    bad.to_csv(path, index=False)
    assert "row 2" in _error(path)

    bad = frame.copy()
    bad.loc[2, "cost"] = -5.0
    bad.to_csv(path, index=False)
    assert "row 3" in _error(path) and "-5" in _error(path)

    bad = frame.copy()
    bad.loc[1, "lr"] = 0.123
    bad.to_csv(path, index=False)
    message = _error(path, space=sam2_space)
    assert "row 2" in message and "lr" in message and "0.123" in message

    bad = frame.copy()
    bad.loc[0, "default_resolution"] = "big"
    bad.to_csv(path, index=False)
    assert "default_resolution" in _error(path)


def test_unreadable_missing_and_unknown_files(tmp_path):
    assert "does not exist" in _error(tmp_path / "missing.csv")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    assert "cannot read" in _error(broken)
    other = tmp_path / "other.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(other, index=False)
    assert "neither known format" in _error(other)


def test_project_format_checks_config_json_and_id(tmp_path):
    md = synthetic_meta_dataset(n_datasets=1, n_configs=2, n_epochs=2)
    path = write_meta_dataset(md, tmp_path / "md.csv")
    frame = pd.read_csv(path)
    frame.loc[1, "config_id"] = "c0000000000"
    frame.to_csv(path, index=False)
    assert "config_id" in _error(path)
    frame.loc[1, "config"] = "{not json"
    frame.to_csv(path, index=False)
    assert "JSON" in _error(path)


def test_write_refuses_clashing_extra_column(tmp_path):
    md = synthetic_meta_dataset(n_datasets=1, n_configs=2, n_epochs=2)
    md.extra = {"cost_s": [1, 2]}
    with pytest.raises(UsageError, match="clashes"):
        write_meta_dataset(md, tmp_path / "md.csv")


class _MetaDatasetPlugin:
    def __init__(self, spec: MetaDatasetSpec):
        self.spec = spec

    @hookimpl
    def qtt_meta_datasets(self):
        return [self.spec]


def test_named_meta_dataset_from_a_plugin(tmp_path):
    path = tmp_path / "published.csv"
    published_rows().to_csv(path, index=False)
    spec = MetaDatasetSpec(name="tiny", models=("sam2",), space="qtt-seg-sam2", path=path)
    registry = Registry(autoload=False, plugins=[_MetaDatasetPlugin(spec)])
    md = load_named_meta_dataset(registry, "tiny")
    assert len(md) == 3 and md.space == "qtt-seg-sam2"
    assert "lora_rank" not in md.configs[0]  # reduced to the registered space
    with pytest.raises(UnknownNameError, match="tiny"):
        load_named_meta_dataset(registry, "nope")


def test_named_meta_dataset_downloads_through_the_fetcher(tmp_path):
    pytest.importorskip("qtt_core.checkpoints")
    source = tmp_path / "source.csv"
    published_rows().to_csv(source, index=False)
    spec = MetaDatasetSpec(name="remote", models=("sam2",), space="qtt-seg-sam2", url=source.as_uri())
    registry = Registry(autoload=False, plugins=[_MetaDatasetPlugin(spec)])
    md = load_named_meta_dataset(registry, "remote", cache_dir=tmp_path / "cache")
    assert len(md) == 3
    assert any((tmp_path / "cache").rglob("*source.csv"))


def test_config_ids_survive_the_round_trip(tmp_path):
    md = synthetic_meta_dataset(n_datasets=1, n_configs=4, n_epochs=2)
    frame = pd.read_csv(write_meta_dataset(md, tmp_path / "md.csv"))
    assert frame["config_id"].tolist() == [config_id(c) for c in md.configs]
    assert [json.loads(text) for text in frame["config"]] == md.configs
