"""What one worker can gain over the grouped portfolio by looking at several configurations.

    python benchmarks/explore_or_commit.py META_DATASET SPACE [--seeds 5] [--policies 1x10,2x1,2x2,2x4,3x1,3x2]

Replays (``qtt-seg bench replay``'s simulated time, leave-one-dataset-out) *explore-then-commit*
policies over the ``portfolio-nested`` order (the grouping chosen on the meta-training
datasets alone, ties broken by the seed): ``KxM`` trains the first ``K`` candidates ``M``
epochs each, then goes on with the one whose best score so far is highest, to 10 epochs, and
then with the next candidates in order. ``1x10`` is ``portfolio-nested`` itself. It also
prints two bounds of what a better ranking could give a policy that commits to its first pick:
the first pick chosen as the best of the candidates that share the top grouped score
(``oracle tie``), and the best candidate of the pool (the oracle of ``bench replay``).

On the recorded SAM 2 runs (8 datasets, 46-67 runs each) committing to the first pick is ahead
of every exploring policy at 60, 120 and 180 s: with 4 to 13 epochs in these budgets, looking
at a second configuration costs the first one epochs that the rare better second pick does not
pay back. ``quick``'s first pick is the portfolio's, so at one worker its regret can only be
slightly lower than the portfolio's (see docs/optimiser.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qtt_core.metadataset.io import read_meta_dataset
from qtt_core.metadataset.table import MetaDataset
from qtt_core.optimizer.base import Ask
from qtt_core.optimizer.baselines import GroupedPortfolio
from qtt_core.registry import Registry
from qtt_core.replay.simulate import ReplayPool, normalised_regret, oracle_scores, simulate_run

BUDGETS_S = np.array([60.0, 120.0, 180.0])


class ExploreThenCommit(GroupedPortfolio):
    """The portfolio's first ``explore`` candidates ``epochs`` epochs each, then the best of them on.

    Args:
        candidates, meta_train, max_epochs, seed: as :class:`GroupedPortfolio`.
        explore: how many candidates the exploration phase looks at.
        epochs: epochs each of them gets before the run commits.
    """

    name = "explore-then-commit"

    def __init__(
        self, candidates: Sequence[Mapping[str, Any]], meta_train: MetaDataset, max_epochs: int, seed: int, explore: int, epochs: int
    ):
        super().__init__(candidates, meta_train, max_epochs, seed)
        self.explore, self.epochs = int(explore), int(epochs)
        self._curve_best: dict[str, float] = {}

    def tell(self, config_id: str, epoch: int, score: float, cost_s: float) -> None:
        super().tell(config_id, epoch, score, cost_s)
        self._curve_best[config_id] = max(self._curve_best.get(config_id, -np.inf), float(score))

    def ask(self, reserve: bool = False, remaining_s: float | None = None) -> Ask | None:
        explored = [c for c in self._order[: self.explore] if c not in self.pending() and not self._finished(c)]
        for candidate in explored:
            if self._reached.get(candidate, 0) < self.epochs:
                return self._ask_for(candidate, reserve)
        if explored:
            return self._ask_for(max(explored, key=lambda c: self._curve_best.get(c, -np.inf)), reserve)
        return super().ask(reserve, remaining_s)

    def _ask_for(self, candidate: str, reserve: bool) -> Ask | None:
        ask = Ask(candidate, self.candidates[candidate], self._reached.get(candidate, 0) + 1, info={"policy": f"{self.explore}x{self.epochs}"})
        return self._mark_pending(ask, reserve)


def commit_regret(pool: ReplayPool, row: int, y_star: float, y_min: float) -> np.ndarray:
    """Regret at each budget of training only ``row`` of the pool, length ``B``."""
    single = ReplayPool(pool.dataset, [pool.config_ids[row]], [pool.configs[row]], pool.curves[row : row + 1], pool.epoch_cost_s[row : row + 1], pool.metafeatures)
    return normalised_regret(oracle_scores(single, BUDGETS_S), y_star, y_min)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meta_dataset")
    parser.add_argument("space")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--policies", default="1x10,2x1,2x2,2x4,3x1,3x2")
    args = parser.parse_args()
    space = Registry().load_space(args.space)
    meta = read_meta_dataset(args.meta_dataset, space=space)
    policies = [tuple(int(part) for part in text.split("x")) for text in args.policies.split(",")]
    regrets: dict[str, list[np.ndarray]] = {}
    for dataset in dict.fromkeys(meta.datasets):
        pool = ReplayPool.from_meta_dataset(meta, dataset)
        meta_train = meta.subset(np.asarray(meta.datasets) != dataset)
        y_star, y_min = pool.reference()
        for seed in range(args.seeds):
            for explore, epochs in policies:
                optimizer = ExploreThenCommit(pool.configs, meta_train, pool.num_epochs, seed, explore, epochs)
                trace = simulate_run(optimizer, pool, float(BUDGETS_S.max()))
                scores = [trace.incumbent_at(budget)[0] for budget in BUDGETS_S]
                regrets.setdefault(f"{explore}x{epochs}", []).append(normalised_regret(np.array(scores), y_star, y_min))
        portfolio = GroupedPortfolio(pool.configs, meta_train, pool.num_epochs)
        scores = np.array([portfolio.scores[cid] for cid in pool.config_ids])
        tied = np.flatnonzero(np.isclose(scores, scores.max()))
        regrets.setdefault("oracle tie", []).append(np.min([commit_regret(pool, row, y_star, y_min) for row in tied], axis=0))
        regrets.setdefault("oracle", []).append(normalised_regret(oracle_scores(pool, BUDGETS_S), y_star, y_min))
    print("policy        " + "  ".join(f"{int(b):>5d} s" for b in BUDGETS_S))
    for name, values in regrets.items():
        print(f"{name:<12s}  " + "  ".join(f"{v:7.3f}" for v in np.mean(values, axis=0)))


if __name__ == "__main__":
    main()
