"""Registers the SAM adapter with qtt-seg (entry point ``sam = "qtt_sam.plugin"``)."""

from __future__ import annotations

from qtt_core.hookspecs import hookimpl
from qtt_sam.adapter import SamAdapter


@hookimpl
def qtt_model_adapters():
    return [SamAdapter()]
