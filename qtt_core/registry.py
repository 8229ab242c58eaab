"""The registry: owns the plugin manager and indexes what plugins contribute.

There is no module-global plugin manager: build a :class:`Registry` (tests build a fresh one
each time). Built-in providers are registered as default plugins, third-party plugins come
from the entry-point group ``qtt_seg`` unless ``QTT_SEG_DISABLE_PLUGIN_AUTOLOAD`` is set,
and ``QTT_SEG_PLUGINS`` (comma-separated module names) registers plugins explicitly, the way
``PYTEST_PLUGINS`` does.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy

from qtt_core import hookspecs
from qtt_core.adapter import ModelAdapter
from qtt_core.errors import UnknownNameError, UsageError
from qtt_core.specs import MetaDatasetSpec, MetaFeatureExtractor, OptimizerSpec, SearchSpaceSpec, SurrogateSpec

__all__ = ["DuplicateNameWarning", "PluginInfo", "Registry", "DISABLE_AUTOLOAD_ENV", "PLUGINS_ENV"]

DISABLE_AUTOLOAD_ENV = "QTT_SEG_DISABLE_PLUGIN_AUTOLOAD"
PLUGINS_ENV = "QTT_SEG_PLUGINS"
DEFAULT_PLUGINS = ("qtt_core.builtin",)

T = TypeVar("T")


class DuplicateNameWarning(UserWarning):
    """A plugin contributed a name that another plugin had already taken."""


@dataclass
class PluginInfo:
    """One plugin as ``qtt-seg plugins`` shows it.

    Attributes:
        name: the plugin's registered name (entry-point name or module name).
        version: version of the distribution that ships it ("" when unknown).
        hooks: names of the hooks it implements.
        available: False when importing it failed (``reason`` says why and how to fix).
    """

    name: str
    version: str = ""
    hooks: list[str] = field(default_factory=list)
    available: bool = True
    reason: str = ""
    contributes: dict[str, list[str]] = field(default_factory=dict)


class _Index(Generic[T]):
    """Items of one kind by name, with a clear error for unknown names."""

    def __init__(self, kind: str, items: Iterable[tuple[str, T]]):
        self.kind = kind
        self._items: dict[str, T] = {}
        for name, item in items:
            if name in self._items:
                warnings.warn(
                    f"{kind} {name!r} registered twice; the later registration replaces the earlier",
                    DuplicateNameWarning,
                    stacklevel=3,
                )
            self._items[name] = item

    def names(self) -> list[str]:
        return sorted(self._items)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._items.items())


class Registry:
    """Owns a pluggy ``PluginManager`` and the indexes built from its hooks.

    Args:
        autoload: load plugins from the ``qtt_seg`` entry-point group. None (default) reads
            ``QTT_SEG_DISABLE_PLUGIN_AUTOLOAD``: autoload unless it is set to a non-empty value.
        plugins: extra plugin modules or objects to register (after the default plugins).
        trace: print every hook call (for debugging plugins).
    """

    def __init__(
        self,
        autoload: bool | None = None,
        plugins: Iterable[ModuleType | object | str] = (),
        trace: bool = False,
    ):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        if trace:
            self.pm.trace.root.setwriter(print)
            self.pm.enable_tracing()
        self._info: dict[str, PluginInfo] = {}
        for module_name in DEFAULT_PLUGINS:
            self.register(importlib.import_module(module_name), name=module_name)
        if autoload is None:
            autoload = not os.environ.get(DISABLE_AUTOLOAD_ENV)
        if autoload:
            self._load_entry_points()
        for module_name in filter(None, os.environ.get(PLUGINS_ENV, "").split(",")):
            self.register(module_name.strip())
        for plugin in plugins:
            self.register(plugin)
        self._cache: dict[str, _Index[Any]] = {}

    # -- registration ---------------------------------------------------------------------

    def register(self, plugin: ModuleType | object | str, name: str | None = None, version: str = "") -> None:
        """Register a plugin module, object, or importable module name."""
        if isinstance(plugin, str):
            name = name or plugin
            try:
                plugin = importlib.import_module(plugin)
            except ImportError as error:
                self._info[name] = PluginInfo(name, version, available=False, reason=str(error))
                return
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if self.pm.is_registered(plugin) or self.pm.get_plugin(name) is not None:
            return
        self.pm.register(plugin, name=name)
        hooks = sorted(h.name for h in (self.pm.get_hookcallers(plugin) or []))
        self._info[name] = PluginInfo(name, version, hooks)
        self._cache = {}

    def _load_entry_points(self) -> None:
        for entry_point in importlib.metadata.entry_points(group=hookspecs.PROJECT_NAME):
            version = entry_point.dist.version if entry_point.dist else ""
            if self.pm.get_plugin(entry_point.name) is not None:
                continue
            try:
                plugin = entry_point.load()
            except ImportError as error:
                self._info[entry_point.name] = PluginInfo(
                    entry_point.name, version, available=False, reason=str(error)
                )
                continue
            self.register(plugin, name=entry_point.name, version=version)

    # -- lookups ----------------------------------------------------------------------------

    def _index(self, hook: str, kind: str, key: Callable[[Any], str]) -> _Index[Any]:
        if hook not in self._cache:
            caller = getattr(self.pm.hook, hook)
            # pluggy returns results last-registered first; index in registration order
            results = list(reversed(caller()))
            self._cache[hook] = _Index(kind, ((key(item), item) for result in results for item in result))
        return self._cache[hook]

    @property
    def adapters(self) -> _Index[ModelAdapter]:
        return self._index("qtt_model_adapters", "model adapter", lambda a: a.name)

    @property
    def models(self) -> _Index[ModelAdapter]:
        """Adapters indexed by each model name they provide."""
        if "models" not in self._cache:
            pairs = [(m, a) for _, a in self.adapters.items() for m in a.model_names()]
            self._cache["models"] = _Index("model", pairs)
        return self._cache["models"]

    @property
    def spaces(self) -> _Index[SearchSpaceSpec]:
        return self._index("qtt_search_spaces", "search space", lambda s: s.name)

    @property
    def extractors(self) -> _Index[MetaFeatureExtractor]:
        return self._index("qtt_meta_feature_extractors", "meta-feature extractor", lambda e: e.name)

    @property
    def surrogates(self) -> _Index[SurrogateSpec]:
        return self._index("qtt_surrogates", "surrogate", lambda s: s.name)

    @property
    def optimizers(self) -> _Index[OptimizerSpec]:
        return self._index("qtt_optimizers", "optimiser", lambda o: o.name)

    @property
    def meta_datasets(self) -> _Index[MetaDatasetSpec]:
        return self._index("qtt_meta_datasets", "meta-dataset", lambda m: m.name)

    def default_model(self) -> str:
        """The model used when none is named: the first registered adapter's that names one.

        Raises:
            UsageError: no installed plugin names a default model.
        """
        for _, adapter in self.adapters.items():
            model = adapter.default_model()
            if model:
                return model
        raise UsageError(f"no installed plugin names a default model; pass --model (known: {', '.join(self.models.names()) or 'none'})")

    def adapter_for(self, model: str) -> ModelAdapter:
        """The adapter that provides ``model``; the error lists the known model names."""
        return self.models.get(model)

    def load_space(self, name_or_path: str | Path):
        """A ``ConfigurationSpace`` by registry name, or from a YAML file path."""
        from qtt_core.space.loading import load_space_file

        path = Path(name_or_path)
        if str(name_or_path).endswith((".yaml", ".yml", ".json")) or path.is_file():
            return load_space_file(path)
        return self.spaces.get(str(name_or_path)).load()

    # -- description ------------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """Every plugin seen, available or not, with what it contributes."""
        hooks = {
            "models": ("qtt_model_adapters", lambda a: a.model_names()),
            "search_spaces": ("qtt_search_spaces", lambda s: [s.name]),
            "meta_feature_extractors": ("qtt_meta_feature_extractors", lambda e: [e.name]),
            "surrogates": ("qtt_surrogates", lambda s: [s.name]),
            "optimizers": ("qtt_optimizers", lambda o: [o.name]),
            "meta_datasets": ("qtt_meta_datasets", lambda m: [m.name]),
            "default_model": ("qtt_model_adapters", lambda a: [a.default_model()] if a.default_model() else []),
        }
        infos = []
        for name, info in self._info.items():
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                info.version = info.version or _module_version(plugin)
                info.contributes = {}
                for key, (hook, names) in hooks.items():
                    impl = getattr(plugin, hook, None)
                    if impl is not None:
                        info.contributes[key] = sorted(n for item in impl() for n in names(item))
            infos.append(info)
        return infos


@functools.cache
def _distributions_by_package() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def _module_version(plugin: object) -> str:
    top = getattr(plugin, "__name__", type(plugin).__module__).split(".")[0]
    try:
        dist = _distributions_by_package().get(top, [])
        return importlib.metadata.version(dist[0]) if dist else ""
    except Exception:  # noqa: BLE001 - a version is cosmetic
        return ""
