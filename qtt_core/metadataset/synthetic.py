"""Small synthetic meta-datasets with learning curves, for tests and benchmarks.

The curves have the structure of real fine-tuning runs: a configuration-dependent ceiling,
a learning-rate-dependent speed, divergence (scores near 0) for the largest learning rates,
and dataset-dependent difficulty, cost and meta-features. Nothing is random beyond ``seed``.
"""

from __future__ import annotations

import numpy as np
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    EqualsCondition,
    OrdinalHyperparameter,
)

from qtt_core.metadataset.table import MetaDataset
from qtt_core.space.sampling import sample_configurations

__all__ = ["synthetic_meta_dataset", "synthetic_space"]

_LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3)


def synthetic_space() -> ConfigurationSpace:
    """A small conditional space: ``lr``, ``sched``, ``lora`` and ``lora_rank`` (when ``lora`` = 1)."""
    space = ConfigurationSpace(name="synthetic")
    lr = OrdinalHyperparameter("lr", _LEARNING_RATES, default_value=1e-4, meta={"log": True})
    sched = CategoricalHyperparameter("sched", ["cosine", "step", "poly"])
    lora = CategoricalHyperparameter("lora", [0, 1], default_value=1)
    rank = OrdinalHyperparameter("lora_rank", (4, 8, 16), default_value=8)
    weight_decay = OrdinalHyperparameter("weight_decay", (0.0, 1e-4), default_value=0.0)
    space.add([lr, sched, lora, rank, weight_decay, EqualsCondition(rank, lora, 1)])
    return space


def synthetic_meta_dataset(
    n_datasets: int = 4, n_configs: int = 20, n_epochs: int = 10, seed: int = 0, shared_configs: bool = False
) -> MetaDataset:
    """``n_datasets x n_configs`` recorded runs of configurations of :func:`synthetic_space`.

    Args:
        n_datasets: datasets ``d0``, ``d1``, ...
        n_configs: configurations recorded per dataset.
        n_epochs: recorded epochs per run.
        seed: makes everything reproducible.
        shared_configs: every dataset records the same configurations (otherwise each dataset
            draws its own, as in the published QTT-SEG meta-dataset).

    Returns:
        A :class:`MetaDataset` with meta-features ``num_samples``, ``median_height``,
        ``median_width``, ``num_channels``, ``num_classes``; costs of 5-20 s per epoch.
    """
    rng = np.random.default_rng(seed)
    space = synthetic_space()
    pool = sample_configurations(space, n_configs * (1 if shared_configs else n_datasets), seed=seed)
    configs, datasets, curves, costs, features = [], [], [], [], []
    epochs = np.arange(1, n_epochs + 1)
    for d in range(n_datasets):
        difficulty = rng.uniform(0.3, 0.9)
        epoch_base_s = rng.uniform(5.0, 12.0)
        row_features = [rng.integers(100, 5000), rng.integers(200, 1200), rng.integers(200, 1200), 3, rng.integers(1, 5)]
        chosen = pool[:n_configs] if shared_configs else pool[d * n_configs : (d + 1) * n_configs]
        for config in chosen:
            log_lr = np.log10(config["lr"])
            ceiling = difficulty * (1.0 - 0.08 * (log_lr + 4.0) ** 2) + 0.05 * (config["sched"] == "cosine")
            ceiling += 0.03 * config.get("lora", 0) * (config.get("lora_rank", 8) == 8)
            speed = 0.6 * 10 ** (log_lr + 4.0) ** 0.5 if log_lr > -4 else 0.6 * 10 ** (log_lr + 4.0)
            curve = ceiling * (1.0 - np.exp(-speed * epochs)) + rng.normal(0.0, 0.005, n_epochs)
            if config["lr"] >= 3e-3:
                curve = rng.uniform(0.0, 0.02, n_epochs)  # diverged
            configs.append(config)
            datasets.append(f"d{d}")
            curves.append(np.clip(curve, 0.0, 1.0))
            costs.append(n_epochs * epoch_base_s * (1.0 + 0.3 * config.get("lora", 0) * config.get("lora_rank", 0) / 16))
            features.append(row_features)
    return MetaDataset(
        configs=configs,
        metafeatures=np.asarray(features, dtype=float),
        feature_names=["num_samples", "median_height", "median_width", "num_channels", "num_classes"],
        datasets=datasets,
        curves=np.asarray(curves),
        cost_s=np.asarray(costs, dtype=float),
        space="synthetic",
    )
