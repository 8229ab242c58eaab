"""The run directory: its layout and atomic writes (temporary file, then rename)."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from qtt_core.errors import UsageError
from qtt_core.files import write_atomic

__all__ = ["RunDirectory"]


class RunDirectory:
    """Paths of one tuning run and the files in it.

    Layout: ``result.json``, ``trials.csv``, ``config.yaml``, ``split.json``, ``state.json``
    (what resume needs, the optimiser's state included), ``run.log``, ``weights/``,
    ``plots/``, ``overlays/``, and ``sessions/`` (the adapter's freeze-thaw states).
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def create(cls, out: str | Path | None, model: str, resume: bool) -> RunDirectory:
        """Open the run folder: new (must be absent or empty) or, with ``resume``, existing.

        Raises:
            UsageError: a non-empty folder without ``--resume``, or ``--resume`` on a folder
                that holds no run.
        """
        if out is None:
            out = Path("qtt-seg-runs") / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"
        run = cls(Path(out))
        if resume:
            if not run.state.is_file():
                raise UsageError(f"{run.root} holds no run to resume (no state.json); drop --resume to start a new run there")
            return run
        cls.check_new(run.root)
        run.root.mkdir(parents=True, exist_ok=True)
        return run

    @staticmethod
    def check_new(out: str | Path | None) -> None:
        """Raise UsageError when ``out`` exists and is not an empty folder (never overwritten)."""
        if out is None:
            return
        root = Path(out)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise UsageError(f"{root} exists and is not empty; choose another --out, or add --resume to continue the run in it")

    # -- paths ------------------------------------------------------------------------------

    @property
    def result(self) -> Path:
        return self.root / "result.json"

    @property
    def trials(self) -> Path:
        return self.root / "trials.csv"

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def split(self) -> Path:
        return self.root / "split.json"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def log(self) -> Path:
        return self.root / "run.log"

    @property
    def weights(self) -> Path:
        return self.root / "weights"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def overlays(self) -> Path:
        return self.root / "overlays"

    @property
    def sessions(self) -> Path:
        return self.root / "sessions"

    # -- files --------------------------------------------------------------------------------

    def write_json(self, path: Path, payload: Any) -> Path:
        return write_atomic(path, json.dumps(payload, indent=2, default=_jsonable) + "\n")

    def read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise UsageError(f"{path} cannot be read ({error}); the run folder is damaged, start a new run") from None

    def write_yaml(self, path: Path, payload: Mapping[str, Any]) -> Path:
        return write_atomic(path, yaml.safe_dump(json.loads(json.dumps(payload, default=_jsonable)), sort_keys=False))

    def write_csv(self, path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Path:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return write_atomic(path, buffer.getvalue())


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
