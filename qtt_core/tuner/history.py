"""What a run has trained so far: one row per epoch, summarised per configuration."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["EpochRow", "History", "ROW_COLUMNS"]


@dataclass
class EpochRow:
    """One trained epoch (or one failure) of one configuration.

    Attributes:
        elapsed_s: run seconds when the epoch ended (resumes included).
        predicted_score / predicted_cost_s: what the optimiser predicted when it asked.
        status: "ok" or "failed" (then ``reason`` says why; epoch is the one attempted).
    """

    config_id: str
    epoch: int
    score: float
    cost_s: float
    elapsed_s: float
    predicted_score: float = float("nan")
    predicted_cost_s: float = float("nan")
    train_loss: float = float("nan")
    status: str = "ok"
    reason: str = ""


ROW_COLUMNS = list(EpochRow.__dataclass_fields__)
#: the largest slowdown planning assumes (more is noise, or a machine too busy to plan for)
MAX_SLOWDOWN = 3.0


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


@dataclass
class History:
    """Rows in the order they happened, and the configurations they belong to."""

    rows: list[EpochRow] = field(default_factory=list)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, row: EpochRow, config: Mapping[str, Any]) -> None:
        self.rows.append(row)
        self.configs.setdefault(row.config_id, dict(config))

    def last_epoch(self, config_id: str) -> int:
        epochs = [r.epoch for r in self.rows if r.config_id == config_id and r.status == "ok"]
        return max(epochs, default=0)

    def incumbent(self) -> EpochRow | None:
        """The best validated epoch of any configuration that did not fail (the earliest of equal scores).

        Sessions keep each configuration's best epoch (:func:`qtt_core.adapter.best_epoch`), so
        this epoch's weights are what the run exports, whatever later epochs of it scored.
        """
        failed = {r.config_id for r in self.rows if r.status == "failed"}
        usable = [r for r in self.rows if r.status == "ok" and r.config_id not in failed and not math.isnan(r.score)]
        return max(usable, key=lambda r: (r.score, -r.elapsed_s), default=None)

    def epoch_costs(self, config_id: str) -> list[float]:
        """Seconds each recorded epoch of ``config_id`` took (training and validation; known ones only)."""
        return [r.cost_s for r in self.rows if r.config_id == config_id and r.status == "ok" and not math.isnan(r.cost_s)]

    def slowdown(self, recent: int = 5, least: int = 3) -> float:
        """How much slower epochs run now than earlier epochs of the same configuration, in [1, :data:`MAX_SLOWDOWN`].

        Each epoch from a configuration's third on is compared with its second (the first also
        fills caches); the result is the median of the ``recent`` latest such ratios, 1 with
        fewer than ``least`` of them. A machine that became busy mid-run shows here; one slow
        epoch (a resumed process warming up) does not.
        """
        ratios, second = [], {}
        for row in self.rows:
            if row.status != "ok" or math.isnan(row.cost_s) or row.cost_s <= 0 or row.epoch < 2:
                continue
            if row.config_id in second:
                ratios.append(row.cost_s / second[row.config_id])
            else:
                second[row.config_id] = row.cost_s
        if len(ratios) < least:
            return 1.0
        return min(MAX_SLOWDOWN, max(1.0, _median(ratios[-recent:])))

    def trials(self) -> list[dict[str, Any]]:
        """One summary per configuration: ``config_id, fidelity, score, cost_s, status, config``."""
        summary: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            entry = summary.setdefault(
                row.config_id,
                {"config_id": row.config_id, "fidelity": 0, "score": None, "cost_s": 0.0, "status": "ok", "config": self.configs.get(row.config_id, {})},
            )
            if row.status == "failed":
                entry["status"], entry["reason"] = "failed", row.reason
                continue
            entry["fidelity"], entry["score"] = row.epoch, row.score
            entry["cost_s"] += row.cost_s
        return list(summary.values())

    def to_state(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows], "configs": self.configs}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> History:
        return cls([EpochRow(**r) for r in state["rows"]], {k: dict(v) for k, v in state["configs"].items()})
