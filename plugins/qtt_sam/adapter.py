"""The SAM model adapter: the engine's :class:`~qtt_engine.adapter.PromptableAdapter` over
:class:`~qtt_sam.wrapper.SamWrapper`, for the models of :data:`qtt_sam.architectures.ARCHITECTURES`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtt_engine.adapter import PromptableAdapter
from qtt_sam.architectures import ARCHITECTURES

if TYPE_CHECKING:
    from qtt_engine.export import TunedSegmenter
    from qtt_sam.wrapper import SamWrapper

__all__ = ["MODEL_NAMES", "SamAdapter", "load_tuned"]

#: largest first; the conformance check uses the last (smallest) one
MODEL_NAMES = list(ARCHITECTURES)


def _make_wrapper(model: str, checkpoint: str | Path | None) -> SamWrapper:
    from qtt_sam.wrapper import SamWrapper

    return SamWrapper(model, checkpoint)


class SamAdapter(PromptableAdapter):
    """segment-anything models tuned with LoRA (peft); constructing it imports nothing heavy.
    ``sam-nano`` (shipped, pretrained by the project) is the offline default model."""

    def __init__(self):
        super().__init__("sam", MODEL_NAMES, _make_wrapper, default_space="sam-lora", default_model="sam-nano", prompt_free=True)


def load_tuned(weights_dir: str | Path, device: str = "cpu") -> TunedSegmenter:
    """A tuned SAM model from a folder that a session's ``export`` wrote."""
    return SamAdapter().load_tuned(Path(weights_dir), device)
