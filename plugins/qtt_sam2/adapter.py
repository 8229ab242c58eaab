"""The SAM 2 model adapter: the engine's :class:`~qtt_engine.adapter.PromptableAdapter` over
:class:`~qtt_sam2.wrapper.Sam2Wrapper`, for the models of :data:`qtt_sam2.architectures.ARCHITECTURES`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtt_engine.adapter import PromptableAdapter
from qtt_sam2.architectures import ARCHITECTURES

if TYPE_CHECKING:
    from qtt_engine.export import TunedSegmenter
    from qtt_sam2.wrapper import Sam2Wrapper

__all__ = ["MODEL_NAMES", "Sam2Adapter", "load_tuned"]

#: largest first; the conformance check uses the last (smallest) one
MODEL_NAMES = list(ARCHITECTURES)


def _make_wrapper(model: str, checkpoint: str | Path | None) -> Sam2Wrapper:
    from qtt_sam2.wrapper import Sam2Wrapper

    return Sam2Wrapper(model, checkpoint)


class Sam2Adapter(PromptableAdapter):
    """SAM 2.1 models tuned with LoRA (peft) on the Hiera trunk; constructing it imports nothing heavy."""

    def __init__(self):
        super().__init__("sam2", MODEL_NAMES, _make_wrapper, default_space="qtt-seg-sam2", prompt_free=True)


def load_tuned(weights_dir: str | Path, device: str = "cpu") -> TunedSegmenter:
    """A tuned SAM 2 model from a folder that a session's ``export`` wrote."""
    return Sam2Adapter().load_tuned(Path(weights_dir), device)
