"""Time to the first epoch of a ``tune`` run and of its ``--resume`` (sam-nano, the demo's data).

Two settings:

* **warm**: ``tune()`` called in a process that has run one before, so torch, peft, the SAM
  libraries and the predictors' files are loaded, as in a notebook or an AutoML system that
  embeds the core. This is the run's own set-up; the target is at most 2 s, new or resumed.
* **cold**: ``qtt-seg tune`` as a new process, with the same run and a resume after SIGKILL.
  Its time includes importing the libraries (``library_imports_s``, measured alone in a fresh
  interpreter), which the project does not control.

    pytest benchmarks/test_startup.py --benchmark-columns=mean,rounds

``extra_info`` holds ``first_epoch_s`` (seconds from the run's or resume's start to its first
epoch) and ``phases`` (seconds per set-up phase, as ``run.log`` and ``result.json`` list them).
The benchmarked time is the whole short run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qtt_core.demo import DEMO_TASK, write_task_folder
from qtt_core.tuner import tune

#: the run's own set-up before its first epoch, libraries loaded (seconds)
WARM_TARGET_S = 2.0
BUDGET_S = 8.0
#: the killed runs' budget: time left for a resume after the kill
KILLED_BUDGET_S = 20.0
LIBRARIES = "torch, torchvision, timm, peft, segment_anything, ConfigSpace, botorch, matplotlib"


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory) -> Path:
    return write_task_folder(DEMO_TASK, tmp_path_factory.mktemp("startup") / "data")


@pytest.fixture(scope="module")
def warm_process(demo_data, tmp_path_factory) -> None:
    """One short run first: every library and predictor file this process needs is loaded."""
    tune(demo_data, 4.0, out=tmp_path_factory.mktemp("warm-up") / "run", model="sam-nano")


def _record(benchmark, startup: dict, setting: str) -> None:
    benchmark.extra_info.update(setting=setting, first_epoch_s=startup["first_epoch_s"], phases=startup["phases"])


def _killed_run(data: Path, out: Path, after_s: float) -> None:
    """A ``qtt-seg tune`` process killed ``after_s`` seconds after its first epoch started."""
    process = subprocess.Popen(_command(data, out, KILLED_BUDGET_S), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "first epoch starts" not in _log(out):
        time.sleep(0.05)
    time.sleep(after_s)
    process.send_signal(signal.SIGKILL)
    process.wait()


def _command(data: Path, out: Path, budget_s: float, *extra: str) -> list[str]:
    return [sys.executable, "-m", "qtt_core.cli.main", "tune", str(data), "--budget", str(budget_s), "--model", "sam-nano",
            "--out", str(out), "--quiet", *extra]


def _log(out: Path) -> str:
    try:
        return (out / "run.log").read_text()
    except OSError:
        return ""


def test_warm_new_run(benchmark, demo_data, warm_process, tmp_path):
    outs = iter(tmp_path / f"run{i}" for i in range(100))
    result = benchmark.pedantic(lambda: tune(demo_data, BUDGET_S, out=next(outs), model="sam-nano"), rounds=3, iterations=1)
    _record(benchmark, result.startup[0], "warm")
    assert result.startup[0]["first_epoch_s"] <= WARM_TARGET_S, result.startup[0]


def test_warm_resume(benchmark, demo_data, warm_process, tmp_path):
    out = tmp_path / "run"
    _killed_run(demo_data, out, after_s=1.5)

    def resume():
        return tune(demo_data, KILLED_BUDGET_S, out=out, resume=True)

    result = benchmark.pedantic(resume, rounds=1, iterations=1)
    resumed = result.startup[-1]
    assert resumed["resumed"]
    _record(benchmark, resumed, "warm")
    assert resumed["first_epoch_s"] <= WARM_TARGET_S, resumed


def _library_imports_s() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", f"import {LIBRARIES}"], check=True, capture_output=True)
    return round(time.monotonic() - started, 3)


def test_cold_new_run_and_resume(benchmark, demo_data, tmp_path):
    """Not held to the warm target: a new interpreter first imports the libraries."""
    out = tmp_path / "run"
    _killed_run(demo_data, out, after_s=1.5)
    resumed = benchmark.pedantic(
        lambda: subprocess.run(_command(demo_data, out, KILLED_BUDGET_S, "--resume", "--json"), capture_output=True, text=True, check=True, env=os.environ.copy()),
        rounds=1, iterations=1,
    )
    startup = json.loads(resumed.stdout)["startup"]
    first, resume = startup[0], startup[-1]
    benchmark.extra_info.update(
        setting="cold", first_epoch_s=first["first_epoch_s"], phases=first["phases"],
        resume_first_epoch_s=resume["first_epoch_s"], resume_phases=resume["phases"],
        library_imports_s=_library_imports_s(), libraries=LIBRARIES,
    )
