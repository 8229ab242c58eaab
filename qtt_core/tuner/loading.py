"""Load a finished run: its result and its tuned model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qtt_core.adapter import TunedModel
from qtt_core.errors import UsageError

__all__ = ["load_best", "load_result"]


def load_result(run_dir: str | Path) -> dict[str, Any]:
    """The ``result.json`` of a finished run.

    Raises:
        UsageError: the folder holds no finished run.
    """
    path = Path(run_dir) / "result.json"
    if not path.is_file():
        raise UsageError(f"{run_dir} holds no result.json; give the folder of a finished `qtt-seg tune` run (resume it with --resume if it was killed)")
    return json.loads(path.read_text())


def load_best(run_dir: str | Path, device: str = "cpu", registry: Any = None) -> TunedModel:
    """The tuned model of a finished run, ready to ``predict``.

    Raises:
        UsageError: no finished run there, or no configuration finished in it.
    """
    from qtt_core.registry import Registry

    result = load_result(run_dir)
    if not result.get("weights"):
        raise UsageError(f"{run_dir}: no configuration finished an epoch in that run, so there are no tuned weights")
    weights = Path(result["weights"])
    if not weights.is_absolute() and not weights.exists():
        weights = Path(run_dir) / "weights"
    adapter = (registry or Registry()).adapter_for(result["model"])
    return adapter.load_tuned(weights, device=device)
