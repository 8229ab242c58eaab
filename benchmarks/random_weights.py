"""SAM and SAM 2 wrappers whose ``build()`` returns seeded random weights: no download, no file.

Timings do not depend on the weights, so benchmarks time the real architectures this way. A
wrapper takes a real model name (``sam-vit-b``) or the same name with the suffix ``-random``
(``sam-vit-b-random``, the name :mod:`random_weights_plugin` registers); it builds the real
model's architecture at its native input size either way, and records the name it was given
(so an export of ``sam-vit-b-random`` loads back as ``sam-vit-b-random``).
"""

from __future__ import annotations

from pathlib import Path

from qtt_core.errors import UsageError
from qtt_sam.architectures import build_sam
from qtt_sam.wrapper import SamWrapper
from qtt_sam2.wrapper import Sam2Wrapper, build_sam2_model
from random_weights_plugin import real_name

__all__ = ["RandomSam2Wrapper", "RandomSamWrapper"]


def _no_checkpoint(model: str, checkpoint: str | Path | None) -> None:
    if checkpoint is not None:
        raise UsageError(f"{model} has seeded random weights and takes no checkpoint; drop --checkpoint, or tune {real_name(model)}")


class RandomSamWrapper(SamWrapper):
    """A segment-anything model of the real architecture with seeded random weights (seed 0)."""

    def __init__(self, model: str, checkpoint: str | Path | None = None):
        _no_checkpoint(model, checkpoint)
        super().__init__(real_name(model))
        self.model_name = model

    def build(self):
        """The model (float32, CPU, eval mode), identical on every call."""
        return build_sam(self.arch, seed=0).eval()


class RandomSam2Wrapper(Sam2Wrapper):
    """A SAM 2 model of the real architecture with seeded random weights (seed 0); needs ``sam2``."""

    def __init__(self, model: str, checkpoint: str | Path | None = None):
        _no_checkpoint(model, checkpoint)
        super().__init__(real_name(model))
        self.model_name = model

    def build(self):
        """The model (float32, CPU, eval mode), identical on every call."""
        return build_sam2_model(self.arch, seed=0).eval()
