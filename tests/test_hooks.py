"""Every hook is documented (docstring and README, exact signature) and has a test here.

Like datasette's own checks: a new hook in qtt_core/hookspecs.py fails these tests until it is
documented in the README's plugin section and a ``test_hook_<name>`` exists below.
"""

from __future__ import annotations

import inspect
import re

import pytest

from helpers import REPO_ROOT
from qtt_core import hookspecs
from qtt_core.adapter import ModelAdapter
from qtt_core.registry import Registry
from qtt_core.specs import MetaDatasetSpec, MetaFeatureExtractor, SearchSpaceSpec, SurrogateSpec

HOOKS = sorted(
    name for name, fn in vars(hookspecs).items() if name.startswith("qtt_") and inspect.isfunction(fn)
)


def test_hook_names_carry_the_project_prefix():
    assert HOOKS, "no hooks found"
    for name, fn in vars(hookspecs).items():
        if inspect.isfunction(fn) and hasattr(fn, "qtt_seg_spec"):
            assert name.startswith("qtt_"), name


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring_with_returns(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Returns:" in doc, f"{hook}: document what it returns"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_in_readme_with_exact_signature(hook):
    readme = (REPO_ROOT / "README.md").read_text()
    parameters = inspect.signature(getattr(hookspecs, hook)).replace(return_annotation=inspect.Signature.empty)
    signature = f"{hook}{parameters}"
    assert signature in readme, f"README.md must document `{signature}`"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    source = (REPO_ROOT / "tests" / "test_hooks.py").read_text()
    assert re.search(rf"^def test_hook_{hook}\(", source, re.M), f"write test_hook_{hook} in tests/test_hooks.py"


# --- one test per hook: what the registered plugins return through it is well formed ------


def _results(hook: str) -> list:
    registry = Registry()
    return [item for result in getattr(registry.pm.hook, hook)() for item in result]


def test_hook_qtt_model_adapters():
    adapters = _results("qtt_model_adapters")
    for adapter in adapters:
        assert isinstance(adapter, ModelAdapter) and adapter.name and adapter.model_names()
    names = [m for a in adapters for m in a.model_names()]
    assert len(names) == len(set(names)), "model names must be unique across adapters"


def test_hook_qtt_search_spaces():
    specs = _results("qtt_search_spaces")
    assert {"sam-lora", "qtt-seg-sam2"} <= {s.name for s in specs}
    assert all(isinstance(s, SearchSpaceSpec) and callable(s.load) for s in specs)


def test_hook_qtt_meta_feature_extractors():
    extractors = _results("qtt_meta_feature_extractors")
    assert "default" in {e.name for e in extractors}
    assert all(isinstance(e, MetaFeatureExtractor) for e in extractors)


def test_hook_qtt_surrogates():
    for spec in _results("qtt_surrogates"):
        assert isinstance(spec, SurrogateSpec) and spec.kind in {"performance", "cost"} and callable(spec.factory)


def test_hook_qtt_meta_datasets():
    for spec in _results("qtt_meta_datasets"):
        assert isinstance(spec, MetaDatasetSpec) and spec.models and spec.space
        assert spec.path is None or spec.path.is_file(), f"{spec.name}: {spec.path} missing"
