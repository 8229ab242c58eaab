"""A model adapter with deterministic synthetic learning curves, for tests and plugin authors."""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qtt_core.adapter import EpochReport, ModelAdapter, SessionRequest, TrialFailed, TunedModel, TuningSession, best_epoch
from qtt_core.space.identity import normalise_config

__all__ = ["MockAdapter", "MockSession", "synthetic_curve"]


def synthetic_curve(config: Mapping[str, Any], epoch: int) -> float:
    """A plausible score in [0, 1] after ``epoch`` epochs, determined by ``config`` alone.

    Learning rates far from 3e-4 (on a log scale) lower the ceiling; the rest of the
    configuration moves ceiling and speed by a hash, so every configuration differs.
    """
    digest = hashlib.sha1(json.dumps(normalise_config(config), sort_keys=True, default=str).encode()).digest()
    noise = digest[0] / 255.0
    lr = float(config.get("lr", 3e-4))
    distance = abs(math.log10(lr) - math.log10(3e-4))
    ceiling = max(0.05, 0.9 - 0.25 * distance - 0.2 * noise)
    speed = 0.3 + 0.5 * (digest[1] / 255.0)
    return ceiling * (1.0 - math.exp(-speed * epoch)) + 0.05


#: a learning curve: (configuration, 1-based epoch) -> validation score in [0, 1]
Curve = Callable[[Mapping[str, Any], int], float]


class MockSession(TuningSession):
    """Freeze-thaw bookkeeping with synthetic scores; optionally sleeps ``cost_s`` per epoch.

    With a ``workdir``, each configuration's state is a file ``mock_trials/<config_id>.json``
    there (its epoch, configuration and per-epoch scores and costs), read before every use:
    another session (a killed run's, a parallel worker's) continues where this one stopped,
    like a real adapter's saved states. A state's score on any split is ``curve`` at its epoch;
    the best validated epoch is kept as a real session keeps it. ``prompt`` is the request's
    (``box`` or ``none``); the scores do not depend on it, and the export records it.
    """

    def __init__(self, request: SessionRequest, epoch_cost_s: float, sleep: bool, fail_ids: set[str], curve: Curve = synthetic_curve):
        self.request = request
        self.prompt = request.prompt
        self.epoch_cost_s = epoch_cost_s
        self.sleep = sleep
        self.fail_ids = fail_ids
        self.curve = curve
        self.epochs: dict[str, int] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, list[EpochReport]] = {}
        self.state_dir = Path(request.workdir) / "mock_trials" if request.workdir else None

    def zero_shot_score(self, split: str = "val") -> float:
        return 0.05

    def train(self, config_id: str, config: Mapping[str, Any], to_epoch: int, deadline: float | None = None) -> list[EpochReport]:
        if config_id in self.fail_ids:
            raise TrialFailed(config_id, "injected failure (MockAdapter fail_ids)")
        self._load(config_id)
        self.configs[config_id] = dict(config)
        reports = []
        cost = self.epoch_cost_s * float(config.get("batch_size", 1)) ** 0.5
        for epoch in range(self.epochs.get(config_id, 0) + 1, to_epoch + 1):
            if deadline is not None and time.monotonic() + (cost if self.sleep else 0.0) > deadline:
                break
            if self.sleep:
                time.sleep(cost)
            report = EpochReport(config_id, epoch, self.curve(config, epoch), cost, 1.0 / epoch)
            self.epochs[config_id] = epoch
            self.reports[config_id] = [*self.reports.get(config_id, [])[: epoch - 1], report]
            self._save(config_id)
            reports.append(report)
        return reports

    def _load(self, config_id: str) -> None:
        """The saved state of ``config_id``, when there is one (it may be newer than this session's)."""
        path = self.state_dir / f"{config_id}.json" if self.state_dir is not None else None
        if path is not None and path.is_file():
            saved = json.loads(path.read_text())
            self.epochs[config_id], self.configs[config_id] = int(saved["epoch"]), saved["config"]
            self.reports[config_id] = [EpochReport(config_id, e + 1, score, cost) for e, (score, cost) in enumerate(saved.get("epochs", []))]

    def _save(self, config_id: str) -> None:
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            path = self.state_dir / f"{config_id}.json"
            temporary = path.with_name(f".{config_id}.{os.getpid()}.{threading.get_ident()}.tmp")
            epochs = [[r.score, r.cost_s] for r in self.reports[config_id]]
            temporary.write_text(json.dumps({"epoch": self.epochs[config_id], "config": self.configs[config_id], "epochs": epochs}))
            temporary.replace(path)

    def last_epoch(self, config_id: str) -> int:
        self._load(config_id)
        return self.epochs.get(config_id, 0)

    def epoch_reports(self, config_id: str) -> list[EpochReport]:
        self._load(config_id)
        return list(self.reports.get(config_id, []))

    def _kept_epoch(self, config_id: str, epoch: int | None) -> int:
        """``epoch`` when the session keeps it (the last or the best validated), as a real session does."""
        self._load(config_id)
        last = self.epochs[config_id]
        best = best_epoch([r.score for r in self.reports.get(config_id, [])])
        if epoch is not None and epoch not in (last, best):
            raise ValueError(f"epoch {epoch} of {config_id} is not kept: only its last ({last}) and best validated ({best}) are")
        return last if epoch is None else epoch

    def score(self, config_id: str, split: str = "test", epoch: int | None = None) -> float:
        kept = self._kept_epoch(config_id, epoch)
        return self.curve(self.configs[config_id], kept)

    def export(self, config_id: str, out_dir: Path, epoch: int | None = None) -> Path:
        kept = self._kept_epoch(config_id, epoch)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        payload = {"model": self.request.model, "config": self.configs[config_id], "epoch": kept, "prompt": self.prompt}
        (out_dir / "mock_weights.json").write_text(json.dumps(payload))
        return out_dir


