"""The numbers a benchmark keeps from a finished ``tune`` run folder (``result.json``, ``trials.csv``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

__all__ = ["RESULT_FIELDS", "tune_fields"]

#: copied from ``result.json`` as they are
RESULT_FIELDS = (
    "model", "budget_s", "elapsed_s", "n_trials", "best_epoch", "val_iou", "test_iou", "zero_shot_test_iou", "precision", "predictors",
)


def tune_fields(run_dir: str | Path) -> dict[str, Any]:
    """What a run did, for a benchmark's ``extra_info`` or the GPU check's summary.

    Times are the run's seconds: from the process start for ``qtt-seg tune`` (imports
    included: its budget counts from there), from the call for an in-process ``tune()``.

    Returns:
        :data:`RESULT_FIELDS` from ``result.json``; from its ``startup`` record of the first
        process, ``first_epoch_s`` (when the first epoch started) and ``startup_phases``
        (seconds per set-up phase); from ``trials.csv``, ``first_epoch_done_s`` (when the first
        epoch ended), ``epochs`` (epochs trained, all configurations together) and ``failed``
        (failed trials); ``refit_pairs`` (None without a refit) and ``weights``. Fields a run
        did not record are None.

    Raises:
        FileNotFoundError: the folder holds no ``result.json`` (the run did not finish).
    """
    folder = Path(run_dir)
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    with (folder / "trials.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    done = [float(row["elapsed_s"]) for row in rows if row["status"] == "ok"]
    startup = (result.get("startup") or [{}])[0]
    return {
        **{name: result.get(name) for name in RESULT_FIELDS},
        "first_epoch_s": startup.get("first_epoch_s"),
        "startup_phases": startup.get("phases"),
        "first_epoch_done_s": min(done, default=None),
        "epochs": len(done),
        "failed": sum(row["status"] == "failed" for row in rows),
        "refit_pairs": (result.get("refit") or {}).get("pairs"),
        "weights": result.get("weights"),
    }
