"""What a run's ``state.json`` holds: everything a resumed process needs, typed.

The file is JSON with these fields as keys (absent ones take their defaults, so a state the
first second of a run wrote, ``{"settings": ...}``, loads too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from qtt_core.data.baseline import Baseline

__all__ = ["RunState", "ZeroShot"]


@dataclass
class ZeroShot:
    """The untuned model's scores, measured once per run, and the end reserve taken from them.

    Attributes:
        val / test: mean IoU on the validation and test pairs; None in a run without prompts
            (``prompt: none``), where the pass only measures the time (the untuned model has no
            prompt-free output worth a score).
        test_eval_s: seconds of the test pass (the final evaluation, export and overlays cost about that).
        reserve_s: seconds kept for the final phase (scaled by the run's slowdown when used).
        build_and_val_s: seconds to build the model and score the validation pairs (a refit's start-up).
        test_per_class: ``{"iou": {class: value}, "dice": {...}}`` on the test pairs, or None.
    """

    val: float | None
    test: float | None
    test_eval_s: float
    reserve_s: float
    build_and_val_s: float = 0.0
    test_per_class: dict[str, Any] | None = None


@dataclass
class RunState:
    """A run's saved state.

    Attributes:
        settings: the :class:`~qtt_core.tuner.settings.TuneSettings` as a dict.
        elapsed_s: seconds the run's processes had spent at the last save.
        metafeatures: the dataset's meta-features, extracted once.
        candidates: the candidate pool, drawn once.
        optimizer: the optimiser's ``state_dict()``.
        history: the recorded epochs (:meth:`History.to_state`).
        predictors: one line: which knowledge the optimiser started from.
        zero_shot: the untuned model's scores, once measured.
        baseline: the most-frequent-class baseline (:class:`~qtt_core.data.baseline.Baseline`),
            once computed (absent in the states of older versions: computed on resume).
        phase: ``"search"`` or ``"final"`` (the search had ended; a resume goes on with the final phase).
        final: the final phase's finished steps: ``test_iou``, ``weights``, ``refit``,
            ``test_per_class``, ``reported``.
        refit: the planned refit (:class:`~qtt_core.tuner.refit.RefitPlan` fields) and ``done``,
            plus ``pairs``, ``epochs`` and ``seconds`` once done.
        startup: per process, its set-up record (:class:`~qtt_core.tuner.startup.StartupTimer`).
    """

    settings: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    metafeatures: dict[str, float] | None = None
    candidates: list[dict[str, Any]] | None = None
    optimizer: dict[str, Any] | None = None
    history: dict[str, Any] | None = None
    predictors: str = ""
    zero_shot: ZeroShot | None = None
    baseline: Baseline | None = None
    phase: str = "search"
    final: dict[str, Any] | None = None
    refit: dict[str, Any] | None = None
    startup: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> RunState:
        """Read what :meth:`to_json` wrote (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in payload.items() if key in known}
        if isinstance(values.get("zero_shot"), dict):
            values["zero_shot"] = ZeroShot(**values["zero_shot"])
        if isinstance(values.get("baseline"), dict):
            values["baseline"] = Baseline.from_json(values["baseline"])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (not copies); fields still unset (None) are left out."""
        payload = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.zero_shot is not None:
            payload["zero_shot"] = asdict(self.zero_shot)
        if self.baseline is not None:
            payload["baseline"] = self.baseline.to_json()
        return {key: value for key, value in payload.items() if value is not None}
