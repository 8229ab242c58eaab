"""Synthetic meta-data for the predictor tests (generated, a few hundred rows)."""

from __future__ import annotations

import pytest
import torch

from qtt_core.metadataset.table import MetaDataset
from qtt_core.registry import Registry
from qtt_core.surrogates import meta_train_predictors
from qtt_core.testing import synthetic_meta_dataset


@pytest.fixture(scope="session")
def space():
    return Registry(autoload=False).load_space("sam-lora")


@pytest.fixture(scope="session")
def meta(space) -> MetaDataset:
    return synthetic_meta_dataset(space, {"a": 0.6, "b": 0.9, "c": 1.0}, 40, seed=0)


@pytest.fixture(scope="session")
def held_out(space) -> MetaDataset:
    return synthetic_meta_dataset(space, {"d": 0.8}, 200, seed=100)


@pytest.fixture(scope="session")
def trained_pair(space, meta):
    torch.set_num_threads(1)
    return meta_train_predictors(meta, space, seed=0, steps=60, n_pairs=1000, prior_points=600)
