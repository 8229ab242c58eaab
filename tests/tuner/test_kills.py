"""Runs killed at each phase boundary and resumed: no finished epoch lost or recorded twice,
the search goes on while time is left, the budget counts every process, the best epoch is
what the run returns."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from qtt_core.demo import write_task_folder

INJECTOR = Path(__file__).resolve().parents[1] / "kill_injection.py"


def _run(*args: object, timeout_s: float = 180) -> tuple[int, float]:
    """Run the injector with ``args``; ``(return code, wall seconds)``."""
    started = time.monotonic()
    process = subprocess.run([sys.executable, str(INJECTOR), *map(str, args)], capture_output=True, text=True, timeout=timeout_s)
    if process.returncode not in (0, -9):
        raise AssertionError(process.stderr[-3000:])
    return process.returncode, time.monotonic() - started


def _rows(out: Path) -> list[dict[str, str]]:
    path = out / "trials.csv"
    return list(csv.DictReader(path.open())) if path.is_file() else []


def _saved_epochs(out: Path) -> dict[str, int]:
    """The epoch each configuration's search session state holds on disk now."""
    saved = {}
    for path in (out / "sessions" / "mock_trials").glob("*.json"):
        saved[path.stem] = json.loads(path.read_text())["epoch"]
    for path in (out / "sessions" / "trials").glob("*.pt"):
        if not path.name.endswith(".best.pt"):
            saved[path.stem] = int(torch.load(path, weights_only=True)["epoch"])
    return saved


def _in_final_phase(out: Path) -> bool:
    """Whether the run's saved state says the search had ended (read right after a kill)."""
    path = out / "state.json"
    return path.is_file() and json.loads(path.read_text()).get("phase") == "final"


#: seconds a process needs before it can do anything (the command line, torch): what a kill after
#: the search ended costs beyond the budget, as the end reserve plans for one process only
RESTART_S = 5.0


def _check_run(
    out: Path, budget_s: float, walls: list[float], snapshots: list[tuple[list[dict[str, str]], dict[str, int]]], final_kills: int = 0
) -> dict:
    """The invariants of a run killed and resumed; returns its result.json.

    Args:
        final_kills: kills after the search had ended (in the final phase); each allows one
            process start-up (:data:`RESTART_S`) beyond the budget plus 5 s.
    """
    result = json.loads((out / "result.json").read_text())
    allowed_s = budget_s + 5 + final_kills * RESTART_S
    assert result["elapsed_s"] <= allowed_s and sum(walls) <= allowed_s, (result["elapsed_s"], walls, allowed_s)
    rows = _rows(out)
    ok = [r for r in rows if r["status"] == "ok"]
    epochs = [(r["config_id"], int(r["epoch"])) for r in ok]
    assert len(epochs) == len(set(epochs)), "an epoch was recorded twice"
    last = {}
    for cid in {c for c, _ in epochs}:  # freeze-thaw: a configuration's epochs are 1, 2, ... without gaps
        mine = sorted(e for c, e in epochs if c == cid)
        assert mine == list(range(1, len(mine) + 1)), (cid, mine)
        last[cid] = mine[-1]
    for rows_before, saved_before in snapshots:
        assert rows[: len(rows_before)] == rows_before, "a recorded row changed or was lost"
        for cid, epoch in saved_before.items():
            assert last.get(cid, 0) >= epoch, f"{cid}'s saved epoch {epoch} was never recorded"
    best = max(ok, key=lambda r: float(r["score"]))  # the first of equal scores, as the run's incumbent
    assert result["val_iou"] == pytest.approx(float(best["score"]))
    assert (result["best_config_id"], result["best_epoch"]) == (best["config_id"], int(best["epoch"]))
    assert (result["refit"] is None) == (not (out / "weights" / "refit.json").exists())
    return result


BOUNDARIES = ["session-save:3", "state-before:4", "state-after:4", "refit-save:1", "result-before:1"]


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", BOUNDARIES)
def test_a_run_killed_at_a_phase_boundary_resumes_without_gaps(tmp_path, kill_at):
    out, budget_s = tmp_path / "run", 12
    code, first = _run(kill_at, "mock", out, budget_s, 1, 0.1)
    assert code == -9, f"the run ended before {kill_at}"
    snapshot, final_kills = (_rows(out), _saved_epochs(out)), int(_in_final_phase(out))
    state = json.loads((out / "state.json").read_text())
    code, second = _run("none", "mock", out, budget_s, 1, 0.1, "resume")
    assert code == 0
    _check_run(out, budget_s, [first, second], [snapshot], final_kills)
    known = len({(r["config_id"], r["epoch"]) for r in snapshot[0]} | {(c, str(e)) for c, e in snapshot[1].items()})
    if state.get("phase") != "final":  # the search went on: more epochs than the killed process knew of
        assert len([r for r in _rows(out) if r["status"] == "ok"]) > known


@pytest.mark.slow
def test_a_finished_run_refuses_resume(tmp_path):
    out = tmp_path / "run"
    assert _run("none", "mock", out, 6, 1, 0.1)[0] == 0
    process = subprocess.run([sys.executable, str(INJECTOR), "none", "mock", out, "6", "1", "0.1", "resume"], capture_output=True, text=True)
    assert process.returncode != 0 and "finished run" in process.stderr


@pytest.mark.slow
def test_a_sam_tiny_run_killed_at_every_phase_boundary(tmp_path):
    """One real run, killed once at each boundary in turn, each time resumed."""
    data = write_task_folder("shapes-binary", tmp_path / "data")
    out, budget_s = tmp_path / "run", 60
    tune_args = ["cli", data, "--budget", budget_s, "--model", "sam-tiny", "--out", out, "--quiet", "--max-epochs", "3"]
    walls, snapshots, killed, final_kills = [], [], [], 0
    for kill_at in ["session-save:2", "state-before:3", "state-after:3", "refit-save:1", "result-before:1"]:
        code, wall = _run(kill_at, *tune_args, *(["--resume"] if walls else []))
        walls.append(wall)
        if code == 0:
            break
        killed.append(kill_at)
        final_kills += _in_final_phase(out)
        snapshots.append((_rows(out), _saved_epochs(out)))
    if not (out / "result.json").exists():
        walls.append(_run("none", *tune_args, "--resume")[1])
    assert killed[:3] == ["session-save:2", "state-before:3", "state-after:3"], killed
    result = _check_run(out, budget_s, walls, snapshots, final_kills)
    assert result["test_iou"] is not None and not math.isnan(result["test_iou"])


@pytest.mark.slow
def test_a_sam_tiny_run_killed_five_times_at_random_keeps_budget_and_best_epoch(tmp_path):
    import random
    import signal

    data = write_task_folder("shapes-binary", tmp_path / "data")
    out, budget_s = tmp_path / "run", 60
    command = [sys.executable, "-m", "qtt_core.cli.main", "tune", str(data), "--budget", str(budget_s), "--model", "sam-tiny",
               "--out", str(out), "--quiet", "--max-epochs", "3"]
    rng, walls, snapshots, final_kills = random.Random(7), [], [], 0
    for kill in range(6):
        started = time.monotonic()
        process = subprocess.Popen(command + (["--resume"] if kill else []), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            process.wait(timeout=rng.uniform(4.0, 12.0) if kill < 5 else 180)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        walls.append(time.monotonic() - started)
        if process.returncode == 0:
            break
        assert process.returncode == -9, process.stderr.read().decode()[-2000:]
        snapshots.append((_rows(out), _saved_epochs(out)))
        final_kills += _in_final_phase(out)
    _check_run(out, budget_s, walls, snapshots, final_kills)
