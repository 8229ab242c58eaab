"""The model adapter interface: what the core asks of a foundation-model plugin.

The core knows nothing about SAM. A plugin (``qtt_sam``, ``qtt_sam2``, a third party's)
returns :class:`ModelAdapter` objects from the ``qtt_model_adapters`` hook. The tuner opens
one :class:`TuningSession` per run (one model, one dataset) and drives it freeze-thaw style:
``train(config_id, config, to_epoch)`` continues a configuration from the last epoch it
finished, never from scratch. Besides a configuration's latest state, a session keeps the
state of its best validated epoch (:func:`best_epoch`), so the run hands back the best epoch
it saw, not whatever a later epoch made of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EpochReport",
    "PROMPT_PROTOCOLS",
    "best_epoch",
    "ModelAdapter",
    "SessionRequest",
    "TrialFailed",
    "TunedModel",
    "TuningSession",
]


#: how a run prompts the model (``SessionRequest.prompt``): ``box``, one ground-truth box per
#: object (the paper's protocol); ``none``, the model segments from the image alone
PROMPT_PROTOCOLS = ("box", "none")


@dataclass(frozen=True)
class EpochReport:
    """What one finished epoch of one configuration produced.

    Attributes:
        config_id: the configuration's id (see :func:`qtt_core.space.config_id`).
        epoch: the epoch that just ended, 1-based (1 after the first epoch).
        score: validation score after this epoch, in [0, 1] (mean IoU for segmentation).
        cost_s: wall-clock seconds this epoch took, training and validation together.
        train_loss: mean training loss over the epoch (NaN when not applicable).
    """

    config_id: str
    epoch: int
    score: float
    cost_s: float
    train_loss: float = float("nan")


def best_epoch(scores: Sequence[float]) -> int:
    """The 1-based epoch whose validation score is highest (the first of equal ones); 0 for none.

    Args:
        scores: validation scores after epochs 1, 2, ... (NaN scores never count).

    The rule the tuner's incumbent and every session's kept state share.
    """
    best, best_score = 0, float("-inf")
    for epoch, score in enumerate(scores, start=1):
        if score == score and score > best_score:  # NaN != NaN
            best, best_score = epoch, score
    return best


class TrialFailed(RuntimeError):
    """A configuration could not be trained (out of memory, NaN loss, a plugin error).

    The tuner records the trial as failed with ``reason`` and goes on with the others.
    """

    def __init__(self, config_id: str, reason: str):
        super().__init__(f"configuration {config_id} failed: {reason}")
        self.config_id = config_id
        self.reason = reason


def failure_reason(error: BaseException) -> str:
    """Why a trial failed, in one line: a :class:`TrialFailed`'s reason, else the error's type and first line."""
    reason = error.reason if isinstance(error, TrialFailed) else f"{type(error).__name__}: {error}"
    lines = str(reason).strip().splitlines()
    return lines[0] if lines else type(error).__name__


@dataclass
class SessionRequest:
    """Everything an adapter needs to open a tuning session.

    Attributes:
        model: a model name this adapter provides.
        data: the dataset with its splits (a :class:`qtt_core.data.SegmentationData`).
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        checkpoint: a local checkpoint file, or None to fetch the model's default.
        workdir: a folder the session may use for caches and freeze-thaw states; states
            saved there survive a killed process, so a resumed run continues them.
        seed: seed for everything random in the session.
        options: further settings; the tuner and the meta-dataset builder pass
            ``max_epochs``, the most epochs any configuration will get (the horizon of
            learning-rate schedules), so schedules match the recorded runs.
        precision: ``auto``, ``fp32``, ``bf16`` or ``fp16`` (see :mod:`qtt_core.precision`);
            an adapter that trains in one precision only may ignore it.
        prompt: one of :data:`PROMPT_PROTOCOLS` that the adapter's :meth:`ModelAdapter.prompt_protocols`
            lists: ``box`` trains and scores with boxes from the ground truth, ``none`` without
            any prompt (the session's scores, exports and tuned models then need no boxes).
    """

    model: str
    data: Any
    device: str = "cpu"
    checkpoint: str | Path | None = None
    workdir: Path | None = None
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    precision: str = "auto"
    prompt: str = "box"


@dataclass(frozen=True)
class ClassScores:
    """Per-class results on a split: class name -> IoU and Dice in [0, 1], None where the class
    occurs in neither the split's masks nor the predictions."""

    iou: dict[str, float | None]
    dice: dict[str, float | None]


class TuningSession(ABC):
    """One model tuned on one dataset: trains, evaluates and exports configurations."""

    def prepare(self) -> None:  # noqa: B027 - optional, a no-op by default
        """Load the model and its libraries now (optional), so that the cost is not billed to the
        first epoch the session trains (the tuner calls it once, before any training)."""

    @abstractmethod
    def zero_shot_score(self, split: str = "val") -> float:
        """Score of the untuned base model on ``split`` ("val" or "test"), in [0, 1]."""

    @abstractmethod
    def train(
        self,
        config_id: str,
        config: Mapping[str, Any],
        to_epoch: int,
        deadline: float | None = None,
    ) -> list[EpochReport]:
        """Train ``config`` on from its last finished epoch up to epoch ``to_epoch``.

        Args:
            config_id: stable id of the configuration (the key of its freeze-thaw state).
            config: the active hyperparameters, as a plain mapping.
            to_epoch: the 1-based epoch to reach; epochs already done are not repeated.
            deadline: a ``time.monotonic()`` value; training stops cleanly at a step
                boundary before it, and the epoch that could not finish is not reported.

        Each finished epoch's state is saved (with a ``workdir``, durably on disk) before the
        call returns; the state of the configuration's best validated epoch so far
        (:func:`best_epoch` of its scores) is kept too, for :meth:`score` and :meth:`export`.

        Returns:
            One report per epoch finished by this call, in order (may be empty when the
            deadline leaves no time for a whole epoch).

        Raises:
            TrialFailed: the configuration cannot be trained (the tuner goes on).
        """

    @abstractmethod
    def last_epoch(self, config_id: str) -> int:
        """The last epoch finished for ``config_id`` (0 when never trained)."""

    def epoch_reports(self, config_id: str) -> list[EpochReport]:
        """The saved epochs of ``config_id`` (1..:meth:`last_epoch`) with their scores and costs.

        A resumed run records from these the epochs a killed process finished but did not
        record. The default (an adapter that keeps no such record) is ``[]``; the run then
        records the last epoch with :meth:`score` and an unknown cost.
        """
        return []

    @abstractmethod
    def score(self, config_id: str, split: str = "test", epoch: int | None = None) -> float:
        """Score of ``config_id`` on ``split``, in [0, 1].

        Args:
            epoch: the state to score: None or the last epoch for its latest state, or its
                best validated epoch (kept by :meth:`train`); any other epoch raises ValueError.
        """

    def class_scores(self, config_id: str | None, split: str = "test", epoch: int | None = None) -> ClassScores | None:
        """Per-class IoU and Dice of ``config_id``'s model after ``epoch`` (as :meth:`score`), or
        of the untuned model for None, on ``split``. Optional: None where not computed."""
        return None

    @abstractmethod
    def export(self, config_id: str, out_dir: Path, epoch: int | None = None) -> Path:
        """Write the tuned weights of ``config_id`` (at ``epoch``, as in :meth:`score`) to ``out_dir``; return the folder."""

    def release(self, config_id: str) -> None:  # noqa: B027 - optional hook
        """Free memory held for ``config_id`` (its state stays on disk when saved)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free everything the session holds."""


class TunedModel(ABC):
    """A tuned model loaded back from an exported folder, ready to predict.

    Attributes:
        legend: which mask value each label stands for in the data it was tuned on (see
            :mod:`qtt_core.data.legend`), or None; ``qtt-seg predict`` writes masks in those
            values when it is there.
        prompt: the :data:`PROMPT_PROTOCOLS` entry it was tuned with; ``none``: it segments
            from the image alone and takes no boxes.
    """

    legend: dict[str, Any] | None = None
    prompt: str = "box"

    @abstractmethod
    def predict(self, image: np.ndarray, boxes: Sequence[Sequence[float]] | None = None) -> np.ndarray:
        """Segment ``image``.

        Args:
            image: ``H x W x 3`` uint8 RGB image.
            boxes: prompt boxes ``[x0, y0, x1, y1]`` or ``[x0, y0, x1, y1, label]`` in pixels
                of ``image``, one per object (label: the class 1..K, 1 when not given); None
                lets the model use the whole image as the box.

        Returns:
            ``H x W`` uint8 label map (0 background, 1..K classes).
        """


class ModelAdapter(ABC):
    """A family of foundation models that qtt-seg can tune (e.g. all SAM variants)."""

    #: the provider's name, shown by ``qtt-seg plugins`` (e.g. ``"sam"``)
    name: str = ""

    @abstractmethod
    def model_names(self) -> list[str]:
        """Names of the models this adapter builds, largest first (the conformance checks use the last)."""

    @abstractmethod
    def default_space(self, model: str) -> str:
        """Name of the search space used for ``model`` when the user names none."""

    def prompt_protocols(self) -> list[str]:
        """The :data:`PROMPT_PROTOCOLS` its sessions support (default: ``box`` only)."""
        return ["box"]

    def default_model(self) -> str | None:
        """The model ``tune`` and ``demo`` use when the user names none (one that works offline),
        or None (the default); the first registered adapter that names one decides."""
        return None

    @abstractmethod
    def open_session(self, request: SessionRequest) -> TuningSession:
        """Open a tuning session for ``request.model`` on ``request.data``."""

    @abstractmethod
    def load_tuned(self, weights_dir: Path, device: str = "cpu") -> TunedModel:
        """Load a model that :meth:`TuningSession.export` wrote to ``weights_dir``."""
