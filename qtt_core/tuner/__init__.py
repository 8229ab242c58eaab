"""The budgeted tuning run (``qtt-seg tune``) and loading its result."""

from __future__ import annotations

from qtt_core.tuner.loading import load_best, load_result
from qtt_core.tuner.settings import TuneSettings
from qtt_core.tuner.tuner import TuneResult, tune

__all__ = ["TuneResult", "TuneSettings", "load_best", "load_result", "tune"]
