"""qtt_core: the small core of qtt-seg.

Plugins, search spaces, meta-features, predictors and the optimiser; no segment-anything,
peft or timm imports here, so AutoML systems can embed the core through ask/tell.
"""

from __future__ import annotations

from qtt_core.adapter import EpochReport, ModelAdapter, SessionRequest, TrialFailed, TunedModel, TuningSession
from qtt_core.errors import QttError, UnknownNameError, UsageError
from qtt_core.hookspecs import hookimpl, hookspec
from qtt_core.registry import Registry

__version__ = "0.1.0"

__all__ = [
    "EpochReport",
    "ModelAdapter",
    "QttError",
    "Registry",
    "SessionRequest",
    "TrialFailed",
    "TunedModel",
    "TuningSession",
    "UnknownNameError",
    "UsageError",
    "hookimpl",
    "hookspec",
]
