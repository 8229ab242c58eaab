"""Registers the template's model and search space with qtt-seg.

The entry point ``template = "qtt_template.plugin"`` (``pyproject.toml``) points here. This
module is imported by every ``qtt-seg`` command, so it imports nothing heavy: torch and the
model come in when a session opens (``make_wrapper``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from qtt_core.hookspecs import hookimpl
from qtt_core.specs import SearchSpaceSpec
from qtt_engine.adapter import PromptableAdapter

from qtt_template.architectures import ARCHITECTURES

SPACE_NAME = "template-space"
SPACE_FILE = Path(str(files("qtt_template") / "template-space.yaml"))


def make_wrapper(model: str, checkpoint: str | Path | None):
    """The engine's view of ``model`` (``qtt_engine.protocol.PromptableModel``); imports torch."""
    from qtt_template.wrapper import TemplateWrapper

    return TemplateWrapper(model, checkpoint)


def _load_space():
    from qtt_core.space.loading import load_space_file

    return load_space_file(SPACE_FILE)


@hookimpl
def qtt_model_adapters():
    """One adapter for every model of ``ARCHITECTURES``; sessions, freeze-thaw and export are the engine's."""
    return [PromptableAdapter("template", list(ARCHITECTURES), make_wrapper, default_space=SPACE_NAME)]


@hookimpl
def qtt_search_spaces():
    """The template's own space (``qtt-seg space show template-space``)."""
    return [SearchSpaceSpec(SPACE_NAME, _load_space, "template: lr, optimiser, schedule, loss, batch, LoRA rank/targets, decoder on/off", SPACE_FILE)]
