"""The replay benchmark: optimisers on a recorded meta-dataset, leave-one-dataset-out.

For each evaluated dataset ``D``: the candidate pool is exactly the configurations recorded
for ``D``; optimisers that learn across datasets (``portfolio``, ``quick``) get the rows of
all other datasets as ``meta_train``; each optimiser and seed runs once on the simulated
clock (see :mod:`qtt_core.replay.simulate`) up to the largest budget, once per number of
simulated parallel workers, and the incumbent (the best score of any epoch finished by then)
is read off at every budget. Results with ``N > 1`` workers are labelled ``name@N`` (e.g.
``quick@4``) in the summary and the regret-over-time curves; rows carry a ``workers`` column. Building an
optimiser (meta-training) is not timed: in a real run the predictors are meta-trained
beforehand; its refits inside ask/tell are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qtt_core.errors import UsageError
from qtt_core.metadataset.table import MetaDataset
from qtt_core.optimizer.factory import OPTIMIZER_NAMES, make_optimizer, meta_trained_predictors
from qtt_core.registry import Registry
from qtt_core.replay.simulate import ReplayPool, RunTrace, normalised_regret, oracle_scores, simulate_run

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

__all__ = ["ORACLE", "ReplayResult", "run_label", "run_replay"]

ORACLE = "oracle"
#: points on the time axis of the regret-over-time curves
TIME_POINTS = 181


@dataclass
class ReplayResult:
    """What :func:`run_replay` measured.

    Attributes:
        rows: one dict per dataset, budget, optimiser, worker count and seed (and one ``oracle``
            row per dataset and budget, seed and workers None): ``dataset``, ``budget_s``,
            ``optimizer``, ``workers``, ``seed``,
            ``score`` (the incumbent's, NaN if nothing finished), ``regret`` (normalised, in
            [0, 1]), ``y_star``, ``y_min``, ``epochs`` and ``configs`` (finished by the budget),
            ``optimizer_time_s`` (measured ask/tell seconds of the whole run).
        summary: mean normalised regret by optimiser label (see :func:`run_label`; and
            ``oracle``) and budget (``str`` seconds).
        times_s: ``T`` simulated seconds, the time axis of ``regret_over_time``.
        regret_over_time: mean normalised regret at each of ``times_s`` by optimiser label.
        quality: one dict per held-out dataset and optimiser that exposes predictions:
            ``spearman_final`` and ``median_rel_error_cost`` (NaN when not exposed).
        files: paths written (``csv``, ``plot``, ``json``) when an output folder was given.
    """

    rows: list[dict[str, Any]]
    summary: dict[str, dict[str, float]]
    times_s: np.ndarray
    regret_over_time: dict[str, np.ndarray]
    quality: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def oracle_gap(self) -> dict[str, dict[str, float]]:
        """Mean regret minus the oracle's, by optimiser and budget."""
        oracle = self.summary.get(ORACLE, {})
        return {
            name: {budget: value - oracle.get(budget, float("nan")) for budget, value in by_budget.items()}
            for name, by_budget in self.summary.items()
            if name != ORACLE
        }

    def per_dataset(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per held-out dataset and optimiser label: the mean regret at each budget (``str``
        seconds) and ``first_pick``, the mean percentile of the first configuration trained
        among the dataset's configurations by recorded best score (1 = the best one)."""
        groups: dict[tuple[str, str], dict[str, list[float]]] = {}
        for row in self.rows:
            cell = groups.setdefault((row["dataset"], run_label(row["optimizer"], row["workers"])), {})
            cell.setdefault(_budget_key(row["budget_s"]), []).append(row["regret"])
            if row.get("first_pick") is not None and row["budget_s"] == max(r["budget_s"] for r in self.rows):
                cell.setdefault("first_pick", []).append(row["first_pick"])
        out: dict[str, dict[str, dict[str, float]]] = {}
        for (dataset, label), cell in groups.items():
            out.setdefault(dataset, {})[label] = {k: float(np.nanmean(v)) if len(v) else float("nan") for k, v in cell.items()}
        return out

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``rows``, ``summary``, ``per_dataset``, ``oracle_gap``, ``quality``, ``files``."""
        return {
            "rows": [{k: _json_value(v) for k, v in row.items()} for row in self.rows],
            "summary": _json_value(self.summary),
            "per_dataset": _json_value(self.per_dataset()),
            "oracle_gap": _json_value(self.oracle_gap()),
            "quality": [{k: _json_value(v) for k, v in row.items()} for row in self.quality],
            "files": dict(self.files),
        }


def run_replay(
    meta_dataset: MetaDataset,
    datasets: Sequence[str] | None = None,
    budgets: Sequence[float] = (60, 120, 180),
    seeds: int = 5,
    optimizers: Sequence[str] = OPTIMIZER_NAMES,
    out_dir: str | Path | None = None,
    workers: int | Sequence[int] = 1,
    space: ConfigurationSpace | None = None,
    optimizer_options: Mapping[str, Mapping[str, Any]] | None = None,
    count_optimizer_time: bool = True,
    share_meta_training: bool = False,
    progress: Callable[[str], None] | None = None,
    registry: Registry | None = None,
) -> ReplayResult:
    """Replay ``optimizers`` on every dataset of ``meta_dataset`` in turn held out.

    Args:
        meta_dataset: recorded runs of at least two datasets (one when no optimiser learns
            across datasets), configurations reduced to the space's active values.
        datasets: the held-out datasets to evaluate (default: all).
        budgets: budgets in simulated seconds.
        seeds: seeds ``0 .. seeds - 1`` per optimiser and dataset.
        optimizers: names for :func:`qtt_core.optimizer.factory.make_optimizer`.
        out_dir: when given, writes ``replay.csv``, ``regret_over_time.png`` and ``replay.json``.
        workers: simulated parallel workers, or several counts to compare (each optimiser and
            seed runs once per count; random search with the same workers is the baseline).
        space: the configurations' search space (the predictors' encoding).
        optimizer_options: extra constructor options by optimiser name.
        count_optimizer_time: add the optimisers' measured ask/tell time to the simulated clock.
        share_meta_training: meta-train predictors once per held-out dataset (seed 0) and
            give them to every seed, instead of meta-training once per seed (faster; the
            seeds then differ only in what the optimiser itself randomises).
        progress: called with a short message after each run.
        registry: where the optimisers are registered (default: a new one, plugins included).

    An optimiser whose choices depend on the time left (``optimizer.budget_aware``, Quick-Tune's
    default) runs once per budget, told the seconds left to that budget at each ask; its
    regret-over-time curve is that of the run to the largest budget.

    Raises:
        UsageError: unknown dataset or optimiser, bad budgets, seeds or workers.
    """
    worker_counts = [int(workers)] if isinstance(workers, (int, np.integer)) else [int(w) for w in workers]
    registry = registry or Registry()
    datasets = _check_arguments(meta_dataset, datasets, budgets, seeds, optimizers, worker_counts, registry.optimizers.names())
    budgets = sorted(float(b) for b in budgets)
    horizon_s = budgets[-1]
    times_s = np.linspace(0.0, horizon_s, TIME_POINTS)
    rows: list[dict[str, Any]] = []
    quality: list[dict[str, Any]] = []
    labels = [run_label(name, count) for count in worker_counts for name in optimizers]
    curves: dict[str, list[np.ndarray]] = {label: [] for label in [*labels, ORACLE]}
    all_datasets = np.asarray(meta_dataset.datasets)
    for dataset in datasets:
        pool = ReplayPool.from_meta_dataset(meta_dataset, dataset)
        y_star, y_min = pool.reference()
        reference = {"y_star": y_star, "y_min": y_min}
        for budget, score in zip(budgets, oracle_scores(pool, np.asarray(budgets))):
            rows.append(_row(dataset, budget, ORACLE, None, None, score, reference, 0, 0, 0.0))
        curves[ORACLE].append(normalised_regret(oracle_scores(pool, times_s), y_star, y_min))
        meta_train = meta_dataset.subset(all_datasets != dataset)
        for name in optimizers:
            options = dict((optimizer_options or {}).get(name, {}))
            if share_meta_training and "predictors" not in options:
                shared = meta_trained_predictors(name, meta_train=meta_train, space=space, seed=0)
                options.update({"predictors": shared} if shared is not None else {})
            for count in worker_counts:
                for seed in range(seeds):
                    seed_options = dict(options)
                    if "predictors" not in seed_options:  # meta-train once per seed, for every budget's run
                        own = meta_trained_predictors(name, meta_train=meta_train, space=space, seed=seed)
                        seed_options.update({"predictors": own} if own is not None else {})

                    def fresh(seed: int = seed, name: str = name, options: dict = seed_options) -> Any:
                        return make_optimizer(
                            name, candidates=pool.configs, space=space, metafeatures=pool.metafeatures,
                            meta_train=meta_train, max_epochs=pool.num_epochs, seed=seed, registry=registry, **options,
                        )  # fmt: skip

                    optimizer = fresh()
                    if seed == 0 and count == worker_counts[0]:
                        quality.append({"dataset": dataset, "optimizer": name, **predictor_quality(optimizer, pool)})
                    trace = simulate_run(optimizer, pool, horizon_s, count_optimizer_time=count_optimizer_time, workers=count)
                    traces = {budget: trace for budget in budgets}
                    if optimizer.budget_aware:  # its choices depend on the budget: one run per budget
                        for budget in budgets[:-1]:
                            traces[budget] = simulate_run(fresh(), pool, budget, count_optimizer_time=count_optimizer_time, workers=count)
                    for budget in budgets:
                        score, epochs, configs = traces[budget].incumbent_at(budget)
                        row = _row(dataset, budget, name, count, seed, score, reference, epochs, configs, traces[budget].optimizer_time_s)
                        rows.append({**row, "first_pick": _first_pick_percentile(traces[budget], pool)})
                    curves[run_label(name, count)].append(_regret_over_time(trace, times_s, y_star, y_min))
                    if progress is not None:
                        progress(f"{dataset} {run_label(name, count)} seed {seed}")
    result = ReplayResult(
        rows=rows,
        summary=_summary(rows),
        times_s=times_s,
        regret_over_time={name: np.mean(values, axis=0) for name, values in curves.items() if values},
        quality=quality,
    )
    if out_dir is not None:
        from qtt_core.replay.report import write_report

        result.files = write_report(result, Path(out_dir))
    return result


def _check_arguments(
    meta_dataset: MetaDataset,
    datasets: Sequence[str] | None,
    budgets: Sequence[float],
    seeds: int,
    optimizers: Sequence[str],
    workers: Sequence[int],
    known_optimizers: Sequence[str],
) -> list[str]:
    known = meta_dataset.dataset_names()
    datasets = list(datasets) if datasets else known
    unknown = [d for d in datasets if d not in known]
    if unknown:
        raise UsageError(f"dataset {unknown[0]!r} is not in the meta-dataset; known: {', '.join(known)}")
    bad = [o for o in optimizers if o not in known_optimizers]
    if bad or not optimizers:
        raise UsageError(f"unknown optimiser {bad[0] if bad else ''!r}; known: {', '.join(known_optimizers)}")
    if not budgets or any(not (float(b) > 0 and math.isfinite(float(b))) for b in budgets):
        raise UsageError(f"budgets must be positive seconds, got {list(budgets)}")
    if seeds < 1:
        raise UsageError(f"seeds must be at least 1, got {seeds}")
    if not workers or any(w < 1 for w in workers) or len(set(workers)) != len(workers):
        raise UsageError(f"workers={list(workers)}: give distinct counts of at least 1, e.g. 1,2,4,8")
    if len(known) < 2 and any(o.startswith("portfolio") or o == "quick" for o in optimizers):
        raise UsageError("the meta-dataset has one dataset: nothing left to meta-train on; use random or quick-nometa")
    return datasets


def _row(
    dataset: str,
    budget_s: float,
    optimizer: str,
    workers: int | None,
    seed: int | None,
    score: float,
    reference: dict[str, float],
    epochs: int,
    configs: int,
    optimizer_time_s: float,
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "budget_s": budget_s,
        "optimizer": optimizer,
        "workers": workers,
        "seed": seed,
        "score": float(score),
        "regret": float(normalised_regret(score, reference["y_star"], reference["y_min"])),
        **reference,
        "epochs": epochs,
        "configs": configs,
        "optimizer_time_s": optimizer_time_s,
    }


def _regret_over_time(trace: RunTrace, times_s: np.ndarray, y_star: float, y_min: float) -> np.ndarray:
    """``T`` normalised regret of the incumbent at each of ``times_s``."""
    ends = np.array([e.end_s for e in trace.events] + [np.inf])
    best = np.maximum.accumulate(np.array([e.score for e in trace.events] + [-np.inf]))
    finished = np.searchsorted(ends, times_s, side="right")  # epochs finished by each time
    score = np.where(finished > 0, best[np.maximum(finished - 1, 0)], np.nan)
    return normalised_regret(score, y_star, y_min)


def _first_pick_percentile(trace: RunTrace, pool: ReplayPool) -> float:
    """Where the first configuration the run trained ranks in the pool by its best recorded
    score: 0 the worst, 1 the best (NaN when nothing was trained)."""
    from scipy.stats import rankdata

    if not trace.events:
        return float("nan")
    ranks = rankdata(pool.best_scores())
    return float((ranks[pool.config_ids.index(trace.events[0].config_id)] - 1) / max(len(ranks) - 1, 1))


def run_label(optimizer: str, workers: int | None) -> str:
    """How results are labelled: the optimiser's name with one worker (or none: the oracle), ``name@N`` with ``N``."""
    return optimizer if workers in (None, 1) else f"{optimizer}@{workers}"


