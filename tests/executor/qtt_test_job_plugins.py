"""Test-only models for the executor tests, a plugin module Ray workers load by name.

Workers find it through ``QTT_SEG_PLUGINS=qtt_test_job_plugins`` with this folder on
``PYTHONPATH`` (the ray executor forwards both).

- ``mock-slow``: :class:`~qtt_core.testing.MockAdapter` that sleeps 0.3 s per epoch (times the square root of the batch size), so a
  job lasts long enough to kill its driver in the middle of a build.
- ``mock-faulty``: quicker (0.05 s per epoch), with faults read from the JSON file named by ``QTT_TEST_FAULTS``:
  configurations listed under ``crash_once`` kill their own worker process (SIGKILL) after
  their first epoch, the first time only (a marker file beside the JSON remembers it);
  ``crash_always`` kill it every time; ``raise`` raise ``RuntimeError``.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from qtt_core.hookspecs import hookimpl
from qtt_core.testing import MockAdapter, MockSession

EPOCH_S = 0.3


class FaultySession(MockSession):
    def train(self, config_id, config, to_epoch, deadline=None):
        faults_file = Path(os.environ["QTT_TEST_FAULTS"])
        faults = json.loads(faults_file.read_text())
        if config_id in faults.get("raise", ()):
            raise RuntimeError(f"boom: configuration {config_id} raises on purpose")
        reports = super().train(config_id, config, 1, deadline)
        marker = faults_file.parent / f"crashed-{config_id}"
        if config_id in faults.get("crash_always", ()) or (config_id in faults.get("crash_once", ()) and not marker.exists()):
            with marker.open("a") as file:
                file.write(f"{os.getpid()}\n")
            os.kill(os.getpid(), signal.SIGKILL)
        return reports + super().train(config_id, config, to_epoch, deadline)


class SlowAdapter(MockAdapter):
    name = "mock-slow"

    def __init__(self):
        super().__init__(epoch_cost_s=EPOCH_S, sleep=True)

    def model_names(self):
        return [self.name]


class FaultyAdapter(SlowAdapter):
    name = "mock-faulty"

    def __init__(self):
        super().__init__()
        self.epoch_cost_s = 0.05

    def open_session(self, request):
        return FaultySession(request, self.epoch_cost_s, self.sleep, self.fail_ids)


@hookimpl
def qtt_model_adapters():
    return [SlowAdapter(), FaultyAdapter()]
