"""The tuning run around a mock adapter: budget, run folder, failures, resume."""

from __future__ import annotations

import csv
import json
import time

import pytest
from helpers import kill_and_resume_mock_tune, registry_with

from qtt_core.errors import UsageError
from qtt_core.registry import Registry
from qtt_core.space import config_id, sample_configurations
from qtt_core.testing import MockAdapter, make_shapes_data
from qtt_core.testing.adapter import synthetic_curve
from qtt_core.tuner import load_best, tune



def _tune(tmp_path, adapter, budget_s=3.0, **options):
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    options = {"model": "mock", "optimizer": "random", "max_epochs": 3, "n_candidates": 16, "device": "cpu", **options}
    return tune(data, budget_s, out=tmp_path / "run", registry=registry_with(adapter), **options)


def test_run_keeps_the_budget_and_writes_a_complete_folder(tmp_path):
    started = time.monotonic()
    result = _tune(tmp_path, MockAdapter(epoch_cost_s=0.2, sleep=True), budget_s=8.0)
    wall_s = time.monotonic() - started
    assert wall_s <= 8.0 + 5.0 and result.elapsed_s <= 8.0 + 5.0
    run = tmp_path / "run"
    payload = json.loads((run / "result.json").read_text())
    for key in ("model", "budget_s", "elapsed_s", "best_config", "val_iou", "test_iou", "zero_shot_test_iou", "n_trials", "trials", "weights"):
        assert key in payload, key
    assert payload["n_trials"] >= 2 and payload["test_iou"] is not None
    assert {"config_id", "fidelity", "score", "cost_s", "status"} <= set(payload["trials"][0])
    rows = list(csv.DictReader((run / "trials.csv").open()))
    assert sum(t["fidelity"] for t in payload["trials"]) == len(rows)
    assert {"config_id", "epoch", "score", "cost_s", "elapsed_s", "predicted_score", "predicted_cost_s"} <= set(rows[0])
    for name in ("config.yaml", "state.json", "run.log", "plots/incumbent.png", "plots/curves.png", "plots/predicted_vs_observed.png"):
        assert (run / name).is_file(), name
    assert len(list((run / "overlays").glob("*.png"))) == 2
    assert load_best(run, registry=registry_with(MockAdapter())).predict(make_shapes_data().split("test").image(0)).ndim == 2


def _rise_then_fall(config, epoch):
    """Every configuration peaks at epoch 2 and falls after (overfitting), at its own level."""
    return synthetic_curve(config, 3) * (0.7, 1.0, 0.6, 0.5)[epoch - 1]


@pytest.mark.parametrize("refit", [False, True])
def test_the_best_validated_epoch_is_what_the_run_returns(tmp_path, refit):
    result = _tune(tmp_path, MockAdapter(epoch_cost_s=0.01, curve=_rise_then_fall), budget_s=6.0, max_epochs=4, refit=refit)
    rows = [r for r in csv.DictReader((tmp_path / "run" / "trials.csv").open()) if r["status"] == "ok"]
    assert any(int(r["epoch"]) > 2 for r in rows if r["config_id"] == result.best_config_id), "the fall was never seen"
    best = max(rows, key=lambda r: float(r["score"]))
    assert (result.best_config_id, result.best_epoch, result.val_iou) == (best["config_id"], 2, pytest.approx(float(best["score"])))
    weights = json.loads((tmp_path / "run" / "weights" / "mock_weights.json").read_text())
    assert weights["epoch"] == 2 and weights["config"] == result.best_config
    assert result.test_iou == pytest.approx(_rise_then_fall(result.best_config, 2))
    assert (result.refit or {}).get("epochs", 2) == 2 and (result.refit is not None) == refit


def test_an_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "precious.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        _tune(tmp_path, MockAdapter())
    assert (tmp_path / "run" / "precious.txt").read_text() == "mine"


def test_resume_needs_a_run(tmp_path):
    with pytest.raises(UsageError, match="no run to resume"):
        tune(make_shapes_data(), 5, out=tmp_path / "nothing", resume=True, registry=registry_with(MockAdapter()), model="mock")


def test_a_failing_trial_is_recorded_and_the_run_goes_on(tmp_path):
    space = Registry(autoload=False).load_space("sam-lora")
    default = dict(space.get_default_configuration())
    first = [default, *sample_configurations(space, 16, seed=0)]
    failing = {config_id(c) for c in first[:3]}
    result = _tune(tmp_path, MockAdapter(epoch_cost_s=0.0, fail_ids=failing), budget_s=6.0, optimizer="random")
    statuses = {t["config_id"]: t["status"] for t in result.trials}
    assert any(s == "failed" for s in statuses.values())
    assert any(s == "ok" for s in statuses.values())
    assert "injected failure" in (tmp_path / "run" / "run.log").read_text()


