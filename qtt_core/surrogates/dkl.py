"""A deep-kernel Gaussian process as a BoTorch ``Model`` (as in DyHPO and Quick-Tune).

An MLP maps each ``d``-dimensional input row to a low-dimensional embedding on which a
Matern kernel measures similarity; it is trained jointly with the GP hyperparameters by
maximising the exact marginal likelihood. The prior mean is either a learned constant or
a fixed function, such as :class:`PosteriorMean` of a GP meta-trained across datasets
(so that a meta-trained model ranks configurations before it has seen anything of the
current dataset, and the deep kernel models how the current dataset departs from it).
"""

from __future__ import annotations

import gpytorch
import torch
from botorch.models.gpytorch import GPyTorchModel
from gpytorch.constraints import GreaterThan
from gpytorch.distributions import MultivariateNormal
from gpytorch.kernels import MaternKernel, ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import ConstantMean, Mean
from gpytorch.models import ExactGP
from botorch.models.model import Model
from torch import Tensor, nn

__all__ = ["DeepKernelGP", "GroupedPriorMean", "PosteriorMean", "mlp"]


def mlp(input_dim: int, hidden: tuple[int, ...], output_dim: int) -> nn.Sequential:
    """A ReLU multilayer perceptron ``input_dim -> hidden... -> output_dim`` (float64)."""
    layers: list[nn.Module] = []
    width = input_dim
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers).double()


class PosteriorMean(Mean):
    """A GPyTorch mean function: the posterior mean of a fixed BoTorch model (no gradient).

    Args:
        model: the fixed model.
        last_column, observed_column: when given, the model predicts the change from the
            last observed score, and the mean adds ``x[..., last] * x[..., observed]`` back
            (the last score when a curve was observed, nothing for an empty curve).
    """

    def __init__(self, model: Model, last_column: int | None = None, observed_column: int | None = None):
        super().__init__()
        self.model = model
        self.last_column = last_column
        self.observed_column = observed_column

    def forward(self, x: Tensor) -> Tensor:
        # only the mean is used: skipping the predictive covariance (an ``n x n`` solve against
        # the model's training points for every query batch) halves the time of an ``ask``
        with torch.no_grad(), gpytorch.settings.skip_posterior_variances(True):
            mean = self.model.posterior(x).mean.squeeze(-1)
        if self.last_column is not None:
            mean = mean + x[..., self.last_column] * x[..., self.observed_column]
        return mean


class GroupedPriorMean(Mean):
    """A GPyTorch mean: the score at an epoch predicted from a configuration's grouped score.

    For an untried configuration (empty curve) at target epoch ``T`` it is ``a[T] + b[T] * g``
    with ``g`` its grouped score (:mod:`qtt_core.metadataset.grouped`), ``a`` and ``b`` fitted
    per epoch by least squares on meta-training examples (``b >= 0``: a better grouped score
    never predicts worse). For an observed curve it is the best score so far times the
    predicted growth from the last observed epoch ``t`` to ``T``, ``best * p(T) / p(t)``: one
    model ranks tried and untried configurations, so a configuration that scores as its prior
    said is judged as before, and only a departure from it moves the ranking.

    Args:
        intercept, slope: ``E`` coefficients, one per target epoch 1..E.
        grouped_column, best_column, observed_column, length_column, fidelity_column: input
            columns of the grouped score, the best observed score, the "curve observed" flag,
            ``epochs observed / E`` and ``target epoch / E``.
    """

    def __init__(self, intercept: Tensor, slope: Tensor, grouped_column: int, best_column: int, observed_column: int, length_column: int, fidelity_column: int):
        super().__init__()
        self.register_buffer("intercept", torch.as_tensor(intercept, dtype=torch.float64))
        self.register_buffer("slope", torch.as_tensor(slope, dtype=torch.float64))
        self.columns = (grouped_column, best_column, observed_column, length_column, fidelity_column)

    def untried(self, grouped: Tensor, fidelity: Tensor) -> Tensor:
        """The predicted score of an untried configuration at ``fidelity`` (``epoch / E``)."""
        epochs = len(self.intercept)
        index = (fidelity * epochs).round().long().clamp(1, epochs) - 1
        return self.intercept[index] + self.slope[index] * grouped

    def forward(self, x: Tensor) -> Tensor:
        grouped, best, observed, length, fidelity = (x[..., c] for c in self.columns)
        at_target = self.untried(grouped, fidelity)
        growth = at_target / self.untried(grouped, length).clamp_min(1e-3)
        return observed * best * growth + (1.0 - observed) * at_target


class DeepKernelGP(ExactGP, GPyTorchModel):
    """Exact GP with a Matern kernel on a learned MLP embedding.

    Args:
        train_X: ``n x d`` inputs, or None for a model without data (prior only).
        train_Y: ``n x 1`` targets, or None.
        input_dim: ``d``.
        hidden: widths of the hidden layers of both MLPs.
        embedding_dim: output width of the kernel's feature extractor.
        mean_module: the prior mean (default: a learned constant).

    ``posterior(X)`` takes a ``b x q x d`` (or ``q x d``) tensor and gives a posterior
    whose ``mean`` and ``variance`` are ``b x q x 1`` (or ``q x 1``).
    """

    _num_outputs = 1

    def __init__(
        self,
        train_X: Tensor | None,
        train_Y: Tensor | None,
        input_dim: int,
        hidden: tuple[int, ...] = (64, 32),
        embedding_dim: int = 8,
        mean_module: Mean | None = None,
    ):
        likelihood = GaussianLikelihood(noise_constraint=GreaterThan(1e-5)).double()
        targets = None if train_Y is None else train_Y.squeeze(-1)
        super().__init__(train_X, targets, likelihood)
        self.input_dim = input_dim
        self.hidden = tuple(hidden)
        self.embedding_dim = embedding_dim
        self.mean_module = mean_module if mean_module is not None else ConstantMean().double()
        self.feature_extractor = mlp(input_dim, self.hidden, embedding_dim)
        self.covar_module = ScaleKernel(MaternKernel(nu=2.5)).double()

    def forward(self, x: Tensor) -> MultivariateNormal:
        """The GP prior at ``... x n x d`` inputs."""
        mean = self.mean_module(x)
        embedding = self.feature_extractor(x)
        return MultivariateNormal(mean, self.covar_module(embedding))

    @property
    def batch_shape(self) -> torch.Size:
        """Always ``torch.Size([])``: one model, also before it has any data."""
        return torch.Size([])

    @property
    def num_observations(self) -> int:
        """How many points the model is conditioned on."""
        return 0 if self.train_inputs is None else int(self.train_inputs[0].shape[-2])

    def set_observations(self, train_X: Tensor | None, train_Y: Tensor | None) -> None:
        """Condition on new data (``n x d`` and ``n x 1``) without changing any parameter."""
        if train_X is None or len(train_X) == 0:
            self.train_inputs = None
            self.train_targets = None
        else:
            self.set_train_data(inputs=train_X, targets=train_Y.squeeze(-1), strict=False)
        self.prediction_strategy = None
