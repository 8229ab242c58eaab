"""Baselines behind the ask/tell interface: random search and a meta-learned portfolio.

Both go through their candidates one at a time, in an order fixed at construction, and train
each to ``max_epochs`` epoch by epoch before starting the next (no early stopping). Failed
candidates are skipped and never asked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qtt_core.errors import UsageError
from qtt_core.optimizer.base import Ask, Optimizer
from qtt_core.space.identity import config_id, normalise_config

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

    from qtt_core.metadataset.table import MetaDataset

__all__ = ["GroupedPortfolio", "Portfolio", "RandomSearch", "main_effect_scores", "portfolio_scores"]


class _SequentialBaseline(Optimizer):
    """Trains candidates in ``self._order`` one after the other, each to ``max_epochs``.

    Subclasses set ``self._order`` (candidate ids) in their constructor.
    """

    def __init__(self, candidates: Sequence[Mapping[str, Any]], max_epochs: int, seed: int = 0):
        if max_epochs < 1:
            raise UsageError(f"max_epochs must be at least 1, got {max_epochs}")
        self.max_epochs = int(max_epochs)
        self.seed = int(seed)
        self.candidates: dict[str, dict[str, Any]] = {}
        for candidate in candidates:
            config = normalise_config(candidate)
            self.candidates.setdefault(config_id(config), config)
        self._order: list[str] = []
        self._position = 0
        self._reached: dict[str, int] = {}
        self._failed: dict[str, str] = {}
        self._best: tuple[str, int, float] | None = None

    # -- ask/tell -------------------------------------------------------------------------

    def ask(self, reserve: bool = False, remaining_s: float | None = None) -> Ask | None:
        """The first candidate in order that is neither finished, failed nor in flight (``remaining_s`` is ignored).

        With trials in flight, the next free candidates in order start meanwhile, so ``N``
        workers train ``N`` candidates side by side, each to ``max_epochs``.
        """
        while self._position < len(self._order) and self._finished(self._order[self._position]):
            self._position += 1
        busy = self.pending()
        for rank in range(self._position, len(self._order)):
            candidate = self._order[rank]
            if candidate not in busy and not self._finished(candidate):
                reached = self._reached.get(candidate, 0)
                return self._mark_pending(Ask(candidate, self.candidates[candidate], reached + 1, info={"rank": rank}), reserve)
        return None

    def _finished(self, candidate: str) -> bool:
        return candidate in self._failed or self._reached.get(candidate, 0) >= self.max_epochs

    def tell(self, config_id: str, epoch: int, score: float, cost_s: float) -> None:
        self._check_known(config_id)
        self._settle(config_id, epoch)
        self._reached[config_id] = max(self._reached.get(config_id, 0), int(epoch))
        score = float(score)
        if np.isfinite(score) and (self._best is None or score > self._best[2]):
            self._best = (config_id, int(epoch), score)

    def tell_failed(self, config_id: str, reason: str) -> None:
        self._check_known(config_id)
        self.release(config_id)
        self._failed[config_id] = str(reason)

    def incumbent(self) -> tuple[str, int, float] | None:
        return self._best

    def _check_known(self, config_id: str) -> None:
        if config_id not in self.candidates:
            raise UsageError(f"{config_id} is not one of this {self.name} optimiser's candidates")

    # -- state ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_epochs": self.max_epochs,
            "seed": self.seed,
            "order": list(self._order),
            "position": self._position,
            "reached": dict(self._reached),
            "failed": dict(self._failed),
            "incumbent": list(self._best) if self._best else None,
            "pending": self._pending_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("name") != self.name or sorted(state.get("order", [])) != sorted(self._order):
            raise UsageError(
                f"optimiser state is for {state.get('name')!r} over another candidate pool; "
                f"build the {self.name} optimiser with the same candidates it was saved with"
            )
        self.max_epochs = int(state["max_epochs"])
        self.seed = int(state["seed"])
        self._order = list(state["order"])
        self._position = int(state["position"])
        self._reached = {k: int(v) for k, v in state["reached"].items()}
        self._failed = {k: str(v) for k, v in state["failed"].items()}
        best = state.get("incumbent")
        self._best = (str(best[0]), int(best[1]), float(best[2])) if best else None
        self._load_pending(state)


class RandomSearch(_SequentialBaseline):
    """Candidates in a random order (seeded), each trained to ``max_epochs``.

    Args:
        candidates: the pool, plain dicts of active hyperparameters (duplicates dropped).
        max_epochs: epochs to train every candidate to.
        seed: fixes the order.
    """

    name = "random"

    def __init__(self, candidates: Sequence[Mapping[str, Any]], max_epochs: int, seed: int = 0):
        super().__init__(candidates, max_epochs, seed)
        ids = list(self.candidates)
        self._order = [ids[i] for i in np.random.default_rng(self.seed).permutation(len(ids))]


class Portfolio(_SequentialBaseline):
    """Candidates in the order of how well they did on the meta-training datasets.

    A candidate recorded in ``meta_train`` is scored by its mean normalised score there (its
    best score within ``max_epochs`` epochs, min-max normalised per dataset, averaged over the
    datasets that recorded it). Recorded candidates come first, best first. The others come
    next: with ``unrecorded_order="main-effects"`` (default) ordered by the score an additive
    main-effects model of the recorded scores gives them (:func:`main_effect_scores`; on the
    published meta-dataset almost no configuration is recorded on two datasets, so a strict
    portfolio would be random search), with ``"random"`` in random order. Ties are broken at
    random (seeded).

    Args:
        candidates: the pool, plain dicts of active hyperparameters.
        meta_train: the recorded runs of other datasets (None: a random order).
        max_epochs: epochs to train every candidate to.
        seed: breaks ties.
        space: the candidates' space (accepted for the factory's uniform call; unused).
        unrecorded_order: ``"main-effects"`` or ``"random"``, see above.
        normalise: how scores are made comparable across datasets, see :func:`portfolio_scores`.
    """

    name = "portfolio"

    def __init__(
        self,
        candidates: Sequence[Mapping[str, Any]],
        meta_train: MetaDataset | None,
        max_epochs: int,
        seed: int = 0,
        space: ConfigurationSpace | None = None,
        unrecorded_order: str = "main-effects",
        normalise: str = "rank",
    ):
        if unrecorded_order not in ("main-effects", "random"):
            raise UsageError(f"unrecorded_order {unrecorded_order!r}: use 'main-effects' or 'random'")
        super().__init__(candidates, max_epochs, seed)
        ids = list(self.candidates)
        rng = np.random.default_rng(self.seed)
        tiebreak = rng.random(len(ids))
        tier = np.full(len(ids), 2.0)
        score = np.zeros(len(ids))
        if meta_train is not None and len(meta_train):
            row_score = portfolio_scores(meta_train, max_epochs, normalise)
            recorded: dict[str, list[float]] = {}
            for config, value in zip(meta_train.configs, row_score):
                recorded.setdefault(config_id(config), []).append(value)
            for i, candidate in enumerate(ids):
                if candidate in recorded:
                    tier[i], score[i] = 0.0, float(np.mean(recorded[candidate]))
            unrecorded = np.flatnonzero(tier == 2.0)
            if unrecorded_order == "main-effects" and len(unrecorded):
                score[unrecorded] = main_effect_scores(
                    [self.candidates[ids[i]] for i in unrecorded], meta_train.configs, row_score
                )
                tier[unrecorded] = 1.0
        order = np.lexsort((tiebreak, -score, tier))  # last key sorts first
        self._order = [ids[i] for i in order]
        self.scores = {ids[i]: float(score[i]) for i in range(len(ids))}


class GroupedPortfolio(_SequentialBaseline):
    """Candidates in the order of their grouped score (:mod:`qtt_core.metadataset.grouped`).

    ``portfolio-lr-sched``: grouped by learning rate and scheduler, min-max normalised scores,
    no shrinkage (a candidate whose pair was never recorded scores 0). ``portfolio-nested``:
    the grouping chosen by leave-one-dataset-out on the meta-training datasets, each group's
    mean shrunk towards its coarser group's. Ties are broken at random (seeded).

    Args:
        candidates: the pool, plain dicts of active hyperparameters.
        meta_train: the recorded runs of other datasets (None: a random order).
        max_epochs: epochs to train every candidate to.
        seed: breaks ties.
        space: accepted for the factory's uniform call; unused.
        names: the hyperparameters that group (None: chosen on ``meta_train``).
        shrinkage: see :class:`qtt_core.metadataset.grouped.GroupedScores`.
    """

    name = "portfolio-nested"

    def __init__(
        self,
        candidates: Sequence[Mapping[str, Any]],
        meta_train: MetaDataset | None,
        max_epochs: int,
        seed: int = 0,
        space: ConfigurationSpace | None = None,
        names: Sequence[str] | None = None,
        shrinkage: float | None = None,
    ):
        from qtt_core.metadataset.grouped import SHRINKAGE, GroupedScores

        super().__init__(candidates, max_epochs, seed)
        ids = list(self.candidates)
        tiebreak = np.random.default_rng(self.seed).random(len(ids))
        score = np.zeros(len(ids))
        self.grouped = None
        if meta_train is not None and len(meta_train):
            shrinkage = SHRINKAGE if shrinkage is None else float(shrinkage)
            self.grouped = GroupedScores.fit(meta_train, max_epochs, None if names is None else tuple(names), shrinkage)
            score = self.grouped.score([self.candidates[i] for i in ids])
        self._order = [ids[i] for i in np.lexsort((tiebreak, -score))]
        self.scores = {ids[i]: float(score[i]) for i in range(len(ids))}


def portfolio_scores(meta_train: MetaDataset, max_epochs: int, normalise: str = "rank") -> np.ndarray:
    """Each row's best score within ``max_epochs`` epochs, normalised within its dataset
    (:func:`qtt_core.metadataset.grouped.normalised_best_scores`, rank-normalised by default)."""
    from qtt_core.metadataset.grouped import normalised_best_scores

    return normalised_best_scores(meta_train, max_epochs, normalise)


def main_effect_scores(
    configs: Sequence[Mapping[str, Any]],
    recorded_configs: Sequence[Mapping[str, Any]],
    recorded_scores: np.ndarray,
) -> np.ndarray:
    """Scores of ``configs`` under an additive main-effects model of the recorded scores.

    Each hyperparameter value (``None`` when inactive) has the effect ``mean score of the
    recorded runs with that value - mean score of all runs``; a configuration scores the mean
    over all runs plus the effects of its values (0 for values never recorded).

    Returns:
        ``len(configs)`` scores (higher is better).
    """
    overall = float(np.mean(recorded_scores))
    names = sorted({name for config in recorded_configs for name in config})
    effects: dict[tuple[str, str], float] = {}
    for name in names:
        values = np.array([repr(config.get(name)) for config in recorded_configs])
        for value in np.unique(values):
            effects[(name, str(value))] = float(recorded_scores[values == value].mean()) - overall
    return np.array(
        [overall + sum(effects.get((name, repr(config.get(name))), 0.0) for name in names) for config in configs]
    )
