"""Predictors belong to the prompt protocol of their meta-dataset: saved with it, refused for another."""

from __future__ import annotations

import json

import pytest
import torch

from qtt_core.errors import UsageError
from qtt_core.metadataset.io import write_meta_dataset
from qtt_core.surrogates import load_predictors, meta_train_predictors, save_predictors
from qtt_core.surrogates.pair import load_predictors_for
from qtt_core.testing import synthetic_meta_dataset


def _meta(space, prompt: str):
    meta = synthetic_meta_dataset(space, {"a": 0.6, "b": 0.9}, 12, seed=0)
    meta.prompt = prompt
    return meta


@pytest.fixture(scope="module")
def saved(space, tmp_path_factory):
    """Folders of small predictors fitted on a ``box`` and on a ``none`` meta-dataset."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("predictors")
    return {
        prompt: save_predictors(root / prompt, *meta_train_predictors(_meta(space, prompt), space, steps=3, n_pairs=100, prior_points=50))
        for prompt in ("box", "none")
    }


def test_the_protocol_is_saved_and_loaded_with_both_predictors(saved):
    for prompt, folder in saved.items():
        assert [json.loads((folder / f"{stem}.json").read_text())["prompt"] for stem in ("performance", "cost")] == [prompt] * 2
        performance, cost = load_predictors(folder)
        assert (performance.prompt, cost.prompt) == (prompt, prompt)


@pytest.mark.parametrize(("theirs", "ours"), [("none", "box"), ("box", "none")])
def test_predictors_of_another_protocol_are_refused(space, saved, theirs, ours):
    with pytest.raises(UsageError) as error:
        load_predictors_for(saved[theirs], space, prompt=ours)
    message = str(error.value)
    assert "\n" not in message and str(saved[theirs]) in message
    assert f"prompt protocol {theirs!r}, this run uses {ours!r}" in message and f"meta build --prompt {ours}" in message
    performance, _ = load_predictors_for(saved[theirs], space, prompt=theirs)
    assert performance.prompt == theirs


def test_predictors_saved_before_protocols_are_box(space, saved, tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    for path in saved["box"].iterdir():
        settings = json.loads(path.read_text()) if path.suffix == ".json" else None
        if settings is None:
            (folder / path.name).write_bytes(path.read_bytes())
        else:
            settings.pop("prompt")
            (folder / path.name).write_text(json.dumps(settings))
    performance, cost = load_predictors_for(folder, space)
    assert (performance.prompt, cost.prompt) == ("box", "box")
    with pytest.raises(UsageError, match="prompt protocol 'box', this run uses 'none'"):
        load_predictors_for(folder, space, prompt="none")


def test_meta_fit_records_the_file_protocol(space, tmp_path):
    from qtt_core.surrogates.fit_file import fit_predictors_file

    torch.set_num_threads(1)
    path = write_meta_dataset(_meta(space, "none"), tmp_path / "none.csv")
    summary = fit_predictors_file(path, tmp_path / "fitted", space="sam-lora", steps=3)
    assert summary["prompt"] == "none"
    assert json.loads((tmp_path / "fitted" / "performance.json").read_text())["prompt"] == "none"