class _MockTuned(TunedModel):
    """Fills each box with its class (1 when not given); the whole image without boxes, or when
    tuned without prompts."""

    def __init__(self, prompt: str = "box"):
        self.prompt = prompt

    def predict(self, image: np.ndarray, boxes=None) -> np.ndarray:
        label = np.zeros(image.shape[:2], dtype=np.uint8)
        if self.prompt == "none":
            boxes = None
        for box in boxes or [(0, 0, image.shape[1], image.shape[0])]:
            x0, y0, x1, y1 = (int(v) for v in box[:4])
            label[y0 : y1 + 1, x0 : x1 + 1] = int(box[4]) if len(box) > 4 else 1
        return label


class MockAdapter(ModelAdapter):
    """Adapter for tests: model ``mock``, space ``sam-lora`` by default, no torch model.

    Args:
        epoch_cost_s: reported seconds per epoch (times sqrt of the batch size).
        sleep: really wait ``epoch_cost_s`` per epoch (to test budgets and deadlines).
        fail_ids: configuration ids whose training raises :class:`TrialFailed`.
        curve: the learning curve (default :func:`synthetic_curve`, which only rises).
        prompts: the prompt protocols it supports (:meth:`prompt_protocols`).

    Attributes:
        opened: the request of every session it opened, in order (tests assert what a run asked
            for, e.g. ``request.prompt``).
    """

    name = "mock"

    def __init__(
        self, epoch_cost_s: float = 1.0, sleep: bool = False, fail_ids: set[str] | None = None, space: str = "sam-lora",
        curve: Curve = synthetic_curve, prompts: tuple[str, ...] = ("box",),
    ):
        self.epoch_cost_s = epoch_cost_s
        self.sleep = sleep
        self.fail_ids = set(fail_ids or ())
        self.space = space
        self.curve = curve
        self.protocols = tuple(prompts)
        self.opened: list[SessionRequest] = []

    def prompt_protocols(self) -> list[str]:
        return list(self.protocols)

    def model_names(self) -> list[str]:
        return ["mock"]

    def default_space(self, model: str) -> str:
        return self.space

    def open_session(self, request: SessionRequest) -> MockSession:
        self.opened.append(request)
        return MockSession(request, self.epoch_cost_s, self.sleep, self.fail_ids, self.curve)

    def load_tuned(self, weights_dir: Path, device: str = "cpu") -> TunedModel:
        path = Path(weights_dir) / "mock_weights.json"
        if not path.is_file():
            raise FileNotFoundError(f"{weights_dir} holds no mock_weights.json")
        return _MockTuned(json.loads(path.read_text()).get("prompt", "box"))
