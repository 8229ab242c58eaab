"""A :class:`~qtt_core.adapter.ModelAdapter` for any :class:`~qtt_engine.protocol.PromptableModel`.

A plugin for a promptable model writes its wrapper and registers one of these; sessions,
freeze-thaw, evaluation, export and loading tuned weights are the engine's. Constructing it
imports nothing heavy: the wrapper factory is called only when a session opens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtt_core.adapter import ModelAdapter, SessionRequest
from qtt_core.errors import UnknownNameError

if TYPE_CHECKING:
    from qtt_engine.export import TunedSegmenter
    from qtt_engine.protocol import PromptableModel
    from qtt_engine.session import EngineSession

__all__ = ["PromptableAdapter"]


class PromptableAdapter(ModelAdapter):
    """Models of one family, tuned by the engine through their wrapper.

    Args:
        name: the adapter's name (``qtt-seg plugins``).
        models: the model names it provides, largest first (the conformance checks use the last).
        make_wrapper: ``(model, checkpoint) -> PromptableModel``; import the model's libraries
            inside it, not at module level.
        default_space: the search space of every model, or one per model name.
        default_model: the model ``tune`` uses when none is given (one that works offline), or None.
        prompt_free: the wrappers implement :class:`~qtt_engine.protocol.PromptFreeModel`, so
            the models are tuned without prompts too (``--prompt none``).
    """

    def __init__(
        self,
        name: str,
        models: Sequence[str],
        make_wrapper: Callable[[str, str | Path | None], PromptableModel],
        default_space: str | Mapping[str, str],
        default_model: str | None = None,
        prompt_free: bool = False,
    ):
        self.name = name
        self._models = list(models)
        self._make_wrapper = make_wrapper
        self._default_space = default_space
        self._default_model = default_model
        self._prompt_free = prompt_free

    def model_names(self) -> list[str]:
        return list(self._models)

    def default_model(self) -> str | None:
        return self._default_model

    def prompt_protocols(self) -> list[str]:
        """Box prompts, and none when the wrappers can (the engine's class head, :mod:`qtt_engine.dense`)."""
        return ["box", "none"] if self._prompt_free else ["box"]

    def default_space(self, model: str) -> str:
        if isinstance(self._default_space, str):
            return self._default_space
        return self._default_space[model]

    def wrapper(self, model: str, checkpoint: str | Path | None = None) -> PromptableModel:
        """The wrapper of ``model`` (its library is imported now).

        Raises:
            UnknownNameError: ``model`` is not one of this adapter's (the message lists them).
        """
        if model not in self._models:
            raise UnknownNameError(f"unknown model {model!r} for {self.name}; known: {', '.join(self._models)}")
        return self._make_wrapper(model, checkpoint)

    def open_session(self, request: SessionRequest) -> EngineSession:
        from qtt_engine.session import EngineSession

        return EngineSession(self.wrapper(request.model, request.checkpoint), request)

    def load_tuned(self, weights_dir: Path, device: str = "cpu") -> TunedSegmenter:
        """A tuned model from a folder that a session's ``export`` wrote; the base weights come
        from where tuning took them (the recorded checkpoint, the cache, or a seeded initialisation)."""
        from qtt_engine.export import load_tuned

        return load_tuned(weights_dir, self._wrapper_from_description, device)

    def _wrapper_from_description(self, description: dict[str, Any]) -> PromptableModel:
        return self.wrapper(description["model"], description.get("checkpoint"))
