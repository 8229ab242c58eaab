"""Files of a replay: the table (CSV), the regret-over-time plot (PNG) and the JSON summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from qtt_core.replay.benchmark import ReplayResult

__all__ = ["plot_regret_over_time", "plot_regret_vs_workers", "write_report"]


def write_report(result: ReplayResult, out_dir: Path) -> dict[str, str]:
    """Write ``replay.csv``, ``regret_over_time.png`` and ``replay.json`` into ``out_dir``,
    and ``regret_vs_workers.png`` when several worker counts were simulated.

    Returns:
        Paths written, by kind: ``csv``, ``plot``, ``json`` (and ``workers_plot``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "csv": str(out_dir / "replay.csv"),
        "plot": str(out_dir / "regret_over_time.png"),
        "json": str(out_dir / "replay.json"),
    }
    pd.DataFrame(result.rows).to_csv(files["csv"], index=False)
    plot_regret_over_time(result, Path(files["plot"]))
    if len({row["workers"] for row in result.rows if row["workers"] is not None}) > 1:
        files["workers_plot"] = str(out_dir / "regret_vs_workers.png")
        plot_regret_vs_workers(result, Path(files["workers_plot"]))
    result.files = files
    Path(files["json"]).write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return files


def plot_regret_over_time(result: ReplayResult, path: Path) -> None:
    """Mean normalised regret against simulated seconds, one line per optimiser (oracle dashed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.2), dpi=120)
    axes = figure.add_subplot()
    for name, regret in result.regret_over_time.items():
        style = {"linestyle": "--", "color": "black"} if name == "oracle" else {}
        axes.step(result.times_s, regret, where="post", label=name, **style)
    for budget in sorted({row["budget_s"] for row in result.rows}):
        axes.axvline(budget, color="grey", linewidth=0.5)
    axes.set_xlabel("simulated time (s)")
    axes.set_ylabel("mean normalised regret")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(f"replay on {len({row['dataset'] for row in result.rows})} held-out datasets")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


def plot_regret_vs_workers(result: ReplayResult, path: Path) -> None:
    """Mean normalised regret against simulated workers (log2 axis), one line per optimiser and budget."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    runs = pd.DataFrame([row for row in result.rows if row["workers"] is not None])
    means = runs.groupby(["optimizer", "budget_s", "workers"]).regret.mean()
    figure = Figure(figsize=(6.4, 4.2), dpi=120)
    axes = figure.add_subplot()
    styles = ["-", "--", ":", "-."]
    for i, name in enumerate(dict.fromkeys(runs.optimizer)):
        for j, budget in enumerate(sorted(runs.budget_s.unique())):
            series = means.loc[(name, budget)]
            axes.plot(series.index, series.values, marker="o", linestyle=styles[j % len(styles)], color=f"C{i}", label=f"{name}, {budget:g} s")
    axes.set_xscale("log", base=2)
    counts = sorted(runs.workers.unique())
    axes.set_xticks(counts, [str(int(w)) for w in counts])
    axes.set_xlabel("simulated parallel workers")
    axes.set_ylabel("mean normalised regret")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title("regret at each budget against the number of workers")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
