"""Files of a replay: the table (CSV), the regret-over-time plot (PNG) and the JSON summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from qtt_core.replay.benchmark import ReplayResult

__all__ = ["plot_regret_over_time", "write_report"]


def write_report(result: ReplayResult, out_dir: Path) -> dict[str, str]:
    """Write ``replay.csv``, ``regret_over_time.png`` and ``replay.json`` into ``out_dir``.

    Returns:
        Paths written, by kind: ``csv``, ``plot``, ``json``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "csv": str(out_dir / "replay.csv"),
        "plot": str(out_dir / "regret_over_time.png"),
        "json": str(out_dir / "replay.json"),
    }
    pd.DataFrame(result.rows).to_csv(files["csv"], index=False)
    plot_regret_over_time(result, Path(files["plot"]))
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
