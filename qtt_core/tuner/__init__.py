"""The budgeted tuning run (``qtt-seg tune``) and loading its result.

Importing the package is light (the command line imports :mod:`qtt_core.tuner.clock` first
thing); the names below load their modules when first used.
"""

from __future__ import annotations

from qtt_core.lazy import lazy_attributes

#: public name -> the module that defines it
_EXPORTS = {
    "load_best": "qtt_core.tuner.loading",
    "load_result": "qtt_core.tuner.loading",
    "TuneSettings": "qtt_core.tuner.settings",
    "TuneResult": "qtt_core.tuner.final",
    "tune": "qtt_core.tuner.tuner",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_attributes(__name__, _EXPORTS)
