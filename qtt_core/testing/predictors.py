"""Mock performance and cost predictors (like ``botorch.utils.testing``'s mock models).

They follow the interfaces of :class:`qtt_core.surrogates.PerformancePredictor` and
:class:`qtt_core.surrogates.CostPredictor` but compute their predictions from plain
functions of the configuration, so tests of optimisers, tuners and plugins need no
trained GP. Both count as meta-trained (the optimiser skips its warm-up).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from ConfigSpace import ConfigurationSpace
from gpytorch.distributions import MultivariateNormal
from linear_operator.operators import DiagLinearOperator
from torch import Tensor

from qtt_core.metadataset.table import MetaDataset
from qtt_core.space.sampling import sample_configurations
from qtt_core.surrogates.cost import CostPredictor
from qtt_core.surrogates.performance import PerformancePredictor
from qtt_core.testing.adapter import synthetic_curve

__all__ = ["FunctionModel", "MockCostPredictor", "MockPerformancePredictor", "synthetic_meta_dataset"]


class FunctionModel(Model):
    """A BoTorch ``Model`` whose posterior is ``N(fn(X), std**2)``, independent per point.

    Args:
        fn: maps a ``... x q x d`` tensor to a ``... x q`` tensor of means.
        std: the posterior standard deviation of every point.
    """

    _num_outputs = 1

    def __init__(self, fn: Callable[[Tensor], Tensor], std: float = 0.05):
        super().__init__()
        self.fn = fn
        self.std = float(std)

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size([])

    def posterior(self, X: Tensor, output_indices=None, observation_noise=False, posterior_transform=None, **kwargs: Any) -> GPyTorchPosterior:
        """Posterior at ``b x q x d`` (or ``q x d``) inputs; ``mean`` is ``b x q x 1``."""
        mean = self.fn(X).to(X)
        variance = torch.full_like(mean, self.std**2)
        return GPyTorchPosterior(MultivariateNormal(mean, DiagLinearOperator(variance)))


class MockPerformancePredictor(PerformancePredictor):
    """Predicts ``score(config, epoch)`` exactly, with a fixed standard deviation.

    Args:
        space: the search space.
        score: ``score(config, epoch) -> float``; default
            :func:`qtt_core.testing.synthetic_curve` (what ``MockAdapter`` reports).
        max_epochs: the epoch fidelity 1 stands for.
        std: posterior standard deviation.
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        score: Callable[[Mapping[str, Any], int], float] = synthetic_curve,
        max_epochs: int = 10,
        std: float = 0.05,
    ):
        super().__init__(space, max_epochs=max_epochs, hidden=(2,), embedding_dim=1)
        self.score = score
        self.meta_trained = True
        self.model = FunctionModel(self._mean, std)
        self.conditioned_on = 0

    def _mean(self, X: Tensor) -> Tensor:
        flat = X.reshape(-1, X.shape[-1]).detach().numpy()
        configs = self.encoder.decode(flat[:, : self.encoder.dim])
        epochs = np.maximum(1, np.rint(flat[:, -1] * self.max_epochs)).astype(int)
        values = [self.score(config, int(epoch)) for config, epoch in zip(configs, epochs, strict=True)]
        return torch.as_tensor(values, dtype=torch.float64).reshape(X.shape[:-1])

    def calibrate(self, X_first, first_scores) -> float:
        self.score_scale = 1.0
        return 1.0

    def condition(self, X: Tensor | None, Y: Tensor | None) -> None:
        """Remembers how many observations it was given; predictions do not change."""
        self.conditioned_on = 0 if X is None else len(X)


class MockCostPredictor(CostPredictor):
    """Predicts ``cost(config)`` seconds per epoch (default ``sqrt(batch_size)``, like ``MockAdapter``)."""

    def __init__(self, space: ConfigurationSpace, cost: Callable[[Mapping[str, Any]], float] | None = None):
        super().__init__(space)
        self.cost = cost or (lambda config: float(config.get("batch_size", 1)) ** 0.5)
        self.meta_trained = True

    def _predict_log(self, X: Tensor) -> np.ndarray:
        configs = self.encoder.decode(X[:, : self.encoder.dim].numpy())
        return np.log([max(self.cost(config), 1e-9) for config in configs])


def synthetic_meta_dataset(
    space: ConfigurationSpace,
    datasets: Mapping[str, float],
    n_per_dataset: int,
    epochs: int = 6,
    seed: int = 0,
) -> MetaDataset:
    """A meta-dataset of synthetic runs, for tests of predictors and optimisers.

    Args:
        space: where the configurations are sampled from (it needs ``lr``, like ``sam-lora``).
        datasets: dataset name -> score scale; dataset ``k`` (from 0) has ``200 (k + 1)``
            samples and its curves are ``scale * synthetic_curve(config, epoch)``.
        n_per_dataset: configurations per dataset (sampled with seed ``seed + k``).
        epochs: recorded epochs ``E``.

    Returns:
        Meta-features ``num_samples`` and ``num_channels``; cost ``E * sqrt(batch_size) *
        (1 + num_samples / 1000)`` seconds for all epochs.
    """
    configs, features, names, curves, cost_s = [], [], [], [], []
    for k, (name, scale) in enumerate(datasets.items()):
        num_samples = 200.0 * (k + 1)
        for config in sample_configurations(space, n_per_dataset, seed=seed + k):
            configs.append(config)
            features.append([num_samples, 3.0])
            names.append(name)
            curves.append([scale * synthetic_curve(config, e) for e in range(1, epochs + 1)])
            cost_s.append(epochs * float(config.get("batch_size", 1)) ** 0.5 * (1 + num_samples / 1000))
    return MetaDataset(configs, np.array(features), ["num_samples", "num_channels"], names, np.array(curves), np.array(cost_s))
