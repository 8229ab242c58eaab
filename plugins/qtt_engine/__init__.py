"""The model-agnostic training engine: prompts, losses, augmentation, the loop, freeze-thaw
state, evaluation and export, written against :class:`PromptableModel`.

A model plugin supplies a wrapper and registers a :class:`PromptableAdapter`::

    from qtt_engine.adapter import PromptableAdapter

    adapter = PromptableAdapter("my-models", ["my-model"], make_wrapper, default_space="sam-lora")

Importing this package is light: the names below load their modules (torch, peft, timm)
when first used.
"""

from __future__ import annotations

from qtt_core.lazy import lazy_attributes

#: public name -> the module that defines it
_EXPORTS = {
    "TrainConfig": "qtt_engine.config",
    "TunedSegmenter": "qtt_engine.export",
    "export_trial": "qtt_engine.export",
    "load_tuned": "qtt_engine.export",
    "EngineContext": "qtt_engine.loop",
    "evaluate": "qtt_engine.loop",
    "train_epoch": "qtt_engine.loop",
    "IoUAccumulator": "qtt_engine.metrics",
    "BoxPrompts": "qtt_engine.prompts",
    "boxes_from_mask": "qtt_engine.prompts",
    "jitter_boxes": "qtt_engine.prompts",
    "PromptableModel": "qtt_engine.protocol",
    "DEFAULT_OPTIONS": "qtt_engine.session",
    "EngineSession": "qtt_engine.session",
    "Trial": "qtt_engine.trial",
    "TrialState": "qtt_engine.trial",
    "build_model": "qtt_engine.trial",
    "build_trial": "qtt_engine.trial",
    "PromptableAdapter": "qtt_engine.adapter",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_attributes(__name__, _EXPORTS)
