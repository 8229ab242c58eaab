"""``examples/plugin_template`` installs with pip and tunes: a promptable model is a wrapper
plus one registration.

The template is pip-installed offline into a temporary folder (never the test environment);
the commands run in subprocesses with that folder on ``PYTHONPATH`` and entry-point autoload
on, so ``qtt-seg`` finds the plugin the way it finds any installed third-party plugin.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO_ROOT
from PIL import Image

from qtt_core.demo import write_task_folder
from qtt_core.registry import DISABLE_AUTOLOAD_ENV, PLUGINS_ENV, Registry
from qtt_core.testing import check_adapter, check_space

TEMPLATE = REPO_ROOT / "examples" / "plugin_template"
BUDGET_S = 20


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A folder holding the installed template (package + dist-info with its entry point)."""
    for module, remedy in (("pip", "python -m ensurepip"), ("setuptools", "pip install 'setuptools>=77'")):
        if importlib.util.find_spec(module) is None:  # offline, no build isolation: both come from here
            pytest.skip(f"installing examples/plugin_template needs {module} in this environment: {remedy}")
    root = tmp_path_factory.mktemp("plugin_template")
    source = root / "source"  # pip builds in the source tree: build a copy, not the repository
    shutil.copytree(TEMPLATE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
               "--disable-pip-version-check", "--quiet", "--target", str(target), str(source)]  # fmt: skip
    installed = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr[-2000:]
    return target


def _run(site: Path, tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``qtt-seg ARGS`` in a subprocess that autoloads entry points, with ``site`` on the path."""
    env = {k: v for k, v in os.environ.items() if k not in (DISABLE_AUTOLOAD_ENV, PLUGINS_ENV)}
    env.update(PYTHONPATH=str(site), QTT_SEG_CACHE_DIR=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "qtt_core.cli.main", *args]
    return subprocess.run(command, check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=timeout)


def test_template_passes_the_conformance_checks_and_its_own_tests(site, monkeypatch):
    monkeypatch.syspath_prepend(str(site))
    from qtt_template import plugin

    registry = Registry(autoload=False, plugins=[plugin])
    check_space(registry.spaces.get("template-space"))
    check_adapter(registry.adapters.get("template"), registry=registry)
    # the template's tests/ (what its author runs in their CI) pass against the installed package
    spec = importlib.util.spec_from_file_location("qtt_template_own_tests", TEMPLATE / "tests" / "test_plugin.py")
    own_tests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(own_tests)
    names = sorted(name for name in vars(own_tests) if name.startswith("test_"))
    assert names, "examples/plugin_template/tests/test_plugin.py has no tests"
    for name in names:
        getattr(own_tests, name)()


@pytest.mark.slow
def test_template_installs_lists_tunes_and_predicts(site, tmp_path):
    listed = _run(site, tmp_path, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    plugins = {p["name"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert plugins["template"]["available"] and plugins["template"]["version"] == "0.1.0", plugins.get("template")
    assert plugins["template"]["contributes"]["models"] == ["template-tiny"]
    assert plugins["template"]["contributes"]["search_spaces"] == ["template-space"]

    data = write_task_folder("shapes-binary", tmp_path / "data")
    out = tmp_path / "run"
    started = time.monotonic()
    tuned = _run(site, tmp_path, "tune", str(data), "--model", "template-tiny", "--budget", str(BUDGET_S),
                 "--device", "cpu", "--out", str(out), "--json", timeout=BUDGET_S + 60)  # fmt: skip
    wall_s = time.monotonic() - started
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    payload = json.loads(tuned.stdout)
    assert payload["elapsed_s"] <= BUDGET_S + 5 and wall_s <= BUDGET_S + 5, (payload["elapsed_s"], wall_s)
    assert payload["n_trials"] >= 1 and 0.0 <= payload["test_iou"] <= 1.0, payload
    result = json.loads((out / "result.json").read_text())
    assert result["model"] == "template-tiny"
    assert set(result["best_config"]) <= {
        "lr", "optimizer", "sched", "loss", "batch_size", "lora", "lora_rank", "lora_targets", "train_mask_decoder",
    }  # fmt: skip  # the template's own space was used

    images = sorted((data / "test" / "images").glob("*.png"))[:2]
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({images[0].name: [[10, 10, 60, 60]]}))
    predicted = _run(site, tmp_path, "predict", str(out), *map(str, images), "--out", str(tmp_path / "pred"), "--boxes", str(boxes))
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    masks = sorted((tmp_path / "pred").glob("*_mask.png"))
    assert [m.name for m in masks] == [f"{i.stem}_mask.png" for i in images]
    for mask, image in zip(masks, images, strict=True):
        values = np.asarray(Image.open(mask))
        assert values.shape == np.asarray(Image.open(image)).shape[:2] and set(np.unique(values)) <= {0, 255}