@pytest.mark.slow
def test_killed_run_resumes_with_the_time_that_was_left(tmp_path):
    budget_s = 12  # the budget counts the process's imports too (seconds on a loaded machine): the search must still be on 1.5 s after its first row
    before, result, rows, out = kill_and_resume_mock_tune(tmp_path, budget_s, workers=1, kill_after_s=1.5)
    assert result["elapsed_s"] <= budget_s + 5
    epochs = [(r["config_id"], r["epoch"]) for r in rows if r["status"] == "ok"]
    assert len(epochs) == len(set(epochs)), "an epoch was recorded twice"
    assert len(rows) >= len(before["history"]["rows"])  # nothing finished was lost


def test_the_candidate_pool_holds_the_meta_dataset_best_configurations(tmp_path):
    from qtt_core.metadataset.grouped import best_recorded_configs
    from qtt_core.metadataset.io import write_meta_dataset
    from qtt_core.testing import synthetic_meta_dataset

    adapter = MockAdapter(epoch_cost_s=0.0)
    space = registry_with(adapter).load_space(adapter.default_space("mock"))
    meta = synthetic_meta_dataset(space, {"a": 0.6, "b": 1.0}, 30, seed=0)
    meta.space = space.name
    path = write_meta_dataset(meta, tmp_path / "meta.csv")
    _tune(tmp_path, adapter, budget_s=4.0, optimizer="quick", meta_dataset=str(path), n_candidates=40)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    pool = {config_id(c) for c in state["candidates"]}
    best = [config_id(c) for c in best_recorded_configs(meta, 16)]
    assert set(best) <= pool
    assert "16 of the meta-dataset's best configurations" in (tmp_path / "run" / "run.log").read_text()


def test_a_model_without_predictors_starts_from_those_of_its_space(tmp_path):
    from qtt_core.specs import MetaDatasetSpec
    from qtt_core.surrogates import meta_train_predictors, save_predictors
    from qtt_core.testing import synthetic_meta_dataset

    adapter = MockAdapter(epoch_cost_s=0.0)
    space = registry_with(adapter).load_space("sam-lora")
    meta = synthetic_meta_dataset(space, {"a": 0.6, "b": 1.0}, 30, seed=0)
    folder = save_predictors(tmp_path / "predictors", *meta_train_predictors(meta, space, seed=0, steps=20, n_pairs=300, prior_points=200))

    registry = registry_with(adapter, meta_datasets=[MetaDatasetSpec(name="another-model", models=("another",), space="sam-lora", predictors=folder)])
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    result = tune(data, 4.0, out=tmp_path / "run", registry=registry, model="mock",
                  optimizer="quick", max_epochs=3, n_candidates=16, device="cpu")  # fmt: skip
    assert "another-model's meta-dataset (same space sam-lora)" in result.predictors
    assert "cost learned from this run" in result.predictors
    assert "same space sam-lora" in (tmp_path / "run" / "run.log").read_text()


@pytest.fixture(scope="module")
def fitted_predictors(tmp_path_factory):
    """What `qtt-seg meta fit` writes, from a small generated meta-dataset on sam-lora."""
    from qtt_core.metadataset.io import write_meta_dataset
    from qtt_core.surrogates.fit_file import fit_predictors_file
    from qtt_core.testing import synthetic_meta_dataset

    folder = tmp_path_factory.mktemp("predictors")
    space = Registry(autoload=False).load_space("sam-lora")
    path = write_meta_dataset(synthetic_meta_dataset(space, {"a": 0.6, "b": 0.9}, 20, seed=0), folder / "meta.csv")
    fit_predictors_file(path, folder / "fitted", space="sam-lora", steps=5)
    return folder / "fitted"


def test_tune_uses_predictors_from_meta_fit(tmp_path, fitted_predictors):
    from qtt_core.surrogates import load_predictors

    result = _tune(tmp_path, MockAdapter(), budget_s=10.0, optimizer="quick", predictors=str(fitted_predictors))
    assert result.predictors == f"from {fitted_predictors}"
    performance, _ = load_predictors(fitted_predictors)
    tried = {row["config_id"] for row in result.trials}
    assert {config_id(c) for c in performance.top_configs} & tried  # the pool holds their best recorded configurations


def test_predictors_of_another_space_or_optimiser_are_refused_before_any_file(tmp_path, fitted_predictors):
    with pytest.raises(UsageError, match="another search space"):
        _tune(tmp_path, MockAdapter(space="qtt-seg-sam2"), optimizer="quick", predictors=str(fitted_predictors))
    with pytest.raises(UsageError, match="--optimizer quick"):
        _tune(tmp_path, MockAdapter(), optimizer="random", predictors=str(fitted_predictors))
    with pytest.raises(UsageError, match="not both"):
        _tune(tmp_path, MockAdapter(), optimizer="quick", predictors=str(fitted_predictors), meta_dataset="runs.csv")
    with pytest.raises(UsageError, match="meta fit"):
        _tune(tmp_path, MockAdapter(), optimizer="quick", predictors=str(tmp_path / "nothing"))
    assert not (tmp_path / "run").exists()
