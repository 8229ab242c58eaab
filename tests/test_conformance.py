"""Conformance checks generated over everything registered: a new adapter, space or extractor
is tested automatically (like scikit-learn's ``parametrize_with_checks``)."""

from __future__ import annotations

import pytest

from helpers import SAM2_INSTALL
from qtt_core.installed import package_installed
from qtt_core.registry import Registry
from qtt_core.testing import MockAdapter, check_adapter, check_extractor, check_space

_REGISTRY = Registry()


def _adapter_params():
    # the smallest model of each adapter (last name by convention); the mock as a reference
    params = [pytest.param(MockAdapter(), "mock", id="mock")]
    for name, adapter in _REGISTRY.adapters.items():
        params.append(pytest.param(adapter, adapter.model_names()[-1], id=f"{name}:{adapter.model_names()[-1]}"))
    if "sam2" not in dict(_REGISTRY.adapters.items()) and not package_installed("sam2", "build_sam"):
        reason = f"needs the optional sam2 package (SAM 2); to run: {SAM2_INSTALL}"
        params.append(pytest.param(None, "sam2-test", id="sam2:sam2-test", marks=pytest.mark.skip(reason=reason)))
    return params


@pytest.mark.parametrize(("adapter", "model"), _adapter_params())
def test_adapter_conformance(adapter, model):
    check_adapter(adapter, model=model, registry=_REGISTRY)


@pytest.mark.parametrize("spec", [s for _, s in _REGISTRY.spaces.items()], ids=lambda s: s.name)
def test_space_conformance(spec):
    check_space(spec)


@pytest.mark.parametrize("extractor", [e for _, e in _REGISTRY.extractors.items()], ids=lambda e: e.name)
def test_extractor_conformance(extractor):
    check_extractor(extractor)


def test_every_registered_plugin_loaded():
    broken = [f"{i.name}: {i.reason}" for i in _REGISTRY.plugins() if not i.available]
    assert not broken, broken