def _summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    groups: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        groups.setdefault(run_label(row["optimizer"], row["workers"]), {}).setdefault(_budget_key(row["budget_s"]), []).append(row["regret"])
    return {name: {b: float(np.mean(v)) for b, v in by_budget.items()} for name, by_budget in groups.items()}


def _budget_key(budget_s: float) -> str:
    return f"{budget_s:g}"


def predictor_quality(optimizer: Any, pool: ReplayPool) -> dict[str, float]:
    """How well an optimiser's meta-trained predictors know the held-out dataset before the run.

    Uses ``optimizer.predict_final(configs)`` (predicted score after the last epoch from an
    empty curve) and ``optimizer.predict_cost(configs)`` (predicted seconds per epoch), each
    returning ``C`` floats for the pool's ``C`` configurations, when the optimiser has them
    and its ``meta_trained`` attribute is not False (an optimiser without meta-training has
    nothing to predict before it has observed anything).

    Returns:
        ``spearman_final``: Spearman correlation of predicted and recorded final scores;
        ``median_rel_error_cost``: median of |predicted - recorded| / recorded seconds per epoch.
        NaN for what the optimiser does not expose.
    """
    from scipy.stats import spearmanr

    quality = {"spearman_final": float("nan"), "median_rel_error_cost": float("nan")}
    if getattr(optimizer, "meta_trained", True) is False:
        return quality
    recorded_final = np.array([_last_score(c) for c in pool.curves])
    predicted = _predictions(optimizer, "predict_final", pool)
    if predicted is not None:
        ok = np.isfinite(predicted) & np.isfinite(recorded_final)
        if ok.sum() > 2 and np.ptp(predicted[ok]) > 0 and np.ptp(recorded_final[ok]) > 0:
            quality["spearman_final"] = float(spearmanr(predicted[ok], recorded_final[ok]).statistic)
    predicted_cost = _predictions(optimizer, "predict_cost", pool)
    if predicted_cost is not None:
        error = np.abs(predicted_cost - pool.epoch_cost_s) / pool.epoch_cost_s
        quality["median_rel_error_cost"] = float(np.nanmedian(error))
    return quality


def _predictions(optimizer: Any, method: str, pool: ReplayPool) -> np.ndarray | None:
    """``C`` predictions for the pool's configurations, or None when ``method`` is absent."""
    if not callable(getattr(optimizer, method, None)):
        return None
    values = np.asarray(getattr(optimizer, method)(pool.configs), dtype=float).reshape(-1)
    if values.shape != (len(pool.configs),):
        raise RuntimeError(f"{optimizer.name}.{method} returned {values.shape[0]} values for {len(pool.configs)} configurations")
    return values


def _last_score(curve: np.ndarray) -> float:
    finished = curve[~np.isnan(curve)]
    return float(finished[-1]) if len(finished) else float("nan")


def _json_value(value: Any) -> Any:
    """NaN and inf become None; numpy scalars and arrays plain Python."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
