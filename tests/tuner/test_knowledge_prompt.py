"""A run starts only from knowledge of its own prompt protocol: the shipped predictors whose spec
has the run's ``prompt``, ``--meta-dataset`` and ``--predictors`` of that protocol; else none."""

from __future__ import annotations

import logging

import pytest
import torch
from helpers import registry_with

from qtt_core.errors import UsageError
from qtt_core.metadataset.io import write_meta_dataset
from qtt_core.registry import Registry
from qtt_core.specs import MetaDatasetSpec
from qtt_core.surrogates import meta_train_predictors, save_predictors
from qtt_core.testing import MockAdapter, synthetic_meta_dataset
from qtt_core.tuner.knowledge import check_knowledge, find_knowledge
from qtt_core.tuner.settings import TuneSettings


@pytest.fixture(scope="module")
def space():
    return Registry(autoload=False).load_space("sam-lora")


@pytest.fixture(scope="module")
def recorded(space, tmp_path_factory):
    """Per protocol: a meta-dataset file and a folder of small predictors fitted on it."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("knowledge")
    found = {}
    for prompt in ("box", "none"):
        meta = synthetic_meta_dataset(space, {"a": 0.6, "b": 0.9}, 12, seed=0)
        meta.prompt, meta.space = prompt, "sam-lora"
        pair = meta_train_predictors(meta, space, steps=3, n_pairs=100, prior_points=50)
        found[prompt] = (write_meta_dataset(meta, root / f"{prompt}.csv"), save_predictors(root / prompt, *pair))
    return found


def _registry(*specs: MetaDatasetSpec, space: str = "sam-lora") -> tuple[Registry, MockAdapter]:
    adapter = MockAdapter(epoch_cost_s=0.0, space=space)
    return registry_with(adapter, meta_datasets=specs), adapter


def _spec(recorded, prompt: str, model: str = "mock") -> MetaDatasetSpec:
    return MetaDatasetSpec(name=f"{model}-{prompt}", models=(model,), space="sam-lora", predictors=recorded[prompt][1], prompt=prompt)


def _settings(prompt: str, **options) -> TuneSettings:
    return TuneSettings(data="data", budget_s=10.0, model="mock", optimizer="quick", prompt=prompt, **options)


def _find(registry, adapter, space, settings):
    check_knowledge(settings, registry)
    return find_knowledge(settings, registry, adapter, space)


@pytest.mark.parametrize("prompt", ["box", "none"])
def test_the_model_starts_from_its_shipped_predictors_of_the_run_protocol(space, recorded, prompt):
    registry, adapter = _registry(_spec(recorded, "box"), _spec(recorded, "none"))
    knowledge = _find(registry, adapter, space, _settings(prompt))
    assert knowledge.description == f"shipped with the plugin (mock-{prompt})"
    performance, cost = knowledge.options["predictors"]
    assert performance.prompt == cost.prompt == prompt


def test_the_same_space_fallback_keeps_to_the_protocol(space, recorded):
    registry, adapter = _registry(_spec(recorded, "none", model="another"))
    knowledge = _find(registry, adapter, space, _settings("none"))
    assert knowledge.description.startswith("performance predictor of another-none's meta-dataset (same space sam-lora)")
    assert knowledge.options["predictors"][0].prompt == "none"

    knowledge = _find(registry, adapter, space, _settings("box"))  # the built-in sam-nano box spec, on sam-lora too
    assert knowledge.description.startswith("performance predictor of qtt-seg-sam-nano's meta-dataset (same space sam-lora)")
    assert knowledge.options["predictors"][0].prompt == "box"  # shipped before protocols were recorded: box


def test_without_predictors_of_the_protocol_the_run_learns_from_itself(space, recorded, caplog):
    # a space no shipped meta-dataset was recorded on (sam-nano ships none predictors for sam-lora)
    registry, adapter = _registry(_spec(recorded, "box"), space="a-space-without-recorded-runs")
    with caplog.at_level(logging.WARNING, logger="qtt_seg.tune"):
        knowledge = _find(registry, adapter, space, _settings("none"))
    assert knowledge.description == "none (no meta-trained predictors for prompt protocol 'none'; learning from this run only)"
    assert knowledge.options == {} and knowledge.meta_train is None and knowledge.best_recorded == []
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no meta-trained predictors for mock" in m and "prompt protocol 'none'" in m for m in warning), warning


@pytest.mark.parametrize(("theirs", "ours"), [("none", "box"), ("box", "none")])
def test_a_meta_dataset_or_predictors_of_another_protocol_are_refused_at_the_check(space, recorded, theirs, ours):
    registry, adapter = _registry()
    file, folder = recorded[theirs]
    with pytest.raises(UsageError) as error:
        check_knowledge(_settings(ours, meta_dataset=str(file)), registry)
    message = str(error.value)
    assert "\n" not in message and f"--meta-dataset {file} holds runs with prompt protocol {theirs!r}, this run uses {ours!r}" in message
    assert f"meta build --prompt {ours}" in message
    with pytest.raises(UsageError, match=f"prompt protocol {theirs!r}, this run uses {ours!r}"):
        find_knowledge(_settings(ours, meta_dataset=str(file)), registry, adapter, space)  # an API caller that skipped the check
    with pytest.raises(UsageError, match=f"predictors in .* prompt protocol {theirs!r}, this run uses {ours!r}"):
        check_knowledge(_settings(ours, predictors=str(folder)), registry)

    knowledge = _find(registry, adapter, space, _settings(theirs, meta_dataset=str(file)))
    assert knowledge.meta_train.prompt == theirs and knowledge.description == f"meta-trained on {file}"
    knowledge = _find(registry, adapter, space, _settings(theirs, predictors=str(folder)))
    assert knowledge.description == f"from {folder}" and knowledge.options["predictors"][0].prompt == theirs
