"""Quick-Tune: meta-learned, multi-fidelity, cost-aware Bayesian optimisation (freeze-thaw).

For every candidate still worth training, the performance predictor gives the posterior
of its score at a target epoch given its curve so far (an empty curve for untried ones). The
acquisition is BoTorch's (log) expected improvement of that score, divided by the predicted
seconds per epoch raised to ``cost_power``. The argmax is trained one more epoch; a
configuration continues from where it stopped.

The target epoch (``fidelity``): Quick-Tune looks at the *next* epoch, against the best score
seen at that epoch. When the driver says how many seconds are left (``ask(remaining_s=...)``,
as ``tune`` and the replay benchmark do), ``"budget"`` (the default with meta-trained
predictors) looks instead at the last epoch each candidate can still reach in that time,
against the best score seen so far: with 60 s left and 15 s epochs an untried candidate is
judged by its predicted score at epoch 4, a candidate at epoch 2 by its score at epoch 6.
Early in a long run that is the final epoch; near the end it favours continuing what is good
over starting what cannot finish. In the replay on the recorded SAM 2 runs (8 datasets held
out in turn, one predictor seed) it lowered the mean normalised regret at 60/120/180 s from
0.180/0.102/0.068 (next epoch) to 0.166/0.089/0.054; since the predictors learn a dataset's
scale faster (``SCALE_PRIOR_WEIGHT``) the two are about equal there (5 seeds: 0.146/0.085/0.060
against 0.145/0.076/0.058), and on the default SAM plugin model's recorded runs ``"budget"`` is ahead at 120 s.

Trials in flight (parallel workers, see :mod:`qtt_core.optimizer.base`) are never asked
again until told, and the acquisition accounts for them with the *kriging believer*: for
the duration of an ask the GP is also conditioned on each pending (configuration, epoch)
with its predicted mean as a fantasy observation. That leaves the predicted means where
they are but shrinks the uncertainty, hence the expected improvement, of candidates the GP
finds similar to pending ones, so parallel asks spread out instead of piling onto one
region. Warm-up without meta-training counts pending trials as tried, and keeps handing
out warm-up configurations while the first fit waits for their tells.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
# private, but the public LogExpectedImprovement takes one posterior per candidate (``N x 1 x d``),
# which repeats the deep-kernel GP's work per candidate; pyproject bounds botorch to versions that
# have it, and tests/optimizer/test_quick.py checks it still equals LogExpectedImprovement
from botorch.acquisition.analytic import _log_ei_helper
from ConfigSpace import ConfigurationSpace

from qtt_core.errors import UsageError
from qtt_core.metadataset.table import MetaDataset
from qtt_core.optimizer.base import Ask, Optimizer
from qtt_core.optimizer.pool import CandidatePool
from qtt_core.surrogates.cost import CostPredictor
from qtt_core.surrogates.pair import meta_train_predictors
from qtt_core.surrogates.performance import PerformancePredictor

__all__ = ["QuickTuneOptimizer"]

#: candidates per posterior call in :meth:`QuickTuneOptimizer.ask`
ACQUISITION_CHUNK = 256
#: where the acquisition looks (see :class:`QuickTuneOptimizer`)
FIDELITIES = ("budget", "next", "final")
#: what it maximises (see :class:`QuickTuneOptimizer`)
ACQUISITIONS = ("mean", "ei")
#: the default hysteresis of the ``"mean"`` acquisition (see :class:`QuickTuneOptimizer`), chosen
#: by nested leave-one-dataset-out on the recorded SAM 2 runs
SWITCH_MARGIN = 0.05


def _tie_key(seed: int, config_id: str) -> int:
    """A seeded pseudo-random key of a configuration that breaks exact ties in the acquisition."""
    return int(hashlib.sha1(f"{seed}:{config_id}".encode()).hexdigest()[:12], 16)


class QuickTuneOptimizer(Optimizer):
    """Quick-Tune over a fixed pool of candidate configurations.

    Args:
        candidates: the pool, plain dicts of active values (duplicates are dropped).
        space: the search space they belong to.
        metafeatures: the current dataset's meta-features (by name), or None.
        max_epochs: the most epochs any configuration is trained for.
        seed: seeds the warm-up order and every fit; same seed, same asks.
        predictors: a meta-trained (performance, cost) pair, or None.
        meta_train: meta-train a pair on this meta-dataset when ``predictors`` is None.
            With neither, the optimiser is ``quick-nometa``: it trains ``n_warmup``
            configurations (seeded random order) for one epoch, then fits its predictors
            on the run's own observations only.
        cost_power: the acquisition is EI / cost ** cost_power (0 ignores cost).
        patience: stop a configuration after this many epochs without improvement.
        tolerance: the smallest score gain that counts as an improvement.
        refit_every: update the predictors after every ``refit_every`` tells.
        n_warmup: warm-up configurations without meta-training.
        fit_steps: Adam steps of each from-scratch fit without meta-training.
        threshold: what EI improves on: ``"epoch"`` (the best score seen at the
            candidate's next epoch, else the overall best; as in Quick-Tune) or
            ``"overall"`` (the best score seen at any epoch).
        fidelity: where EI looks: ``"next"`` (the score at the candidate's next epoch, as in
            Quick-Tune), ``"final"`` (its score at ``max_epochs`` given its curve so far,
            against the best score seen at any epoch) or ``"budget"`` (its score at the last
            epoch it can still reach, ``min(max_epochs, reached + remaining_s / predicted
            seconds per epoch)``, against the best score seen at any epoch; with no
            ``remaining_s`` given to :meth:`ask` this is ``"next"``). Either way the candidate
            is trained one more epoch. Default: ``"budget"`` with meta-trained predictors,
            ``"next"`` without (a GP fit on a few first epochs of this run cannot say much
            about epoch 10; on the recorded SAM 2 runs ``"budget"`` made ``quick-nometa``
            worse).
        acquisition: ``"ei"`` (log expected improvement divided by the predicted seconds per
            epoch to the ``cost_power``, as in Quick-Tune) or ``"mean"`` (the posterior mean at
            the target epoch; with ``fidelity="budget"`` the cost enters through the epoch each
            candidate can still reach). Default: ``"mean"`` with meta-trained predictors,
            ``"ei"`` without. With a handful of epochs in the budget, EI's reward for the
            uncertainty of untried configurations made runs leave a good first pick after one
            epoch; the mean moves away from the prior's ranking only when observations say so.
        switch_margin: hysteresis of the ``"mean"`` acquisition: the configuration trained last
            is trained on unless another's predicted score is higher by more than this share
            of its own (default :data:`SWITCH_MARGIN` with ``"mean"``, 0 with ``"ei"``). With
            4 to 13 epochs in a budget, a one-epoch look at another configuration costs the
            configuration in training a tenth of its remaining epochs; without hysteresis,
            predictions that differ by noise made the run do that.
        performance_factory / cost_factory: build the predictors it meta-trains or fits
            (registered surrogates' ``factory``; keyword arguments ``space``, ``seed``, and for
            performance ``max_epochs`` and maybe ``prior_points``); unused with ``predictors``.
    """

    name = "quick"

    def __init__(
        self,
        candidates: Sequence[Mapping[str, Any]],
        space: ConfigurationSpace,
        metafeatures: Mapping[str, float] | None = None,
        max_epochs: int = 10,
        seed: int = 0,
        predictors: tuple[PerformancePredictor, CostPredictor] | None = None,
        meta_train: MetaDataset | None = None,
        cost_power: float = 1.0,
        patience: int = 3,
        tolerance: float = 1e-3,
        refit_every: int = 1,
        n_warmup: int = 3,
        fit_steps: int = 100,
        threshold: str = "epoch",
        fidelity: str | None = None,
        acquisition: str | None = None,
        switch_margin: float | None = None,
        performance_factory: Callable[..., PerformancePredictor] = PerformancePredictor,
        cost_factory: Callable[..., CostPredictor] = CostPredictor,
    ):
        if max_epochs < 1:
            raise UsageError(f"max_epochs is {max_epochs}; give at least 1")
        self.pool = CandidatePool(candidates, max_epochs)
        if len(self.pool) == 0:
            raise UsageError("the candidate pool is empty; give at least one configuration")
        self.space = space
        self.metafeatures = dict(metafeatures or {})
        self.max_epochs = int(max_epochs)
        self.seed = int(seed)
        self.cost_power = float(cost_power)
        self.patience = int(patience)
        self.tolerance = float(tolerance)
        self.refit_every = max(1, int(refit_every))
        self.n_warmup = int(n_warmup)
        self.fit_steps = int(fit_steps)
        if threshold not in ("epoch", "overall"):
            raise UsageError(f"threshold is {threshold!r}; give 'epoch' or 'overall'")
        self.threshold = threshold
        if fidelity is not None and fidelity not in FIDELITIES:
            raise UsageError(f"fidelity is {fidelity!r}; give one of {', '.join(FIDELITIES)}")
        if predictors is None and meta_train is not None:
            predictors = meta_train_predictors(meta_train, space, seed=seed, performance_factory=performance_factory, cost_factory=cost_factory)
        if predictors is None:
            self.name = "quick-nometa"
            predictors = (performance_factory(space=space, max_epochs=max_epochs, seed=seed), cost_factory(space=space, seed=seed))
        else:
            predictors = copy.deepcopy(tuple(predictors))  # conditioning must not leak between runs
        self.performance, self.cost = predictors
        self.meta_trained = bool(self.performance.meta_trained)
        self.fidelity = fidelity or ("budget" if self.meta_trained else "next")
        if acquisition is not None and acquisition not in ACQUISITIONS:
            raise UsageError(f"acquisition is {acquisition!r}; give one of {', '.join(ACQUISITIONS)}")
        self.acquisition = acquisition or ("mean" if self.meta_trained else "ei")
        self.switch_margin = float(switch_margin if switch_margin is not None else SWITCH_MARGIN if self.acquisition == "mean" else 0.0)
        self._encoded = self.performance.encode(self.pool.configs)
        self._cost_inputs = self.cost.inputs(self.cost.encoder.encode(self.pool.configs), self.metafeatures)
        self._reset()

    @property
    def budget_aware(self) -> bool:  # type: ignore[override]
        """Its asks depend on ``remaining_s`` (``fidelity="budget"``)."""
        return self.fidelity == "budget"

    # ------------------------------------------------------------------ state
    def _reset(self) -> None:
        self.pool.reset()
        # seeded here, not in __init__: load_state_dict restores the saved seed before it resets
        self._warmup_order = np.random.default_rng(self.seed).permutation(len(self.pool))
        self._tie_keys = np.array([_tie_key(self.seed, cid) for cid in self.pool.ids])
        self.history: list[dict[str, Any]] = []
        self._fitted_on = 0
        self._has_fit = False
        self._cost_rows_seen = 0
        self._calibrate()
        self.performance.condition(None, None)
        if self.meta_trained:
            self.cost.log_correction = 0.0
        self._pool_cost_s = self.cost.predict(self._cost_inputs)

    def tell(self, config_id: str, epoch: int, score: float, cost_s: float) -> None:
        self._settle(config_id, epoch)
        self._record({"event": "tell", "config_id": config_id, "epoch": int(epoch), "score": float(score), "cost_s": float(cost_s)})
        first_fit = not self.meta_trained and not self._has_fit and self.pool.num_tried() >= self.n_warmup
        if first_fit or len(self.history) % self.refit_every == 0:
            self._refit()

    def tell_failed(self, config_id: str, reason: str) -> None:
        self.release(config_id)
        self._record({"event": "failed", "config_id": config_id, "reason": str(reason)})

    def _record(self, event: dict[str, Any]) -> None:
        index = self.pool.index_of(event["config_id"])
        if event["event"] == "tell":
            self.pool.observe(index, event["epoch"], event["score"], event["cost_s"], self.patience, self.tolerance)
        else:
            self.pool.fail(index)
        self.history.append(event)

    def state_dict(self) -> dict[str, Any]:
        return {
            "optimizer": self.name,
            "settings": {
                "seed": self.seed,
                "max_epochs": self.max_epochs,
                "cost_power": self.cost_power,
                "patience": self.patience,
                "tolerance": self.tolerance,
                "refit_every": self.refit_every,
                "n_warmup": self.n_warmup,
                "fit_steps": self.fit_steps,
                "threshold": self.threshold,
                "fidelity": self.fidelity,
                "acquisition": self.acquisition,
                "switch_margin": self.switch_margin,
            },
            "pool": list(self.pool.ids),
            "history": copy.deepcopy(self.history),
            "fitted_on": self._fitted_on,
            "pending": self._pending_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if list(state.get("pool", [])) != list(self.pool.ids):
            raise UsageError("the saved optimiser state belongs to another candidate pool; start a new run")
        for key, value in state.get("settings", {}).items():
            setattr(self, key, type(getattr(self, key))(value))
        self._reset()
        history = list(state["history"])
        fitted_on = int(state.get("fitted_on", 0))
        for event in history[:fitted_on]:
            self._record(dict(event))
        if fitted_on:
            self._refit()
        for event in history[fitted_on:]:
            self._record(dict(event))
        self._load_pending(state)

    # ------------------------------------------------------------- predictors
    def _refit(self) -> None:
        """Update both predictors on every observation so far (deterministic in the history)."""
        self._fitted_on = len(self.history)
        self._calibrate()
        X, Y = self._run_training_data()
        if self.meta_trained:
            self.performance.condition(X, Y)
        elif X is not None and self.pool.num_tried() >= self.n_warmup:
            self.performance.fit(X, Y, steps=self.fit_steps, seed=self.seed + self._fitted_on)
            self._has_fit = True
        rows, cost_s = self.pool.observed_costs()
        if self.meta_trained or len(rows) != self._cost_rows_seen:  # a fit on the run's costs: only for new configurations
            self._cost_rows_seen = len(rows)
            self.cost.observe(self._cost_inputs[torch.as_tensor(rows, dtype=torch.long)], cost_s)
            self._pool_cost_s = self.cost.predict(self._cost_inputs)

    def _calibrate(self) -> None:
        """Re-estimate the dataset's score scale from every tried configuration's best score so
        far against its prior prediction at the epoch it reached (the growth model of
        :class:`~qtt_core.surrogates.dkl.GroupedPriorMean` predicts from the same two)."""
        rows = np.flatnonzero(self.pool.lengths > 0)
        self.performance.reset_scale()
        n = len(rows)
        X_reached = self.performance.inputs(self._encoded[rows], self.metafeatures, np.zeros((n, 0)), np.zeros(n, dtype=int), self.pool.lengths[rows])
        best = np.nanmax(self.pool.curves[rows], axis=1) if n else np.zeros(0)
        self.performance.calibrate(X_reached, best)

    def _run_training_data(self) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """One-step-ahead examples: (curve up to epoch t, target t + 1) -> score at t + 1."""
        rows, lengths = self.pool.observed_prefixes()
        if len(rows) == 0:
            return None, None
        X = self.performance.inputs(self._encoded[rows], self.metafeatures, self.pool.curves[rows], lengths, lengths + 1)
        Y = torch.as_tensor(self.pool.curves[rows, lengths], dtype=torch.float64).unsqueeze(-1)
        return X, Y

    def _next_inputs(self, rows: np.ndarray) -> torch.Tensor:
        """Inputs for the score at each row's next epoch."""
        return self._inputs_at(rows, self.pool.lengths[rows] + 1)

    def _inputs_at(self, rows: np.ndarray, targets: np.ndarray) -> torch.Tensor:
        """Inputs for the score of each row at its epoch in ``targets`` given its curve so far."""
        lengths = self.pool.lengths[rows]
        return self.performance.inputs(self._encoded[rows], self.metafeatures, self.pool.curves[rows], lengths, targets)

    def _target_epochs(self, rows: np.ndarray, remaining_s: float | None) -> np.ndarray:
        """The epoch the acquisition looks at for each row (1-based, at most ``max_epochs``).

        ``"budget"`` with ``remaining_s``: the last epoch the row can reach in the time left
        at its predicted seconds per epoch (at least its next one).
        """
        lengths = self.pool.lengths[rows]
        if self.fidelity == "final":
            return np.full(len(rows), self.max_epochs)
        if self.fidelity == "budget" and remaining_s is not None:
            affordable = np.floor(max(float(remaining_s), 0.0) / np.maximum(self._pool_cost_s[rows], 1e-9))
            return np.clip(lengths + np.maximum(affordable.astype(int), 1), 1, self.max_epochs)
        return lengths + 1

    # -------------------------------------------------------------------- ask
    def ask(self, reserve: bool = False, remaining_s: float | None = None) -> Ask | None:
        """The candidate with the highest cost-weighted log EI, to be trained one more epoch.

        Args:
            reserve: mark it as in flight (parallel drivers).
            remaining_s: seconds left in the run, for ``fidelity="budget"`` (None: look at
                the next epoch).
        """
        busy = np.array(sorted(self.pool.index_of(cid) for cid in self.pending()), dtype=int)
        rows = self.pool.active()
        if len(busy):
            rows = np.setdiff1d(rows, busy)
        if len(rows) == 0:
            return None
        if not self.meta_trained and self._warming_up(busy):
            untried = set(self.pool.untried().tolist()) - set(busy.tolist())
            for index in self._warmup_order:
                if int(index) in untried:
                    return self._mark_pending(self._ask_for(int(index), info={"reason": "warm-up"}), reserve)
        targets = self._target_epochs(rows, remaining_s)
        X = self._inputs_at(rows, targets)
        looks_at_next = self.fidelity == "next" or (self.fidelity == "budget" and remaining_s is None)
        with self._pending_fantasies(busy):
            log_ei = None
            if self.acquisition == "mean":
                utility, _ = self.performance.predict(X)
            else:
                best_f = self._thresholds(rows, X, per_epoch=looks_at_next and self.threshold == "epoch")
                log_ei = self._log_expected_improvement(X, best_f)
                utility = log_ei - self.cost_power * np.log(np.maximum(self._pool_cost_s[rows], 1e-9))
        best = self._committed(rows, np.asarray(utility, dtype=float))
        info = {"utility": float(utility[best]), "target_epoch": int(targets[best])}
        if log_ei is not None:
            info["log_ei"] = float(log_ei[best])
        return self._mark_pending(self._ask_for(int(rows[best]), info=info), reserve)

    def _committed(self, rows: np.ndarray, utility: np.ndarray) -> int:
        """The position in ``rows`` to train: the argmax of ``utility``, unless the configuration
        trained last is within ``switch_margin`` (relative) of it (then that one: hysteresis).

        Exact ties (untried configurations whose prior scores are equal) go to the highest
        :attr:`_tie_keys`, which depend on the seed and the configuration only, never on the
        pool's order.
        """
        tied = np.flatnonzero(utility == utility[np.argmax(utility)])  # argmax: NaN counts as the highest, as before
        best = int(tied[np.argmax(self._tie_keys[rows[tied]])]) if len(tied) else int(np.argmax(utility))
        tells = [e for e in self.history if e["event"] == "tell"] if self.switch_margin > 0 else []
        if not tells:
            return best
        last = np.flatnonzero(rows == self.pool.index_of(tells[-1]["config_id"]))
        if len(last) and utility[best] <= utility[last[0]] + self.switch_margin * abs(utility[last[0]]):
            return int(last[0])
        return best

    def _warming_up(self, busy: np.ndarray) -> bool:
        """Without meta-training: fewer than ``n_warmup`` tried or in flight, or the first fit still waits for them."""
        in_flight_untried = int(np.sum(self.pool.lengths[busy] == 0)) if len(busy) else 0
        return self.pool.num_tried() + in_flight_untried < self.n_warmup or (len(busy) > 0 and not self._has_fit)

    @contextmanager
    def _pending_fantasies(self, busy: np.ndarray) -> Iterator[None]:
        """Kriging believer: while inside, the GP is also conditioned on each of the ``P`` pending
        rows' next epoch at its predicted mean; afterwards exactly on what it was before.

        A predictor whose model cannot be conditioned on extra points (a mock) is left as it is.
        """
        model = self.performance.model
        if len(busy) == 0 or not hasattr(model, "set_observations"):
            yield
            return
        saved_X = None if model.train_inputs is None else model.train_inputs[0]
        saved_Y = model.train_targets
        X_busy = self._next_inputs(busy)  # P x d: the epoch each pending trial is training to
        with torch.no_grad():
            fantasy_Y = model.posterior(X_busy).mean.squeeze(-1)  # P, in the model's (scaled) units
        X_all = X_busy if saved_X is None else torch.cat([saved_X, X_busy])
        Y_all = fantasy_Y if saved_Y is None else torch.cat([saved_Y, fantasy_Y])
        model.set_observations(X_all, Y_all.unsqueeze(-1))
        model.eval()
        try:
            yield
        finally:
            model.set_observations(saved_X, None if saved_Y is None else saved_Y.unsqueeze(-1))
            model.eval()

    def _log_expected_improvement(self, X: torch.Tensor, best_f: np.ndarray) -> np.ndarray:
        """BoTorch's numerically stable log EI of each of the ``N`` rows of ``X`` over its ``best_f``.

        The marginals come from posteriors over chunks of :data:`ACQUISITION_CHUNK` points
        (``q x d`` batches: ``N`` batches of one point would repeat the GP's work ``N`` times,
        one joint posterior over all ``N`` would cost ``N**2``).
        """
        with torch.no_grad():
            chunks = [self.performance.model.posterior(part) for part in X.split(ACQUISITION_CHUNK)]
            mean = torch.cat([posterior.mean.squeeze(-1) for posterior in chunks])
            sigma = torch.cat([posterior.variance.squeeze(-1) for posterior in chunks]).clamp_min(1e-12).sqrt()
            threshold = torch.as_tensor(best_f / self.performance.score_scale, dtype=mean.dtype)
            return (_log_ei_helper((mean - threshold) / sigma) + sigma.log()).numpy()

    def _thresholds(self, rows: np.ndarray, X: torch.Tensor, per_epoch: bool) -> np.ndarray:
        """Per candidate: the best score seen at its next epoch (``per_epoch``) or at any epoch,
        falling back to the overall best, else to the best predicted mean."""
        next_epochs = self.pool.lengths[rows] + 1
        best_at = self.pool.best_score_at_epoch()  # length max_epochs, NaN where none
        overall = self.pool.best_score()
        thresholds = best_at[next_epochs - 1] if per_epoch else np.full(len(rows), overall)
        if np.isnan(overall):
            mean, _ = self.performance.predict(X)
            overall = float(np.max(mean))
        return np.where(np.isnan(thresholds), overall, thresholds)

    def _ask_for(self, index: int, info: dict[str, Any]) -> Ask:
        mean, _ = self.performance.predict(self._next_inputs(np.array([index])))
        return Ask(
            config_id=self.pool.ids[index],
            config=dict(self.pool.configs[index]),
            epoch=int(self.pool.lengths[index]) + 1,
            predicted_score=float(mean[0]),
            predicted_cost_s=float(self._pool_cost_s[index]),
            info=info,
        )

    def incumbent(self) -> tuple[str, int, float] | None:
        return self.pool.incumbent()

    # ------------------------------------------------------------- reporting
    def predict_final(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Predicted score at ``max_epochs`` from an empty curve, length ``N``."""
        encoded = self.performance.encode(list(configs))
        n = len(encoded)
        X = self.performance.inputs(encoded, self.metafeatures, np.zeros((n, 0)), np.zeros(n, dtype=int), np.full(n, self.max_epochs))
        return self.performance.predict(X)[0]

    def predict_cost(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Predicted seconds per epoch, length ``N`` (corrected by the run's observed costs)."""
        encoded = self.cost.encoder.encode(list(configs))
        return self.cost.predict(self.cost.inputs(encoded, self.metafeatures))
