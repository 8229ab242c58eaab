"""Registers the SAM 2 adapter with qtt-seg (entry point ``sam2 = "qtt_sam2.plugin"``).

Without the ``sam2`` package, importing this module raises ImportError with the install
command; the registry then lists the plugin as unavailable with that reason.
"""

from __future__ import annotations

import importlib.util

from qtt_core.hookspecs import hookimpl
from qtt_sam2.adapter import Sam2Adapter
from qtt_sam2.meta import meta_dataset_spec

INSTALL_HINT = "SAM 2 needs the sam2 package: pip install qtt-seg[sam2]"


def _sam2_installed() -> bool:
    """Whether ``sam2`` can be imported (found without importing it: that takes seconds)."""
    try:
        return importlib.util.find_spec("sam2") is not None
    except (ImportError, ValueError):
        return False


if not _sam2_installed():
    raise ImportError(INSTALL_HINT)


@hookimpl
def qtt_model_adapters():
    return [Sam2Adapter()]


@hookimpl
def qtt_meta_datasets():
    return [meta_dataset_spec()]
