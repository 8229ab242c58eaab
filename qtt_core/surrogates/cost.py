"""The cost predictor: seconds per epoch from configuration and meta-features.

A BoTorch ``SingleTaskGP`` on the log of the seconds per epoch, fitted by maximising the
marginal likelihood (``fit_gpytorch_mll``). Meta-trained on the rows of a meta-dataset;
during a run it is corrected by the costs observed so far: by a multiplicative factor
(the geometric mean of observed / predicted) when meta-trained, or, without
meta-training, by fitting the GP on the run's own costs.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.settings import validate_input_scaling
from botorch.models.transforms.outcome import Standardize
from ConfigSpace import ConfigurationSpace
from gpytorch.mlls import ExactMarginalLogLikelihood
from safetensors.torch import load_file, save_file

from qtt_core.errors import UsageError
from qtt_core.metadataset.table import MetaDataset
from qtt_core.space.encoding import SpaceEncoder
from qtt_core.surrogates.features import MetaFeatureScaler
from qtt_core.surrogates.performance import _read_settings
from qtt_core.surrogates.spacefile import space_from_dict, space_to_dict

__all__ = ["CostPredictor"]

FORMAT = "qtt-seg/cost-gp/1"


class CostPredictor:
    """Seconds per epoch, as a GP on log seconds.

    Args:
        space: the search space of the configurations.
        seed: seeds the subsampling of meta-training rows.
        max_rows: at most this many meta-training rows (exact GP inference).
        max_iterations: L-BFGS iterations of each fit (bounds the fitting time).

    Attributes:
        model: the fitted ``SingleTaskGP`` (a BoTorch ``Model`` over ``n x (D + F)``
            inputs, output log seconds per epoch), or None before any fit.
        log_correction: added to predicted log seconds (from the run's observed costs).
        prompt: the prompt protocol of the meta-dataset it was meta-trained on (``box`` before
            :meth:`meta_fit` and in files saved before protocols were recorded).
    """

    def __init__(self, space: ConfigurationSpace, seed: int = 0, max_rows: int = 500, max_iterations: int = 60):
        self.space = space
        self.encoder = SpaceEncoder(space)
        self.seed = int(seed)
        self.max_rows = int(max_rows)
        self.max_iterations = int(max_iterations)
        self.scaler = MetaFeatureScaler([], [], [])
        self.meta_trained = False
        self.prompt = "box"
        self.model: SingleTaskGP | None = None
        self.log_correction = 0.0
        self._constant_log_s = 0.0  # before any data: 1 second per epoch

    def inputs(self, encoded_configs: np.ndarray, metafeatures: Mapping[str, float] | np.ndarray | None) -> torch.Tensor:
        """``N x (D + F)`` float64 inputs from encoded configurations and one dataset's raw
        meta-features (a mapping) or an ``N x F`` array already normalised."""
        n = len(encoded_configs)
        if metafeatures is None or isinstance(metafeatures, Mapping):
            features = np.broadcast_to(self.scaler.transform_dict(metafeatures), (n, self.scaler.dim))
        else:
            features = np.asarray(metafeatures, dtype=float).reshape(n, self.scaler.dim)
        return torch.as_tensor(np.concatenate([encoded_configs, features], axis=1), dtype=torch.float64)

    def meta_fit(self, meta: MetaDataset) -> CostPredictor:
        """Meta-train on the seconds per epoch of every row of ``meta``."""
        if len(meta) == 0:
            raise UsageError("the meta-dataset has no rows; give a meta-dataset with recorded runs")
        cost_s = meta.epoch_cost_s()
        keep = np.flatnonzero(np.isfinite(cost_s) & (cost_s > 0))
        if len(keep) > self.max_rows:
            keep = np.sort(np.random.default_rng(self.seed).choice(keep, self.max_rows, replace=False))
        self.scaler = MetaFeatureScaler.fit(meta.feature_names, meta.metafeatures)
        encoded = self.encoder.encode([meta.configs[i] for i in keep])
        X = self.inputs(encoded, self.scaler.transform(meta.metafeatures[keep]))
        self._fit(X, np.log(cost_s[keep]))
        self.meta_trained = True
        self.prompt = meta.prompt
        self.log_correction = 0.0
        return self

    def _fit(self, X: torch.Tensor, log_cost_s: np.ndarray) -> None:
        Y = torch.as_tensor(log_cost_s, dtype=torch.float64).reshape(-1, 1)
        with validate_input_scaling(False):  # inputs are one-hot/ordinal codes and scaled meta-features by design
            self.model = SingleTaskGP(X, Y, outcome_transform=Standardize(m=1))
        torch.manual_seed(self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # inputs are in [0, 1] and [-3, 3] by construction
            fit_gpytorch_mll(
                ExactMarginalLogLikelihood(self.model.likelihood, self.model),
                optimizer_kwargs={"options": {"maxiter": self.max_iterations}},
            )
        self.model.eval()

    def observe(self, X: torch.Tensor, cost_s: np.ndarray) -> None:
        """Correct by the run's observed seconds per epoch ``cost_s`` (length ``n``) at ``n x (D + F)`` inputs."""
        cost_s = np.asarray(cost_s, dtype=float)
        valid = np.isfinite(cost_s) & (cost_s > 0)
        X, log_cost = X[torch.as_tensor(valid)], np.log(cost_s[valid])
        if len(log_cost) == 0:
            self.log_correction = 0.0
            return
        if self.meta_trained:
            self.log_correction = float(np.mean(log_cost - self._predict_log(X)))
        elif len(log_cost) >= 3 and np.ptp(log_cost) > 1e-9:
            self._fit(X, log_cost)
        else:
            self.model = None
            self._constant_log_s = float(np.mean(log_cost))

    def _predict_log(self, X: torch.Tensor) -> np.ndarray:
        if self.model is None:
            return np.full(len(X), self._constant_log_s)
        with torch.no_grad():
            return self.model.posterior(X).mean.squeeze(-1).numpy()

    def predict(self, X: torch.Tensor) -> np.ndarray:
        """Predicted seconds per epoch at ``N x (D + F)`` inputs (length ``N``), corrected by the run."""
        if len(X) == 0:
            return np.zeros(0)
        return np.exp(self._predict_log(X) + self.log_correction)

    # --------------------------------------------------------------- persistence
    def save(self, folder: str | Path, stem: str = "cost") -> None:
        """Write ``stem.safetensors`` (training data and GP parameters) and ``stem.json``."""
        if self.model is None:
            raise UsageError("the cost predictor is not fitted; meta-train it before saving")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {f"state.{k}": v.detach().contiguous().clone() for k, v in self.model.state_dict().items()}
        tensors["train_X"] = self.model.train_inputs[0].detach().contiguous().clone()
        tensors["train_Y"] = self.model.outcome_transform.untransform(self.model.train_targets.unsqueeze(-1))[0].detach().contiguous().clone()
        save_file(tensors, str(folder / f"{stem}.safetensors"))
        settings = {
            "format": FORMAT,
            "seed": self.seed,
            "max_rows": self.max_rows,
            "max_iterations": self.max_iterations,
            "meta_trained": self.meta_trained,
            "prompt": self.prompt,
            "scaler": self.scaler.to_dict(),
            "encoder_features": list(self.encoder.feature_names),
            "space": space_to_dict(self.space),
            "target": "log seconds per epoch",
        }
        (folder / f"{stem}.json").write_text(json.dumps(settings, indent=1))

    @classmethod
    def load(cls, folder: str | Path, stem: str = "cost") -> CostPredictor:
        """Read what :meth:`save` wrote (no run correction)."""
        settings = _read_settings(Path(folder), stem, FORMAT)
        predictor = cls(space_from_dict(settings["space"]), seed=settings["seed"], max_rows=settings["max_rows"], max_iterations=settings["max_iterations"])
        predictor.scaler = MetaFeatureScaler.from_dict(settings["scaler"])
        predictor.meta_trained = bool(settings["meta_trained"])
        predictor.prompt = str(settings.get("prompt", "box"))
        tensors = load_file(str(Path(folder) / f"{stem}.safetensors"))
        with validate_input_scaling(False):
            model = SingleTaskGP(tensors["train_X"], tensors["train_Y"], outcome_transform=Standardize(m=1))
        model.load_state_dict({k[len("state."):]: v for k, v in tensors.items() if k.startswith("state.")})
        model.eval()
        predictor.model = model
        return predictor

    def settings_summary(self) -> dict[str, Any]:
        """A few facts for reports."""
        return {"meta_trained": self.meta_trained, "log_correction": self.log_correction}
