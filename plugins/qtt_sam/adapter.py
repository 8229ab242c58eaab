"""The SAM model adapter: model names, default space, sessions, loading tuned models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtt_core.adapter import ModelAdapter, SessionRequest

if TYPE_CHECKING:
    from qtt_sam.engine import EngineSession, TunedSegmenter

__all__ = ["MODEL_NAMES", "SamAdapter", "load_tuned"]

#: largest first; the conformance check uses the last (smallest) one
MODEL_NAMES = ["sam-vit-h", "sam-vit-l", "sam-vit-b", "sam-nano", "sam-tiny"]


class SamAdapter(ModelAdapter):
    """segment-anything models tuned with LoRA (peft); constructing it imports nothing heavy."""

    name = "sam"

    def model_names(self) -> list[str]:
        return list(MODEL_NAMES)

    def default_space(self, model: str) -> str:
        return "sam-lora"

    def open_session(self, request: SessionRequest) -> EngineSession:
        from qtt_sam.engine import EngineSession
        from qtt_sam.wrapper import SamWrapper

        return EngineSession(SamWrapper(request.model, request.checkpoint), request)

    def load_tuned(self, weights_dir: Path, device: str = "cpu") -> TunedSegmenter:
        return load_tuned(weights_dir, device)


def load_tuned(weights_dir: str | Path, device: str = "cpu") -> TunedSegmenter:
    """A tuned SAM model from a folder that a session's ``export`` wrote.

    The base weights come from the same place as during tuning (the recorded checkpoint
    path, the cache, or sam-tiny's seeded initialisation).
    """
    from qtt_sam.engine import load_tuned as engine_load_tuned

    return engine_load_tuned(weights_dir, _make_wrapper, device)


def _make_wrapper(description: dict[str, Any]):
    from qtt_sam.wrapper import SamWrapper

    return SamWrapper(description["model"], description.get("checkpoint"))
