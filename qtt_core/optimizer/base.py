"""The ask/tell interface every optimiser follows (Quick-Tune and the baselines).

An optimiser chooses among a fixed pool of candidate configurations. ``ask`` returns one
configuration and the epoch to train it to (freeze-thaw: a configuration continues from
the last epoch it reached); ``tell`` reports each finished epoch. Usable without the rest of
qtt-seg: an AutoML system runs its own trials and calls ask/tell.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Ask", "Optimizer"]


@dataclass(frozen=True)
class Ask:
    """What to train next.

    Attributes:
        config_id: id of the candidate (``qtt_core.space.config_id``).
        config: its active hyperparameters.
        epoch: the 1-based epoch to train it to (one more than it has reached, usually).
        predicted_score: the optimiser's predicted score at ``epoch`` (NaN if none).
        predicted_cost_s: predicted seconds to get there (NaN if none).
    """

    config_id: str
    config: Mapping[str, Any]
    epoch: int
    predicted_score: float = float("nan")
    predicted_cost_s: float = float("nan")
    info: Mapping[str, Any] = field(default_factory=dict)


class Optimizer(ABC):
    """Ask/tell over a candidate pool, with a maximum number of epochs per configuration."""

    #: registry name, e.g. "quick", "random", "portfolio"
    name: str = ""

    @abstractmethod
    def ask(self) -> Ask | None:
        """The next (configuration, epoch) to train; None when nothing is left worth training."""

    @abstractmethod
    def tell(self, config_id: str, epoch: int, score: float, cost_s: float) -> None:
        """Report that ``config_id`` finished ``epoch`` with ``score`` after ``cost_s`` seconds."""

    @abstractmethod
    def tell_failed(self, config_id: str, reason: str) -> None:
        """Report that ``config_id`` failed; it is never asked again."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue, as JSON-serialisable data."""

    @abstractmethod
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (same pool and settings)."""

    def incumbent(self) -> tuple[str, int, float] | None:
        """(config_id, epoch, score) of the best observation so far, or None."""
        return None
