"""The registry: default plugins, entry points, the autoload switch, names and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qtt_core.errors import UnknownNameError
from qtt_core.hookspecs import hookimpl
from qtt_core.registry import DuplicateNameWarning, Registry
from qtt_core.specs import SearchSpaceSpec
from qtt_core.testing import MockAdapter, check_adapter

TOY_PLUGIN = '''
from pathlib import Path
from qtt_core import hookimpl
from qtt_core.specs import SearchSpaceSpec
from qtt_core.space import load_space_file
from qtt_core.testing import MockAdapter


class ToyAdapter(MockAdapter):
    name = "toy"

    def model_names(self):
        return ["toy-model"]

    def default_space(self, model):
        return "toy-space"


class ToyExtractor:
    name = "toy-features"
    feature_names = ("num_train",)

    def extract(self, data, seed=0):
        return {"num_train": float(len(data.split("train")))}


@hookimpl
def qtt_model_adapters():
    return [ToyAdapter()]


@hookimpl
def qtt_search_spaces():
    path = Path(__file__).with_name("toy-space.yaml")
    return [SearchSpaceSpec("toy-space", lambda: load_space_file(path), "a toy space")]


@hookimpl
def qtt_meta_feature_extractors():
    return [ToyExtractor()]
'''

TOY_SPACE = """
hyperparameters:
- {name: lr, type: ordinal, sequence: [0.0001, 0.001], default_value: 0.001, meta: {log: true}}
- {name: batch_size, type: ordinal, sequence: [1, 2], default_value: 1, meta: null}
conditions: []
forbiddens: []
python_module_version: 1.2.0
format_version: 0.4
"""


@pytest.fixture
def toy_distribution(tmp_path, monkeypatch):
    """A throwaway installed distribution with a ``qtt_seg`` entry point, on sys.path."""
    package = tmp_path / "toy_qtt_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(TOY_PLUGIN)
    (package / "toy-space.yaml").write_text(TOY_SPACE)
    info = tmp_path / "toy_qtt_plugin-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-qtt-plugin\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[qtt_seg]\ntoy = toy_qtt_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("QTT_SEG_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return tmp_path


def test_builtin_providers_register_as_default_plugins():
    registry = Registry(autoload=False)
    assert {"sam-lora", "qtt-seg-sam2"} <= set(registry.spaces.names())
    assert "default" in registry.extractors.names()
    assert any(info.name == "qtt_core.builtin" for info in registry.plugins())


def test_third_party_plugin_found_through_entry_point(toy_distribution):
    registry = Registry()
    adapter = registry.adapter_for("toy-model")
    assert adapter.name == "toy"
    assert registry.load_space(adapter.default_space("toy-model"))["lr"].sequence == (0.0001, 0.001)
    info = next(i for i in registry.plugins() if i.name == "toy")
    assert info.version == "0.3" and info.available
    assert info.contributes["models"] == ["toy-model"]
    check_adapter(adapter, registry=registry)  # and it is usable end to end through the core's checks


def test_third_party_plugin_listed_by_the_command_line(toy_distribution):
    env = {**os.environ, "PYTHONPATH": f"{toy_distribution}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("QTT_SEG_DISABLE_PLUGIN_AUTOLOAD", None)
    out = subprocess.run(
        [sys.executable, "-m", "qtt_core.cli.main", "plugins", "--json"], capture_output=True, text=True, env=env, check=True
    )
    plugins = {p["name"]: p for p in json.loads(out.stdout)["plugins"]}
    assert plugins["toy"]["contributes"]["search_spaces"] == ["toy-space"]


def test_autoload_can_be_turned_off(toy_distribution, monkeypatch):
    monkeypatch.setenv("QTT_SEG_DISABLE_PLUGIN_AUTOLOAD", "1")
    with pytest.raises(UnknownNameError):
        Registry().adapter_for("toy-model")
    assert Registry(autoload=True).adapter_for("toy-model").name == "toy"


def test_plugins_env_registers_modules_explicitly(toy_distribution, monkeypatch):
    monkeypatch.setenv("QTT_SEG_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("QTT_SEG_PLUGINS", "toy_qtt_plugin")
    assert Registry().adapter_for("toy-model").name == "toy"


def test_unknown_name_lists_known_names():
    with pytest.raises(UnknownNameError, match=r"unknown search space 'nope'; known: .*qtt-seg-sam2.*sam-lora"):
        Registry(autoload=False).load_space("nope")


def test_second_provider_under_a_taken_name_warns_and_replaces():
    class Plugin:
        @hookimpl
        def qtt_search_spaces(self):
            return [SearchSpaceSpec("sam-lora", lambda: "replacement", "a replacement")]

    registry = Registry(autoload=False, plugins=[Plugin()])
    with pytest.warns(DuplicateNameWarning, match="sam-lora"):
        spec = registry.spaces.get("sam-lora")
    assert spec.load() == "replacement"


def test_a_plugin_that_fails_to_import_is_listed_as_unavailable(monkeypatch):
    monkeypatch.setenv("QTT_SEG_PLUGINS", "no_such_module_for_qtt")
    info = {i.name: i for i in Registry(autoload=False).plugins()}["no_such_module_for_qtt"]
    assert not info.available and "no_such_module_for_qtt" in info.reason


def test_registries_are_independent():
    first = Registry(autoload=False, plugins=[MockAdapterPlugin()])
    second = Registry(autoload=False)
    assert "mock" in first.models.names()
    assert "mock" not in second.models.names()


class MockAdapterPlugin:
    @hookimpl
    def qtt_model_adapters(self):
        return [MockAdapter()]


def test_trace_option_prints_hook_calls(capsys):
    Registry(autoload=False, trace=True).spaces.names()
    assert "qtt_search_spaces" in capsys.readouterr().out


def test_the_default_model_is_the_one_a_plugin_names(monkeypatch):
    from helpers import registry_with

    from qtt_core.errors import UsageError
    from qtt_core.testing import MockAdapter

    assert Registry().default_model() == "sam-nano"  # the SAM plugin's offline model
    monkeypatch.delenv("QTT_SEG_PLUGINS", raising=False)  # the mock model alone
    with pytest.raises(UsageError, match="no installed plugin names a default model; pass --model"):
        registry_with(MockAdapter()).default_model()
