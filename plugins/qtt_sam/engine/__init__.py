"""The model-agnostic training engine: prompts, losses, augmentation, the loop, freeze-thaw
state, evaluation and export, written against :class:`PromptableModel`.

A model plugin supplies a wrapper and reuses the rest::

    from qtt_sam.engine import EngineSession, load_tuned

    session = EngineSession(MyWrapper(request.model), request)
"""

from __future__ import annotations

from qtt_sam.engine.config import TrainConfig
from qtt_sam.engine.export import TunedSegmenter, export_trial, load_tuned
from qtt_sam.engine.loop import EngineContext, evaluate, train_epoch
from qtt_sam.engine.metrics import IoUAccumulator
from qtt_sam.engine.prompts import BoxPrompts, boxes_from_mask, jitter_boxes
from qtt_sam.engine.protocol import PromptableModel
from qtt_sam.engine.session import DEFAULT_OPTIONS, EngineSession
from qtt_sam.engine.trial import Trial, TrialState, build_model, build_trial

__all__ = [
    "DEFAULT_OPTIONS",
    "BoxPrompts",
    "EngineContext",
    "EngineSession",
    "IoUAccumulator",
    "PromptableModel",
    "TrainConfig",
    "Trial",
    "TrialState",
    "TunedSegmenter",
    "boxes_from_mask",
    "build_model",
    "build_trial",
    "evaluate",
    "export_trial",
    "jitter_boxes",
    "load_tuned",
    "train_epoch",
]
