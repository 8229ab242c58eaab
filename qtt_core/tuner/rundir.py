"""The run directory: its layout and atomic writes (temporary file, then rename)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
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
    (what resume needs, the optimiser's state included), ``heartbeat.json`` (the seconds the
    run's processes spent, see :mod:`qtt_core.tuner.clock`), ``run.log``, ``weights/``,
    ``plots/``, ``overlays/``, and ``sessions/`` (the adapter's freeze-thaw states).
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def create(cls, out: str | Path | None, model: str, resume: bool) -> RunDirectory:
        """Open the run folder: new (must be absent or empty) or, with ``resume``, existing.

        A new run claims its folder by creating ``run.log`` exclusively, so two runs never
        share one (the default folder gets a suffix when another run took its name). Stale
        temporary files of a killed process are removed.

        Raises:
            UsageError: a non-empty folder without ``--resume``, ``--resume`` on a folder
                that holds no run or a finished one.
        """
        if out is None:
            return cls._create_default(model)
        run = cls(Path(out))
        if resume:
            if not run.state.is_file():
                raise UsageError(f"{run.root} holds no run to resume (no state.json); drop --resume to start a new run there")
            if run.result.is_file():
                raise UsageError(f"{run.root} holds a finished run ({run.result.name} is written); start a new run with another --out")
            run.clean_stale()
            return run
        cls.check_new(run.root)
        run.root.mkdir(parents=True, exist_ok=True)
        if not run._claim():
            raise UsageError(f"{run.root} was just taken by another run; choose another --out")
        return run

    @classmethod
    def _create_default(cls, model: str) -> RunDirectory:
        """``qtt-seg-runs/<model>-<time>``, or with ``-2``, ``-3``, ... when taken."""
        base = Path("qtt-seg-runs") / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"
        base.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            run = cls(base if attempt == 1 else base.with_name(f"{base.name}-{attempt}"))
            try:
                run.root.mkdir()
            except FileExistsError:
                continue
            if run._claim():
                return run
        raise UsageError(f"no free run folder beside {base}; pass --out")

    def _claim(self) -> bool:
        """Create ``run.log`` exclusively: True when this process owns the new run."""
        try:
            os.close(os.open(self.log, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            return False
        return True

    def clean_stale(self) -> None:
        """Remove what a killed process left half-written: temporary files, partial exports."""
        for path in self.root.rglob(".*.tmp"):
            path.unlink(missing_ok=True)
        for path in self.root.rglob("*.part"):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.partial_weights, ignore_errors=True)
        shutil.rmtree(self.root / "weights.old", ignore_errors=True)

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
    def partial_weights(self) -> Path:
        """Where the weights are exported before they replace ``weights/`` in one rename."""
        return self.root / "weights.partial"

    @property
    def heartbeat(self) -> Path:
        return self.root / "heartbeat.json"

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

    def publish_weights(self) -> Path:
        """Replace ``weights/`` with ``weights.partial/`` (a reader sees the old or the new folder, whole)."""
        old = self.root / "weights.old"
        shutil.rmtree(old, ignore_errors=True)
        if self.weights.exists():
            os.replace(self.weights, old)
        os.replace(self.partial_weights, self.weights)
        shutil.rmtree(old, ignore_errors=True)
        return self.weights

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
