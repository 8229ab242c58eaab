"""Load a finished run: its result and its tuned model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qtt_core.adapter import TunedModel
from qtt_core.errors import UsageError

__all__ = ["load_best", "load_result"]

#: what :func:`load_best` reads from ``result.json``
_RESULT_KEYS = ("model", "weights")


def load_result(run_dir: str | Path) -> dict[str, Any]:
    """The ``result.json`` of a finished run.

    Raises:
        UsageError: the folder holds no finished run, or its ``result.json`` is damaged.
    """
    path = Path(run_dir) / "result.json"
    if not path.is_file():
        raise UsageError(f"{run_dir} holds no result.json; give the folder of a finished `qtt-seg tune` run (resume it with --resume if it was killed)")
    redo = "re-run `qtt-seg tune` into a new --out folder"
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{path} is damaged ({error}); {redo}") from None
    missing = [key for key in _RESULT_KEYS if key not in result] if isinstance(result, dict) else list(_RESULT_KEYS)
    if missing:
        raise UsageError(f"{path} is incomplete (no {', '.join(map(repr, missing))}); {redo}")
    return result


def load_best(run_dir: str | Path, device: str = "cpu", registry: Any = None) -> TunedModel:
    """The tuned model of a finished run, ready to ``predict``.

    Raises:
        UsageError: no finished run there, or no configuration finished in it, or its
            weights folder is gone.
    """
    from qtt_core.registry import Registry

    result = load_result(run_dir)
    if not result["weights"]:
        raise UsageError(f"{run_dir}: no configuration finished an epoch in that run, so there are no tuned weights")
    weights = Path(result["weights"])
    if not weights.is_dir():  # a run folder that was moved or copied
        weights = Path(run_dir) / "weights"
    if not weights.is_dir():
        raise UsageError(f"{run_dir} holds no weights/ folder (nor is {result['weights']} one); copy the whole run folder, or re-run the tune")
    adapter = (registry or Registry()).adapter_for(result["model"])
    return adapter.load_tuned(weights, device=device)
