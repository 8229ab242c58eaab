"""Executors run "train configuration C on task T for E epochs" jobs.

The driver builds :class:`Job` objects (everything a worker needs: model, task, configuration,
epochs, seed), an executor runs them (in this process, or on a Ray cluster), and results come
back to the driver, which alone writes files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Executor", "Job", "JobResult"]


@dataclass(frozen=True)
class Job:
    """One training job.

    Attributes:
        model: model name (from ``qtt-seg plugins``).
        task: a generated task family name or a dataset path the workers can read.
        config_id / config: the configuration (active hyperparameters).
        epochs: train to this epoch, recording the score and cost of each.
        seed: seeds the task's split or generation and the training.
        data_options: options for ``load_dataset`` when ``task`` is a path.
        extractor: the meta-feature extractor, by registry name.
        prompt: the prompt protocol of the session (``SessionRequest.prompt``: ``box`` or ``none``).
    """

    model: str
    task: str
    config_id: str
    config: Mapping[str, Any]
    epochs: int
    seed: int = 0
    checkpoint: str | None = None
    device: str = "cpu"
    data_options: Mapping[str, Any] = field(default_factory=dict)
    extractor: str = "default"
    prompt: str = "box"

    @property
    def key(self) -> tuple[str, str, int]:
        """(task, config_id, seed): what makes a job's row unique in a meta-dataset."""
        return (self.task, self.config_id, self.seed)


@dataclass
class JobResult:
    """What a job produced: one score and one cost per finished epoch, or a failure.

    Attributes:
        status: "ok" or "failed" (``reason`` says why).
        scores / costs_s: validation score and seconds of each finished epoch.
        metafeatures: the task's meta-features (default extractor).
        attempts: how many times the job was started (retries after a dead worker).
    """

    job: Job
    status: str
    scores: list[float] = field(default_factory=list)
    costs_s: list[float] = field(default_factory=list)
    metafeatures: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    attempts: int = 1


class Executor(ABC):
    """Runs jobs and yields their results as they finish (in any order)."""

    name: str = ""

    @abstractmethod
    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Run ``jobs``; yield one result per job, a failed one instead of raising."""

    @property
    def capacity(self) -> int:
        """How many jobs this executor runs at once (for progress displays and planning)."""
        return 1

    def close(self) -> None:  # noqa: B027 - optional
        """Release workers and connections."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
