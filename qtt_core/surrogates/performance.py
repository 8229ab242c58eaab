"""The performance predictor: score at a requested epoch, with uncertainty.

Meta-training samples (configuration, partial curve up to epoch ``t``, target epoch
``t' > t``) examples from the curves of a :class:`~qtt_core.metadataset.MetaDataset` with a
fixed seed and fits a :class:`~qtt_core.surrogates.dkl.DeepKernelGP` by maximising the
exact marginal likelihood on mini-batches drawn from one dataset at a time (so the
kernel learns how configurations of the same dataset co-vary). During a run the model is
conditioned on that run's observations (cheap, no gradient steps), or, without
meta-training, fitted from scratch on them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ConfigSpace import ConfigurationSpace
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.settings import validate_input_scaling
from botorch.models.transforms.outcome import Standardize
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.mlls import ExactMarginalLogLikelihood
from safetensors.torch import load_file, save_file

from qtt_core.errors import UsageError
from qtt_core.metadataset.grouped import GroupedScores, best_recorded_configs, out_of_dataset_scores
from qtt_core.metadataset.table import MetaDataset
from qtt_core.space.encoding import SpaceEncoder
from qtt_core.surrogates.dkl import DeepKernelGP, GroupedPriorMean, PosteriorMean
from qtt_core.surrogates.features import CURVE_FEATURES, MetaFeatureScaler, performance_inputs
from qtt_core.surrogates.spacefile import space_from_dict, space_to_dict

__all__ = ["PerformancePredictor"]

FORMAT = "qtt-seg/performance-dkl/2"

#: share of meta-training examples with an empty curve (what ranks untried configurations)
EMPTY_CURVE_FRACTION = 0.3
#: how many observations (of a configuration predicted at 1) the meta-training datasets' mean
#: best score counts as when :meth:`PerformancePredictor.calibrate` estimates a new dataset's
#: scale once something was observed. 0: the scale is the least-squares factor between the
#: best scores observed and their prior predictions, so a configuration that scores as its
#: prior said leaves every untried configuration ranked below it as before. Any weight above 0
#: pulls untried configurations towards the meta-training datasets' typical scale while tried
#: ones are judged at the dataset's own (dataset bests range 0.26-0.93 on the recorded SAM 2
#: runs), and runs left good configurations after one epoch.
SCALE_PRIOR_WEIGHT = 0.0


#: the prior mean: ``"coarse"`` (:class:`~qtt_core.surrogates.dkl.GroupedPriorMean`, from the
#: configuration's grouped score alone) or ``"all"`` (a GP on every input column but, unless
#: ``prior_metafeatures``, the meta-features; it ranked unseen datasets' configurations worse)
PRIOR_INPUTS = ("coarse", "all")
#: how many of the meta-dataset's best configurations :meth:`PerformancePredictor.meta_fit` keeps
#: (a run's candidate pool includes them)
TOP_CONFIGS = 16


class PerformancePredictor:
    """Deep-kernel GP over (configuration, grouped score, meta-features, partial curve, fidelity).

    A configuration is encoded by the space's encoder and one more column, its *grouped score*
    (:mod:`qtt_core.metadataset.grouped`): how well meta-training runs that share its values of
    a few hyperparameters (chosen by leave-one-dataset-out) did. The prior mean, which ranks
    untried configurations, is by default a linear function of that column per target epoch
    (``prior_inputs="coarse"``, :class:`~qtt_core.surrogates.dkl.GroupedPriorMean`): on
    recorded runs of unseen datasets such coarse knowledge ranks configurations better than a
    fit on every hyperparameter. The deep kernel sees every column and carries what the run
    observes to similar configurations.

    Args:
        space: the search space of the configurations.
        max_epochs: the epoch that fidelity 1 stands for.
        hidden: hidden widths of the mean and feature-extractor MLPs.
        embedding_dim: width of the kernel's embedding.
        seed: seeds pair sampling, initialisation and mini-batches.
        prior_points: meta-training examples the prior-mean GP is fitted on.
        prior_iterations: L-BFGS iterations of that fit.
        prior_metafeatures: let the prior-mean GP's kernel see the meta-features too (the
            deep kernel always does).
        scale_prior_weight: see :data:`SCALE_PRIOR_WEIGHT` and :meth:`calibrate`.
        prior_inputs: see :data:`PRIOR_INPUTS`.

    Attributes:
        model: the :class:`DeepKernelGP` (a BoTorch ``Model``), for acquisition functions.
        prior: after :meth:`meta_fit`, a ``SingleTaskGP`` over the same inputs fitted to
            meta-training scores divided by their dataset's best score, minus the last
            observed score when a curve was observed; its posterior mean plus that last
            score is the prior mean of :attr:`model`.
        scaler: meta-feature normalisation (no features before :meth:`meta_fit`).
        grouped: the grouped scores of :meth:`meta_fit` (None before: the column is 0.5).
        top_configs: the meta-dataset's :data:`TOP_CONFIGS` best configurations, best first
            (by their min-max normalised best score, averaged over the datasets that recorded
            them); empty before :meth:`meta_fit`.
        prompt: the prompt protocol of the meta-dataset it was meta-trained on (``box`` or
            ``none``, ``MetaDataset.prompt``; ``box`` before :meth:`meta_fit` and in files saved
            before protocols were recorded).
    """

    def __init__(
        self,
        space: ConfigurationSpace,
        max_epochs: int = 10,
        hidden: tuple[int, ...] = (64, 32),
        embedding_dim: int = 8,
        seed: int = 0,
        prior_points: int = 800,
        prior_iterations: int = 60,
        prior_metafeatures: bool = False,
        scale_prior_weight: float = SCALE_PRIOR_WEIGHT,
        prior_inputs: str = "coarse",
    ):
        if prior_inputs not in PRIOR_INPUTS:
            raise UsageError(f"prior_inputs={prior_inputs!r}; give one of {', '.join(PRIOR_INPUTS)}")
        self.prior_inputs = prior_inputs
        self.grouped: GroupedScores | None = None
        self.grouped_prior: tuple[torch.Tensor, torch.Tensor] | None = None
        self.top_configs: list[dict[str, Any]] = []
        self.space = space
        self.scale_prior_weight = float(scale_prior_weight)
        self.prior_points = int(prior_points)
        self.prior_iterations = int(prior_iterations)
        self.prior_metafeatures = bool(prior_metafeatures)
        self.prior: SingleTaskGP | None = None
        self.encoder = SpaceEncoder(space)
        self.max_epochs = int(max_epochs)
        self.hidden = tuple(hidden)
        self.embedding_dim = int(embedding_dim)
        self.seed = int(seed)
        self.scaler = MetaFeatureScaler([], [], [])
        self.meta_trained = False
        self.prompt = "box"
        self.typical_scale = 1.0
        self.score_scale = 1.0
        self.model = self._new_model()

    # ----------------------------------------------------------------- inputs
    @property
    def config_dim(self) -> int:
        """``D + 1``: the encoded configuration and its grouped score."""
        return self.encoder.dim + 1

    @property
    def input_dim(self) -> int:
        """``d`` = ``D + 1 + F + 5 + 1``."""
        return self.config_dim + self.scaler.dim + len(CURVE_FEATURES) + 1

    def encode(self, configs: list[Mapping[str, Any]], grouped_scores: np.ndarray | None = None) -> np.ndarray:
        """``N x (D + 1)``: the space's encoding of each configuration, then its grouped score.

        Args:
            configs: ``N`` plain configurations of the space.
            grouped_scores: ``N`` grouped scores to use instead of :attr:`grouped`'s (the
                out-of-dataset scores of meta-training rows).
        """
        if grouped_scores is None:
            grouped_scores = self.grouped.score(configs) if self.grouped is not None else np.full(len(configs), 0.5)
        encoded = np.asarray(self.encoder.encode(configs), dtype=float).reshape(len(configs), self.encoder.dim)
        return np.concatenate([encoded, np.asarray(grouped_scores, dtype=float).reshape(-1, 1)], axis=1)

    def _new_model(self) -> DeepKernelGP:
        torch.manual_seed(self.seed)
        mean = None
        if self.grouped_prior is not None:
            start = self.config_dim + self.scaler.dim
            column = {name: start + k for k, name in enumerate(CURVE_FEATURES)}
            mean = GroupedPriorMean(
                *self.grouped_prior, self.encoder.dim, column["curve_best"], column["curve_observed"],
                column["curve_length"], self.input_dim - 1,
            )  # fmt: skip
        elif self.prior is not None:
            mean = PosteriorMean(self.prior, *self._curve_columns())
        return DeepKernelGP(None, None, self.input_dim, self.hidden, self.embedding_dim, mean_module=mean)

    def inputs(
        self,
        encoded_configs: np.ndarray,
        metafeatures: Mapping[str, float] | np.ndarray | None,
        curves: np.ndarray,
        lengths: np.ndarray,
        target_epochs: np.ndarray,
    ) -> torch.Tensor:
        """The ``N x d`` float64 input tensor.

        Args:
            encoded_configs: ``N x (D + 1)`` from :meth:`encode`.
            metafeatures: one dataset's raw meta-features (a mapping), or an ``N x F`` array
                already normalised by ``self.scaler``.
            curves: ``N x L`` partial curves; ``lengths``: ``N`` observed epochs of each.
            target_epochs: ``N`` 1-based epochs to predict at.
        """
        n = len(encoded_configs)
        if metafeatures is None or isinstance(metafeatures, Mapping):
            row = self.scaler.transform_dict(metafeatures)
            features = np.broadcast_to(row, (n, self.scaler.dim))
        else:
            features = np.asarray(metafeatures, dtype=float).reshape(n, self.scaler.dim)
        curves = np.asarray(curves, dtype=float) / self.score_scale
        rows = performance_inputs(encoded_configs, features, curves, lengths, target_epochs, self.max_epochs)
        return torch.as_tensor(rows, dtype=torch.float64)

    # ------------------------------------------------------------ meta-training
    def meta_fit(
        self,
        meta: MetaDataset,
        n_pairs: int = 4000,
        steps: int = 300,
        batch_size: int = 256,
        lr: float = 5e-3,
    ) -> PerformancePredictor:
        """Meta-train on every dataset of ``meta`` (replaces all parameters).

        Args:
            n_pairs: training examples sampled from the curves (seeded).
            steps: Adam steps, each on one mini-batch from one dataset.
            batch_size: examples per mini-batch.
            lr: Adam learning rate.
        """
        if len(meta) == 0:
            raise UsageError("the meta-dataset has no rows; give a meta-dataset with recorded runs")
        self.max_epochs = meta.num_epochs
        self.scaler = MetaFeatureScaler.fit(meta.feature_names, meta.metafeatures)
        self.grouped = GroupedScores.fit(meta, meta.num_epochs)
        self.top_configs = best_recorded_configs(meta, TOP_CONFIGS)
        self.score_scale = 1.0
        rng = np.random.default_rng(self.seed)
        X, Y, groups = self._sample_pairs(meta, n_pairs, rng)
        if self.prior_inputs == "coarse":
            self.grouped_prior = self._fit_grouped_prior(X, Y)
        else:
            self.prior = self._fit_prior(X[: self.prior_points], Y[: self.prior_points])
        self.model = self._new_model()
        self._train(X, Y, groups, steps, batch_size, lr, rng)
        self.meta_trained = True
        self.prompt = meta.prompt
        self.model.set_observations(None, None)
        return self

    def _sample_pairs(self, meta: MetaDataset, n_pairs: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """Examples with every dataset's scores divided by its best score (so datasets share a scale)."""
        curves = np.asarray(meta.curves, dtype=float)
        datasets = np.asarray(meta.datasets)
        best = {name: np.nanmax(curves[datasets == name]) for name in meta.dataset_names()}
        dataset_best = np.array([best[name] for name in datasets])
        dataset_best = np.where(np.isfinite(dataset_best) & (dataset_best > 0), dataset_best, 1.0)
        self.typical_scale = float(np.mean(list(dataset_best)))
        curves = curves / dataset_best[:, None]
        observed = np.sum(~np.isnan(curves), axis=1)
        usable = np.flatnonzero(observed > 0)
        rows = rng.choice(usable, size=n_pairs, replace=True)
        lengths = rng.integers(0, observed[rows])  # 0 .. observed-1 epochs seen
        lengths[rng.random(n_pairs) < EMPTY_CURVE_FRACTION] = 0  # the first pick rests on these
        targets = lengths + 1 + (rng.random(n_pairs) * (observed[rows] - lengths)).astype(int)
        targets = np.minimum(targets, observed[rows])
        grouped = out_of_dataset_scores(meta, meta.num_epochs, self.grouped.names, self.grouped.shrinkage)
        encoded = self.encode([meta.configs[i] for i in rows], grouped[rows])
        features = self.scaler.transform(meta.metafeatures[rows])
        X = self.inputs(encoded, features, np.nan_to_num(curves[rows]), lengths, targets)
        Y = torch.as_tensor(curves[rows, targets - 1], dtype=torch.float64).unsqueeze(-1)
        names = {name: k for k, name in enumerate(meta.dataset_names())}
        groups = np.array([names[meta.datasets[i]] for i in rows])
        return X, Y, groups

    def _curve_columns(self) -> tuple[int, int]:
        """Input columns of the last observed score and of the "curve observed" flag."""
        start = self.config_dim + self.scaler.dim
        return start + CURVE_FEATURES.index("curve_last"), start + CURVE_FEATURES.index("curve_observed")

    def _fit_grouped_prior(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per target epoch, least squares of the (normalised) score on the grouped score over
        the empty-curve examples: ``(intercept, slope)``, each of length ``E``, slope >= 0.

        An epoch without examples takes the fit over all empty-curve examples.
        """
        observed = X[:, self._curve_columns()[1]] > 0
        grouped = X[~observed, self.encoder.dim].numpy()
        target = np.rint(X[~observed, -1].numpy() * self.max_epochs).astype(int)
        score = Y[~observed, 0].numpy()

        def fit(rows: np.ndarray) -> tuple[float, float]:
            g, y = grouped[rows], score[rows]
            slope = max(float(np.cov(g, y, bias=True)[0, 1] / max(np.var(g), 1e-9)), 0.0) if len(g) > 1 else 0.0
            return float(np.mean(y) - slope * np.mean(g)) if len(y) else 0.5, slope

        overall = fit(np.arange(len(score)))
        coefficients = [fit(np.flatnonzero(target == epoch)) if np.sum(target == epoch) > 2 else overall for epoch in range(1, self.max_epochs + 1)]
        intercept, slope = (torch.tensor(values, dtype=torch.float64) for values in zip(*coefficients))
        return intercept, slope

    def _prior_model(self, X: torch.Tensor, Y: torch.Tensor) -> SingleTaskGP:
        """The prior-mean GP of ``prior_inputs="all"``.

        With a handful of meta-training datasets, distances in meta-feature space say little
        about a new dataset (similarity-weighted grouped scores did not rank better in
        leave-one-dataset-out on the recorded SAM 2 runs); scores divided by each dataset's
        best already share one scale.
        """
        columns = list(range(self.input_dim))
        features = range(self.config_dim, self.config_dim + self.scaler.dim)
        if not self.prior_metafeatures:
            columns = [c for c in columns if c not in features]
        covar = get_covar_module_with_dim_scaled_prior(ard_num_dims=len(columns), active_dims=columns)
        with validate_input_scaling(False):  # inputs are codes, scaled meta-features and curves by design
            return SingleTaskGP(X, Y, covar_module=covar, outcome_transform=Standardize(m=1))

    def _fit_prior(self, X: torch.Tensor, Y: torch.Tensor) -> SingleTaskGP:
        """GP on the change from the last observed score (the score itself for empty curves)."""
        last, observed = self._curve_columns()
        Y = Y - (X[:, last] * X[:, observed]).unsqueeze(-1)
        prior = self._prior_model(X, Y)
        torch.manual_seed(self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # inputs are in [0, 1] and [-3, 3] by construction
            fit_gpytorch_mll(
                ExactMarginalLogLikelihood(prior.likelihood, prior),
                optimizer_kwargs={"options": {"maxiter": self.prior_iterations}},
            )
        prior.eval()
        return prior

    def _train(
        self,
        X: torch.Tensor,
        Y: torch.Tensor,
        groups: np.ndarray,
        steps: int,
        batch_size: int,
        lr: float,
        rng: np.random.Generator,
    ) -> None:
        model = self.model
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        trained = [p for name, p in model.named_parameters() if not name.startswith("mean_module.model.")]
        optimiser = torch.optim.Adam(trained, lr=lr)
        members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
        model.train()
        for _ in range(steps):
            group = members[int(rng.integers(len(members)))]
            batch = rng.choice(group, size=min(batch_size, len(group)), replace=False)
            Xb, Yb = X[batch], Y[batch].squeeze(-1)
            model.set_train_data(inputs=Xb, targets=Yb, strict=False)
            optimiser.zero_grad()
            loss = -mll(model(Xb), Yb)
            loss.backward()
            optimiser.step()
        model.eval()

    def fit(self, X: torch.Tensor, Y: torch.Tensor, steps: int = 100, lr: float = 1e-2, seed: int | None = None) -> None:
        """Fit from scratch on ``n x d`` inputs and ``n x 1`` targets (all in one batch), then condition on them."""
        if seed is not None:
            self.seed = int(seed)
        self.prior = None
        self.grouped_prior = None
        self.model = self._new_model()
        rng = np.random.default_rng(self.seed)
        self._train(X, Y, np.zeros(len(X), dtype=int), steps, len(X), lr, rng)
        self.condition(X, Y)

    # ------------------------------------------------------------------ run time
    def calibrate(self, X_reached: torch.Tensor | None, best_scores: np.ndarray | None) -> float:
        """Estimate the current dataset's score scale (its best score, roughly) from tried configurations.

        A meta-trained model predicts scores divided by their dataset's best score. The scale
        of a new dataset is the least-squares factor between the best scores observed so far and their
        prior predictions, shrunk towards the meta-training datasets' mean best score (which
        counts as ``scale_prior_weight`` observations, and is the scale before any
        observation). Without meta-training the scale stays 1.

        Args:
            X_reached: ``n x d`` inputs of the observed configurations at the epoch each reached, empty curve
                (build them with the scale at 1, the default after :meth:`reset_scale`).
            best_scores: ``n`` best observed scores of each, up to that epoch.

        Returns:
            The scale now used by :meth:`inputs`, :meth:`condition` and :meth:`predict`.
        """
        if not self.meta_trained:
            self.score_scale = 1.0
        elif X_reached is None or len(X_reached) == 0:
            self.score_scale = self.typical_scale
        else:
            with torch.no_grad():
                prior_mean = self.model.mean_module(X_reached).numpy()
            scores = np.asarray(best_scores, dtype=float)
            weight = self.scale_prior_weight
            scale = (np.sum(scores * prior_mean) + weight * self.typical_scale) / (np.sum(prior_mean**2) + weight)
            self.score_scale = float(max(scale, 1e-3))
        return self.score_scale

    def reset_scale(self) -> None:
        """Back to a scale of 1 (scores as given)."""
        self.score_scale = 1.0

    def condition(self, X: torch.Tensor | None, Y: torch.Tensor | None) -> None:
        """Condition on a run's observations (``n x d`` inputs, ``n x 1`` scores); None for the prior."""
        self.model.set_observations(X, None if Y is None else Y / self.score_scale)
        self.model.eval()

    @torch.no_grad()
    def predict(self, X: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the score at ``N x d`` inputs (two length-``N`` arrays)."""
        if len(X) == 0:
            return np.zeros(0), np.zeros(0)
        posterior = self.model.posterior(X)
        mean = posterior.mean.squeeze(-1).numpy() * self.score_scale
        std = posterior.variance.clamp_min(1e-12).sqrt().squeeze(-1).numpy() * self.score_scale
        return mean, std

    # --------------------------------------------------------------- persistence
    def settings(self) -> dict[str, Any]:
        """JSON-ready description: format, sizes, normalisation, encoder and space."""
        return {
            "format": FORMAT,
            "max_epochs": self.max_epochs,
            "hidden": list(self.hidden),
            "embedding_dim": self.embedding_dim,
            "seed": self.seed,
            "prior_points": self.prior_points,
            "prior_iterations": self.prior_iterations,
            "prior_metafeatures": self.prior_metafeatures,
            "scale_prior_weight": self.scale_prior_weight,
            "prior_inputs": self.prior_inputs,
            "grouped": None if self.grouped is None else self.grouped.to_dict(),
            "top_configs": self.top_configs,
            "has_prior": self.prior is not None,
            "has_grouped_prior": self.grouped_prior is not None,
            "meta_trained": self.meta_trained,
            "prompt": self.prompt,
            "typical_scale": self.typical_scale,
            "input_dim": self.input_dim,
            "scaler": self.scaler.to_dict(),
            "encoder_features": list(self.encoder.feature_names),
            "curve_features": list(CURVE_FEATURES),
            "space": space_to_dict(self.space),
        }

    def save(self, folder: str | Path, stem: str = "performance") -> None:
        """Write ``stem.safetensors`` (parameters) and ``stem.json`` (settings) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().contiguous().clone() for k, v in self.model.state_dict().items()}
        if self.prior is not None:
            tensors["prior.train_X"] = self.prior.train_inputs[0].detach().contiguous().clone()
            Y = self.prior.outcome_transform.untransform(self.prior.train_targets.unsqueeze(-1))[0]
            tensors["prior.train_Y"] = Y.detach().contiguous().clone()
        save_file(tensors, str(folder / f"{stem}.safetensors"))
        (folder / f"{stem}.json").write_text(json.dumps(self.settings(), indent=1))

    @classmethod
    def load(cls, folder: str | Path, stem: str = "performance") -> PerformancePredictor:
        """Read what :meth:`save` wrote; the model starts unconditioned (prior only).

        Raises:
            UsageError: files missing or of another format.
        """
        settings = _read_settings(Path(folder), stem, FORMAT)
        predictor = cls(
            space_from_dict(settings["space"]),
            max_epochs=settings["max_epochs"],
            hidden=tuple(settings["hidden"]),
            embedding_dim=settings["embedding_dim"],
            seed=settings["seed"],
            prior_points=settings["prior_points"],
            prior_iterations=settings["prior_iterations"],
            prior_metafeatures=settings["prior_metafeatures"],
            scale_prior_weight=settings.get("scale_prior_weight", SCALE_PRIOR_WEIGHT),
            prior_inputs=settings.get("prior_inputs", "coarse"),
        )
        predictor.scaler = MetaFeatureScaler.from_dict(settings["scaler"])
        predictor.grouped = GroupedScores.from_dict(settings["grouped"]) if settings.get("grouped") else None
        predictor.top_configs = [dict(c) for c in settings.get("top_configs", [])]
        predictor.meta_trained = bool(settings["meta_trained"])
        predictor.prompt = str(settings.get("prompt", "box"))
        predictor.typical_scale = float(settings["typical_scale"])
        if list(predictor.encoder.feature_names) != list(settings["encoder_features"]):
            raise UsageError(f"{folder}: the saved space encodes differently from this version; meta-train again with `qtt-seg meta fit`")
        tensors = load_file(str(Path(folder) / f"{stem}.safetensors"))
        if settings["has_prior"]:
            prior_X, prior_Y = tensors.pop("prior.train_X"), tensors.pop("prior.train_Y")
            predictor.prior = predictor._prior_model(prior_X, prior_Y)
        if settings.get("has_grouped_prior"):  # shapes for load_state_dict, which fills them
            predictor.grouped_prior = (torch.zeros(predictor.max_epochs, dtype=torch.float64), torch.zeros(predictor.max_epochs, dtype=torch.float64))
        predictor.model = predictor._new_model()
        predictor.model.load_state_dict(tensors, keep_transforms=False)
        if predictor.grouped_prior is not None:
            predictor.grouped_prior = (predictor.model.mean_module.intercept, predictor.model.mean_module.slope)
        if predictor.prior is not None:
            predictor.prior.eval()
        predictor.model.eval()
        return predictor


def _read_settings(folder: Path, stem: str, expected_format: str) -> dict[str, Any]:
    json_path, tensor_path = folder / f"{stem}.json", folder / f"{stem}.safetensors"
    if not json_path.is_file() or not tensor_path.is_file():
        raise UsageError(f"{folder} holds no {stem}.json and {stem}.safetensors; meta-train predictors with `qtt-seg meta fit`")
    settings = json.loads(json_path.read_text())
    if settings.get("format") != expected_format:
        raise UsageError(f"{json_path} is format {settings.get('format')!r}, expected {expected_format!r}; meta-train again")
    return settings

