"""The run folder: claimed exclusively, cleaned of a killed process's leftovers, weights swapped whole."""

from __future__ import annotations

import json

import pytest
from helpers import registry_with

from qtt_core.errors import UsageError
from qtt_core.testing import MockAdapter, make_shapes_data
from qtt_core.tuner import tune
from qtt_core.tuner.clock import BudgetClock, Heartbeat, read_heartbeat
from qtt_core.tuner.rundir import RunDirectory


def test_two_runs_started_in_the_same_second_get_their_own_default_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("time.strftime", lambda _: "20260101-000000")
    first, second = (RunDirectory.create(None, "mock", resume=False) for _ in range(2))
    assert first.root != second.root and first.root.name == "mock-20260101-000000" and second.root.name.endswith("-2")
    assert first.log.is_file() and second.log.is_file()


def test_a_folder_claimed_by_another_run_is_refused(tmp_path, monkeypatch):
    out = tmp_path / "run"
    monkeypatch.setattr(RunDirectory, "check_new", staticmethod(lambda out: None))  # both passed the check at once
    RunDirectory.create(out, "mock", resume=False)
    with pytest.raises(UsageError, match="taken by another run"):
        RunDirectory.create(out, "mock", resume=False)


def test_resume_removes_half_written_files_and_a_partial_export(tmp_path):
    run = RunDirectory.create(tmp_path / "run", "mock", resume=False)
    run.write_json(run.state, {"settings": {}})
    leftovers = [run.root / ".state.json.abc.tmp", run.sessions / "trials" / ".c1.pt.xyz.tmp", run.root / "sam.pt.part"]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    (run.partial_weights / "adapter.pt").parent.mkdir(parents=True)
    (run.partial_weights / "adapter.pt").write_text("half")
    RunDirectory.create(run.root, "mock", resume=True)
    assert not any(path.exists() for path in leftovers) and not run.partial_weights.exists() and run.state.is_file()


def test_published_weights_replace_the_old_folder_whole(tmp_path):
    run = RunDirectory.create(tmp_path / "run", "mock", resume=False)
    (run.weights / "refit.json").parent.mkdir(parents=True)
    (run.weights / "refit.json").write_text("{}")  # from a model that is not the final one
    run.partial_weights.mkdir()
    (run.partial_weights / "mock_weights.json").write_text("{}")
    run.publish_weights()
    assert sorted(p.name for p in run.weights.iterdir()) == ["mock_weights.json"] and not run.partial_weights.exists()


def test_a_finished_run_refuses_resume(tmp_path):
    data, registry = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32)), registry_with(MockAdapter(epoch_cost_s=0.0))
    options = {"model": "mock", "optimizer": "random", "max_epochs": 2, "n_candidates": 8, "device": "cpu"}
    tune(data, 3.0, out=tmp_path / "run", registry=registry, **options)
    before = (tmp_path / "run" / "result.json").read_text()
    with pytest.raises(UsageError, match="finished run"):
        tune(data, 3.0, out=tmp_path / "run", resume=True, registry=registry, **options)
    assert (tmp_path / "run" / "result.json").read_text() == before


def test_resume_runs_where_this_call_says_and_counts_the_heartbeat(tmp_path):
    """Workers and executor come from the resuming call; time a killed process spent after its last save counts."""
    data, registry = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32)), registry_with(MockAdapter(epoch_cost_s=0.0))
    options = {"model": "mock", "optimizer": "random", "max_epochs": 2, "n_candidates": 8, "device": "cpu"}
    run = RunDirectory.create(tmp_path / "run", "mock", resume=False)
    settings = {"data": "shapes", "budget_s": 30.0, **options, "workers": 3}
    run.write_json(run.state, {"settings": settings, "elapsed_s": 1.0})
    run.write_json(run.heartbeat, {"elapsed_s": 29.0})  # the killed process ran on for 28 s after its save
    result = tune(data, 30.0, out=run.root, resume=True, registry=registry, **options)
    assert result.elapsed_s >= 29.0
    assert json.loads(run.state.read_text())["settings"]["workers"] == 1
    assert "resuming" in run.log.read_text() and "1.0 s left" in run.log.read_text()


def test_the_heartbeat_holds_the_elapsed_time(tmp_path):
    clock = BudgetClock(10.0, spent_before_s=5.0)
    with Heartbeat(tmp_path / "heartbeat.json", clock, interval_s=0.01):
        pass
    assert 5.0 <= read_heartbeat(tmp_path / "heartbeat.json") < 6.0
    assert read_heartbeat(tmp_path / "absent.json") == 0.0
