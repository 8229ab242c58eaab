"""Registers the SAM adapter, and sam-nano's meta-datasets and predictors (one per prompt
protocol recorded), with qtt-seg (entry point ``sam = "qtt_sam.plugin"``)."""

from __future__ import annotations

from qtt_core.hookspecs import hookimpl
from qtt_sam.adapter import SamAdapter
from qtt_sam.nano.meta import meta_dataset_specs


@hookimpl
def qtt_model_adapters():
    return [SamAdapter()]


@hookimpl
def qtt_meta_datasets():
    return meta_dataset_specs()
