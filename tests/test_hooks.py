"""Every hook is documented (docstring and README, exact signature) and has a test here.

Like datasette's own checks: a new hook in qtt_core/hookspecs.py fails these tests until it is
documented in the README's plugin section and a ``test_hook_<name>`` exists below.
"""

from __future__ import annotations

import inspect
import re

import pytest

from helpers import REPO_ROOT, registry_with
from qtt_core import hookimpl, hookspecs
from qtt_core.adapter import ModelAdapter
from qtt_core.errors import UsageError
from qtt_core.registry import Registry
from qtt_core.specs import MetaDatasetSpec, MetaFeatureExtractor, OptimizerSpec, SearchSpaceSpec, SurrogateSpec

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


def test_hook_qtt_optimizers():
    specs = _results("qtt_optimizers")
    assert {"quick", "quick-nometa", "random", "portfolio"} <= {s.name for s in specs}
    assert all(isinstance(s, OptimizerSpec) and callable(s.factory) for s in specs)


class _FirstCandidateOnly:
    """A throwaway plugin: optimiser ``first-only`` trains the pool's first candidate and nothing else."""

    @hookimpl
    def qtt_optimizers(self):
        from qtt_core.optimizer.baselines import RandomSearch

        def factory(*, candidates, max_epochs, seed, **_):
            return RandomSearch(candidates[:1], max_epochs=max_epochs, seed=seed)

        return [OptimizerSpec("first-only", factory, "the first candidate only")]


def test_a_plugin_optimiser_is_what_tune_runs(tmp_path):
    from qtt_core.space import config_id
    from qtt_core.testing import MockAdapter, make_shapes_data
    from qtt_core.tuner import tune

    registry = registry_with(MockAdapter())
    registry.register(_FirstCandidateOnly(), name="first-only-plugin")
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    result = tune(data, 6.0, out=tmp_path / "run", registry=registry, model="mock", optimizer="first-only", max_epochs=2, device="cpu")
    default = config_id(dict(registry.load_space("sam-lora").get_default_configuration()))
    assert result.n_trials == 1 and result.best_config_id == default  # the pool starts with the space's default
    with pytest.raises(UsageError, match="first-only"):
        tune(data, 6.0, out=tmp_path / "other", registry=registry, model="mock", optimizer="second-only", device="cpu")
    assert not (tmp_path / "other").exists()


class _ConstantFeatures:
    """A throwaway plugin: extractor ``constant`` describes every dataset the same way."""

    name = "constant"
    feature_names = ("n_images", "flatness")

    def extract(self, data, seed=0):
        return {"n_images": 1000.0, "flatness": 0.5}

    @hookimpl
    def qtt_meta_feature_extractors(self):
        return [self]


def test_a_plugin_extractor_is_what_tune_describes_the_data_with(tmp_path, caplog):
    import json

    from qtt_core.testing import MockAdapter, make_shapes_data
    from qtt_core.tuner import tune

    registry = registry_with(MockAdapter())
    registry.register(_ConstantFeatures(), name="constant-plugin")
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    tune(data, 6.0, out=tmp_path / "run", registry=registry, model="mock", optimizer="quick", extractor="constant", max_epochs=2, device="cpu")
    assert json.loads((tmp_path / "run" / "state.json").read_text())["metafeatures"] == {"n_images": 1000.0, "flatness": 0.5}
    assert "meta-features extractor 'constant' does not give" in caplog.text  # sam-nano's predictors know others
    with pytest.raises(UsageError, match="constant"):
        tune(data, 6.0, out=tmp_path / "other", registry=registry, model="mock", extractor="nothing", device="cpu")
    assert not (tmp_path / "other").exists()


class _CountingSurrogate:
    """A throwaway plugin: surrogate ``counting-dkl`` is the deep-kernel GP, counted as it is built."""

    def __init__(self):
        self.built = []

    @hookimpl
    def qtt_surrogates(self):
        from qtt_core.surrogates import PerformancePredictor

        def factory(**kwargs):
            self.built.append(PerformancePredictor(**kwargs))
            return self.built[-1]

        return [SurrogateSpec("counting-dkl", "performance", factory, "the deep-kernel GP, counted")]


def test_a_plugin_surrogate_is_what_quick_fits(tmp_path):
    from qtt_core.testing import MockAdapter, make_shapes_data
    from qtt_core.tuner import tune

    plugin = _CountingSurrogate()
    registry = registry_with(MockAdapter())
    registry.register(plugin, name="counting-plugin")
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    result = tune(data, 6.0, out=tmp_path / "run", registry=registry, model="mock", optimizer="quick-nometa", surrogate="counting-dkl,gp-cost", max_epochs=2, device="cpu")
    assert len(plugin.built) == 1 and "surrogate counting-dkl" in result.predictors
    for options, message in [
        ({"optimizer": "quick-nometa", "surrogate": "dkl,counting-dkl"}, "two performance predictors"),
        ({"optimizer": "quick", "surrogate": "counting-dkl"}, "with shipped predictors"),
        ({"optimizer": "random", "surrogate": "counting-dkl"}, "--optimizer random"),
        ({"optimizer": "quick-nometa", "surrogate": "nothing"}, "counting-dkl"),
    ]:
        with pytest.raises(UsageError, match=message):
            tune(data, 6.0, out=tmp_path / "other", registry=registry, model="mock", device="cpu", **options)
    assert not (tmp_path / "other").exists()


def test_hook_qtt_meta_datasets():
    for spec in _results("qtt_meta_datasets"):
        assert isinstance(spec, MetaDatasetSpec) and spec.models and spec.space
        assert spec.path is None or spec.path.is_file(), f"{spec.name}: {spec.path} missing"
