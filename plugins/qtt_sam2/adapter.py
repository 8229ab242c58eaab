"""The SAM 2 model adapter: model names, default space, sessions, loading tuned models.

Training, freeze-thaw, deadlines, evaluation, export and prediction are the SAM plugin's
engine (:mod:`qtt_sam.engine`); this plugin only supplies :class:`~qtt_sam2.wrapper.Sam2Wrapper`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtt_core.adapter import ModelAdapter, SessionRequest

if TYPE_CHECKING:
    from qtt_sam.engine import EngineSession, TunedSegmenter
    from qtt_sam2.wrapper import Sam2Wrapper

__all__ = ["MODEL_NAMES", "Sam2Adapter", "load_tuned"]

#: largest first; the conformance check uses the last (smallest) one
MODEL_NAMES = ["sam2.1-hiera-large", "sam2.1-hiera-base-plus", "sam2.1-hiera-small", "sam2.1-hiera-tiny", "sam2-test"]


class Sam2Adapter(ModelAdapter):
    """SAM 2.1 models tuned with LoRA (peft) on the Hiera trunk; constructing it imports nothing heavy."""

    name = "sam2"

    def model_names(self) -> list[str]:
        return list(MODEL_NAMES)

    def default_space(self, model: str) -> str:
        return "qtt-seg-sam2"

    def open_session(self, request: SessionRequest) -> EngineSession:
        from qtt_sam.engine import EngineSession
        from qtt_sam2.wrapper import Sam2Wrapper

        return EngineSession(Sam2Wrapper(request.model, request.checkpoint), request)

    def load_tuned(self, weights_dir: Path, device: str = "cpu") -> TunedSegmenter:
        return load_tuned(weights_dir, device)


def load_tuned(weights_dir: str | Path, device: str = "cpu") -> TunedSegmenter:
    """A tuned SAM 2 model from a folder that a session's ``export`` wrote.

    The base weights come from the same place as during tuning (the recorded checkpoint
    path, the cache, or sam2-test's seeded initialisation).
    """
    from qtt_sam.engine import load_tuned as engine_load_tuned

    return engine_load_tuned(weights_dir, _make_wrapper, device)


def _make_wrapper(description: dict[str, Any]) -> Sam2Wrapper:
    from qtt_sam2.wrapper import Sam2Wrapper

    return Sam2Wrapper(description["model"], description.get("checkpoint"))
