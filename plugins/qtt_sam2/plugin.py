"""Registers the SAM 2 adapter with qtt-seg (entry point ``sam2 = "qtt_sam2.plugin"``).

Without the ``sam2`` package, importing this module raises ImportError with the install
command; the registry then lists the plugin as unavailable with that reason.
"""

from __future__ import annotations

from qtt_core.hookspecs import hookimpl
from qtt_core.installed import package_installed
from qtt_sam2.adapter import Sam2Adapter
from qtt_sam2.meta import meta_dataset_spec

INSTALL_HINT = "SAM 2 needs the sam2 package: pip install qtt-seg[sam2]"


if not package_installed("sam2", "build_sam"):
    raise ImportError(INSTALL_HINT)


@hookimpl
def qtt_model_adapters():
    return [Sam2Adapter()]


@hookimpl
def qtt_meta_datasets():
    return [meta_dataset_spec()]
