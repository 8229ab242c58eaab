"""The run's plots and overlays (matplotlib, headless)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from qtt_core.tuner.history import History

__all__ = ["REFERENCE_LABELS", "write_plots"]


#: how the plots label the reference of each prompt protocol (the dashed line, the second bars)
REFERENCE_LABELS = {"box": "zero-shot", "none": "baseline (most frequent class)"}


def write_plots(
    history: History, reference_val: float | None, folder: Path,
    tuned_per_class: dict[str, Any] | None = None, reference_per_class: dict[str, Any] | None = None,
    reference_label: str = REFERENCE_LABELS["box"],
) -> list[Path]:
    """Write ``incumbent.png``, ``curves.png``, ``predicted_vs_observed.png`` and, with per-class
    test results (``{"iou": {class: value or None}, ...}``), ``per_class.png`` to ``folder``.

    Args:
        reference_val: the validation IoU the tuned model is compared with (a dashed line): the
            zero-shot model's with box prompts, the most-frequent-class baseline's without
            (:data:`REFERENCE_LABELS`); None draws no line.
        reference_per_class: that reference's test results per class, beside the tuned model's.
        reference_label: its name in the legends.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    rows = [r for r in history.rows if r.status == "ok"]
    written = []

    figure, axis = plt.subplots(figsize=(6, 4))
    times = [row.elapsed_s for row in rows]
    values = np.maximum.accumulate([row.score for row in rows]) if rows else []
    axis.step(times, values, where="post", label="best validation score (tuned)")
    if reference_val is not None:
        axis.axhline(reference_val, color="grey", linestyle="--", label=reference_label)
    axis.set(xlabel="elapsed (s)", ylabel="validation IoU", title="incumbent over time")
    axis.legend(loc="lower right")
    written.append(_save(figure, folder / "incumbent.png"))

    figure, axis = plt.subplots(figsize=(6, 4))
    for config_id in dict.fromkeys(r.config_id for r in rows):
        curve = [(r.epoch, r.score) for r in rows if r.config_id == config_id]
        axis.plot(*zip(*curve, strict=True), marker="o", markersize=3, linewidth=1)
    if reference_val is not None:
        axis.axhline(reference_val, color="grey", linestyle="--")
    axis.set(xlabel="epoch", ylabel="validation IoU", title=f"learning curves ({len(set(r.config_id for r in rows))} configurations)")
    written.append(_save(figure, folder / "curves.png"))

    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    pairs = np.array([(r.predicted_score, r.score) for r in rows if not math.isnan(r.predicted_score)])
    if len(pairs):
        axis.scatter(pairs[:, 0], pairs[:, 1], s=12)
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":")
    axis.set(xlabel="predicted score", ylabel="observed score", title="predictor vs observation", xlim=(0, 1), ylim=(0, 1))
    written.append(_save(figure, folder / "predicted_vs_observed.png"))

    if tuned_per_class or reference_per_class:
        written.append(_per_class_bars(plt, tuned_per_class, reference_per_class, reference_label, folder / "per_class.png"))
    return written


def _per_class_bars(plt, tuned: dict[str, Any] | None, reference: dict[str, Any] | None, reference_label: str, path: Path) -> Path:
    """Test IoU per class, tuned next to the reference (a class with no value has no bar)."""
    names = list(((tuned or reference) or {}).get("iou", {}))
    positions = np.arange(len(names))
    figure, axis = plt.subplots(figsize=(max(4.5, 0.6 * len(names) + 2), 4))
    for offset, (label, scores) in zip((-0.2, 0.2), (("tuned", tuned), (reference_label, reference)), strict=True):
        values = [(scores or {}).get("iou", {}).get(name) for name in names]
        axis.bar(positions + offset, [np.nan if v is None else v for v in values], width=0.4, label=label)
    axis.set_xticks(positions, names, rotation=45 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
    axis.set(ylabel="test IoU", ylim=(0, 1), title="test IoU per class")
    axis.legend(loc="upper right")
    return _save(figure, path)


def _save(figure, path: Path) -> Path:
    import matplotlib.pyplot as plt

    temporary = path.with_name(f".{path.stem}.tmp.png")
    figure.tight_layout()
    figure.savefig(temporary, dpi=100)
    plt.close(figure)
    temporary.replace(path)
    return path
