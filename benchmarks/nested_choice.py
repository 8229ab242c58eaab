"""Choose one setting of ``quick`` by strictly nested leave-one-dataset-out on recorded runs.

    python benchmarks/nested_choice.py META_DATASET SPACE OPTION VALUES [--seeds 3] [--processes 2]

For each outer held-out dataset ``D`` and each other dataset ``D'`` (the inner held-out one),
``quick``'s predictors are meta-trained on the datasets that are neither ``D`` nor ``D'``, and
every value of ``OPTION`` (a constructor option of
:class:`~qtt_core.optimizer.quick.QuickTuneOptimizer`; ``VALUES`` is a JSON list) is replayed on
``D'`` at 60, 120 and 180 simulated seconds. The value with the lowest mean inner regret is
``D``'s choice: it never saw ``D``. The outer regret of the choices is then read off
``qtt-seg bench replay`` runs of each chosen value (per held-out dataset).

Example (the hysteresis of ``quick``'s mean acquisition, 5 minutes on two cores)::

    python benchmarks/nested_choice.py ../shared/data/metadataset/qtt_seg_sam2_dev.csv qtt-seg-sam2 \\
        switch_margin '[0.0, 0.02, 0.05]'
"""

from __future__ import annotations

import argparse
import itertools
import json
from functools import partial
from multiprocessing import Pool

import numpy as np

from qtt_core.metadataset.io import read_meta_dataset
from qtt_core.optimizer.factory import make_optimizer, meta_trained_predictors
from qtt_core.registry import Registry
from qtt_core.replay.simulate import ReplayPool, normalised_regret, simulate_run

BUDGETS_S = (60.0, 120.0, 180.0)


def inner_regrets(pair_and_seed: tuple[tuple[str, str], int], path: str, space_name: str, option: str, values: list) -> list[dict]:
    """Both inner replays of one pair of held-out datasets: each is the other's outer dataset."""
    (first, second), seed = pair_and_seed
    space = Registry().load_space(space_name)
    meta = read_meta_dataset(path, space=space)
    meta_train = meta.subset(~np.isin(np.asarray(meta.datasets), [first, second]))
    predictors = meta_trained_predictors("quick", meta_train=meta_train, space=space, seed=seed)
    rows = []
    for inner, outer in ((first, second), (second, first)):
        pool = ReplayPool.from_meta_dataset(meta, inner)
        y_star, y_min = pool.reference()
        for value, budget in itertools.product(values, BUDGETS_S):
            optimizer = make_optimizer(
                "quick", candidates=pool.configs, space=space, metafeatures=pool.metafeatures, meta_train=meta_train,
                max_epochs=pool.num_epochs, seed=seed, predictors=predictors, **{option: value},
            )
            score = simulate_run(optimizer, pool, budget).incumbent_at(budget)[0]
            rows.append({"outer": outer, "inner": inner, "seed": seed, "value": value, "budget_s": budget,
                         "regret": float(normalised_regret(score, y_star, y_min))})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meta_dataset")
    parser.add_argument("space")
    parser.add_argument("option")
    parser.add_argument("values", type=json.loads)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    datasets = list(dict.fromkeys(read_meta_dataset(args.meta_dataset, space=Registry().load_space(args.space)).datasets))
    jobs = [(pair, seed) for pair in itertools.combinations(datasets, 2) for seed in range(args.seeds)]
    work = partial(inner_regrets, path=args.meta_dataset, space_name=args.space, option=args.option, values=args.values)
    with Pool(args.processes) as pool:
        rows = [row for part in pool.imap_unordered(work, jobs) for row in part]
    for outer in datasets:
        mean = {v: float(np.mean([r["regret"] for r in rows if r["outer"] == outer and r["value"] == v])) for v in args.values}
        print(f"{outer}: chosen {min(mean, key=mean.get)}  (mean inner regret {', '.join(f'{v}: {m:.4f}' for v, m in mean.items())})")


if __name__ == "__main__":
    main()
