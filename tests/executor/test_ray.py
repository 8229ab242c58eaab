"""The ray executor and ``meta build`` on it: crashed workers, failing jobs, a killed driver.

One local Ray instance (2 CPUs) serves the module; the models come from the test plugin
module ``qtt_test_job_plugins`` beside this file, which Ray workers load by name.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import require_ray, run_cli

require_ray()

import ray  # noqa: E402
from qtt_core.errors import UsageError  # noqa: E402
from qtt_core.executor import Job, make_executor  # noqa: E402
from qtt_core.metadataset.build import build_meta_dataset  # noqa: E402
from qtt_core.registry import Registry  # noqa: E402
from qtt_core.space import config_id, sample_configurations  # noqa: E402

pytestmark = pytest.mark.slow

PLUGIN_DIR = Path(__file__).resolve().parent
PLUGIN = "qtt_test_job_plugins"
KEY = ["dataset", "config_id", "seed"]


@pytest.fixture(scope="module")
def faults(tmp_path_factory) -> Path:
    """The fault file of ``mock-faulty`` (written by the test that uses it)."""
    return tmp_path_factory.mktemp("faults") / "faults.json"


@pytest.fixture(scope="module")
def ray_address(faults):
    """A local Ray instance for this module; its GCS address lets subprocess drivers join it.

    Driver and workers load the test plugin module: the executor forwards ``QTT_SEG_*`` and
    ``PYTHONPATH`` to the workers; ``QTT_TEST_FAULTS`` reaches them because the local instance
    inherits this process's environment. Every in-process executor of the module thus asks
    for the same runtime environment, and Ray reuses its worker processes across the tests.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(PLUGIN_DIR))
        patch.setenv("QTT_SEG_PLUGINS", PLUGIN)
        patch.setenv("QTT_TEST_FAULTS", str(faults))
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(PLUGIN_DIR), os.environ.get("PYTHONPATH")])))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        try:
            yield ray.get_runtime_context().gcs_address
        finally:
            ray.shutdown()


def test_workers_get_the_drivers_plugins_and_thread_count(monkeypatch):
    monkeypatch.setenv("QTT_SEG_PLUGINS", "a.plugin")
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("UNRELATED_VARIABLE", "1")
    executor = make_executor("ray", cpus_per_job=2.5, plugins=["b.plugin"], env_vars={"EXTRA": "x"})
    env = executor.worker_env()
    assert env["QTT_SEG_PLUGINS"] == "a.plugin,b.plugin" and env["PYTHONPATH"] == "/somewhere"
    assert env["EXTRA"] == "x" and "UNRELATED_VARIABLE" not in env and executor.threads == 2
    with pytest.raises(UsageError, match="cpus per job"):
        make_executor("ray", cpus_per_job=0)


def test_crashed_workers_are_retried_and_failures_recorded_once(ray_address, faults, tmp_path):
    configs = sample_configurations(Registry().load_space("sam-lora"), 4, seed=3)
    ok, crashes_once, raises, crashes_always = (config_id(c) for c in configs)
    faults.write_text(json.dumps({"crash_once": [crashes_once], "raise": [raises], "crash_always": [crashes_always]}))
    out = tmp_path / "meta.csv"

    def build():
        with make_executor("ray", max_retries=1) as executor:
            return build_meta_dataset("mock-faulty", ["shapes-binary"], 4, 2, out, seed=3, executor=executor)

    summary = build()
    assert (summary.planned, summary.succeeded, summary.failed) == (4, 2, 2)
    frame = pd.read_csv(out).set_index("config_id")
    assert len(frame) == 4 and not frame.reset_index().duplicated(KEY).any()
    assert frame.loc[ok, ["status", "attempts"]].tolist() == ["ok", 1]
    assert frame.loc[crashes_once, ["status", "attempts"]].tolist() == ["ok", 2]
    assert frame.loc[[ok, crashes_once], ["epoch_1_score", "epoch_2_score"]].notna().all().all()
    assert frame.loc[raises, ["status", "attempts"]].tolist() == ["failed", 1] and "boom" in frame.loc[raises, "reason"]
    assert frame.loc[crashes_always, ["status", "attempts"]].tolist() == ["failed", 2]
    assert "worker died 2 times" in frame.loc[crashes_always, "reason"]
    # the worker really died: once for crash_once, twice (two processes) for crash_always
    assert len((faults.parent / f"crashed-{crashes_once}").read_text().split()) == 1
    assert len(set((faults.parent / f"crashed-{crashes_always}").read_text().split())) == 2

    written = out.read_bytes()
    again = build()
    assert (again.skipped, again.succeeded, again.failed) == (4, 0, 0)
    assert out.read_bytes() == written


def test_results_stream_from_a_lazy_job_source(ray_address):
    jobs = [Job("mock-slow", "shapes-binary", f"c{i}", {"lr": 1e-4 * (i + 1)}, 1) for i in range(3)]
    taken: list[int] = []

    def source():
        for i, job in enumerate(jobs):
            taken.append(i)
            yield job

    with make_executor("ray") as executor:
        assert executor.capacity == 2
        results = []
        for result in executor.run(source()):
            if not results:
                assert len(taken) == 2  # the third job waits for a free slot
            results.append(result)
    assert sorted(r.job.config_id for r in results) == ["c0", "c1", "c2"]
    assert all(r.status == "ok" and r.attempts == 1 and len(r.scores) == 1 for r in results)
    assert ray.is_initialized()  # the module started Ray, so the executor leaves it running


def _meta_build(out: Path, address: str) -> list[str]:
    return [
        sys.executable, "-m", "qtt_core.cli.main", "meta", "build", "--model", "mock-slow",
        "--tasks", "shapes-binary,blobs-grey", "--configs", "3", "--epochs", "2", "--out", str(out),
        "--seed", "1", "--executor", "ray", "--address", address,
    ]  # fmt: skip


def test_a_driver_killed_mid_run_resumes_without_duplicates(ray_address, tmp_path):
    out = tmp_path / "meta.csv"
    env = {**os.environ, "QTT_SEG_DISABLE_PLUGIN_AUTOLOAD": "1"}
    driver = subprocess.Popen(_meta_build(out, ray_address), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and driver.poll() is None:
            if out.is_file() and len(pd.read_csv(out)) >= 2:
                break
            time.sleep(0.05)
        assert driver.poll() is None, f"the driver ended before it could be killed: {driver.stdout.read()}"
        os.kill(driver.pid, signal.SIGKILL)
    finally:
        driver.kill()
        driver.wait()
    rows_at_kill = len(pd.read_csv(out))
    assert 2 <= rows_at_kill < 6

    # the re-run in this process: it joins the same Ray instance and reuses the workers
    rerun = run_cli(*_meta_build(out, ray_address)[3:])
    assert rerun.returncode == 0, rerun
    assert f"{6 - rows_at_kill} runs recorded, 0 failed, {rows_at_kill} already done of 6" in rerun.stdout
    assert "running" in rerun.stderr and "left" in rerun.stderr  # plain progress lines off a terminal
    frame = pd.read_csv(out)
    assert len(frame) == 6 and not frame.duplicated(KEY).any() and (frame["status"] == "ok").all()
    assert not list(tmp_path.glob(".meta.csv.*"))
