"""The ask/tell interface every optimiser follows (Quick-Tune and the baselines).

An optimiser chooses among a fixed pool of candidate configurations. ``ask`` returns one
configuration and the epoch to train it to (freeze-thaw: a configuration continues from
the last epoch it reached); ``tell`` reports each finished epoch. Usable without the rest of
qtt-seg: an AutoML system runs its own trials and calls ask/tell.

Several trials may be in flight at once (parallel workers): ``ask(reserve=True)`` marks the
configuration it returns as *pending* (busy) until a ``tell`` reaches the asked epoch or a
``tell_failed`` (or :meth:`Optimizer.release`) arrives; a pending configuration is never handed
out again meanwhile, and the acquisition may account for pending trials. ``ask`` returns None
when nothing is free: with trials still pending, ask again after their tells (see
:meth:`Optimizer.pending`). A plain ``ask()`` reserves nothing (a sequential loop, or a look
at what comes next); with nothing pending the optimisers behave exactly as without this.
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

    #: True when ``ask`` uses ``remaining_s``: its choices depend on the budget, so a benchmark
    #: must run it once per budget (see :func:`qtt_core.replay.run_replay`)
    budget_aware: bool = False

    @abstractmethod
    def ask(self, reserve: bool = False, remaining_s: float | None = None) -> Ask | None:
        """The next (configuration, epoch) to train; None when nothing (free) is left worth training.

        Args:
            reserve: mark the returned configuration as in flight (parallel drivers).
            remaining_s: seconds left in the run, when the driver knows them (optimisers that
                are not :attr:`budget_aware` ignore it).
        """

    @abstractmethod
    def tell(self, config_id: str, epoch: int, score: float, cost_s: float) -> None:
        """Report that ``config_id`` finished ``epoch`` with ``score`` after ``cost_s`` seconds."""

    @abstractmethod
    def tell_failed(self, config_id: str, reason: str) -> None:
        """Report that ``config_id`` failed; it is never asked again."""

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue, as JSON-serialisable data (trials in flight included)."""

    @abstractmethod
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (same pool and settings).

        Trials in flight are restored as pending; a driver whose workers died with it (a
        killed run) calls :meth:`release_pending` so that they are asked again.
        """

    def incumbent(self) -> tuple[str, int, float] | None:
        """(config_id, epoch, score) of the best observation so far, or None."""
        return None

    # -- trials in flight ------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        """The trials in flight: config_id -> the epoch it was asked to reach (a live view)."""
        return self.__dict__.setdefault("_pending", {})

    def release(self, config_id: str) -> None:
        """Forget that ``config_id`` is in flight without a result (its worker was lost or
        stopped before the epoch ended); it may be asked again."""
        self.pending().pop(config_id, None)

    def release_pending(self) -> list[str]:
        """Release every trial in flight (a driver resuming after its workers are gone);
        returns their ids."""
        released = list(self.pending())
        self.pending().clear()
        return released

    def _mark_pending(self, ask: Ask | None, reserve: bool = True) -> Ask | None:
        """Record ``ask`` as in flight when ``reserve`` (subclasses call this on what ``ask`` returns)."""
        if ask is not None and reserve:
            self.pending()[ask.config_id] = int(ask.epoch)
        return ask

    def _settle(self, config_id: str, epoch: int) -> None:
        """A tell of ``epoch`` arrived: the trial is no longer in flight once it reached its asked epoch."""
        asked = self.pending().get(config_id)
        if asked is not None and int(epoch) >= asked:
            del self.pending()[config_id]

    def _pending_state(self) -> dict[str, int]:
        return {cid: int(epoch) for cid, epoch in self.pending().items()}

    def _load_pending(self, state: Mapping[str, Any]) -> None:
        """Restore the trials in flight of a saved state (``{}`` for states saved before there were any)."""
        self.pending().clear()
        self.pending().update({str(cid): int(epoch) for cid, epoch in dict(state.get("pending") or {}).items()})
