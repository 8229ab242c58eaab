"""Predicting with a model tuned without prompts, and the demo that shows both protocols."""

from __future__ import annotations

import glob
import json
import shlex

import numpy as np
import pytest
from PIL import Image

from helpers import registry_with, run_cli
from qtt_core.errors import UsageError
from qtt_core.predict import overlay, predict_files
from qtt_core.testing import MockAdapter, make_shapes_data
from qtt_core.testing.adapter import _MockTuned
from qtt_core.tuner import tune


def _image(path, height=8, width=12):
    Image.fromarray(np.full((height, width, 3), 90, np.uint8)).save(path)
    return path


def _boxes(tmp_path, name):
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps({name: [[0, 0, 3, 3]]}))
    return path


def test_a_model_tuned_without_prompts_refuses_a_boxes_file_before_writing(tmp_path):
    image = _image(tmp_path / "a.png")
    with pytest.raises(UsageError, match=r"tuned without prompts \(--prompt none\); it takes no boxes") as raised:
        predict_files(_MockTuned("none"), [image], tmp_path / "pred", _boxes(tmp_path, "a.png"))
    assert "\n" not in str(raised.value) and not (tmp_path / "pred").exists()
    with pytest.raises(UsageError, match="takes no boxes"):  # the run's protocol, given, decides too
        predict_files(_MockTuned(), [image], tmp_path / "pred", _boxes(tmp_path, "a.png"), prompt="none")


def test_overlays_of_a_model_tuned_without_prompts_draw_no_boxes(tmp_path):
    image = _image(tmp_path / "a.png")
    predict_files(_MockTuned("none"), [image], tmp_path / "pred")
    drawn = np.asarray(Image.open(tmp_path / "pred" / "a_overlay.png"))
    pixels = np.asarray(Image.open(image))
    assert np.array_equal(drawn, np.asarray(overlay(pixels, np.ones(pixels.shape[:2], np.uint8), None)))


@pytest.fixture
def none_run(tmp_path, monkeypatch):
    """A finished mock run tuned with ``--prompt none``; `qtt-seg predict` finds the mock model."""
    adapter = MockAdapter(prompts=("box", "none"))
    out = tmp_path / "run"
    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32))
    tune(data, 10, out=out, registry=registry_with(adapter), model="mock", optimizer="random", max_epochs=1, n_candidates=2, device="cpu", prompt="none")
    registry = registry_with(adapter)
    monkeypatch.setattr("qtt_core.registry.Registry", lambda *args, **kwargs: registry)
    return out


def test_cli_predict_of_a_none_run_takes_no_boxes(none_run, tmp_path):
    image = _image(tmp_path / "a.png")
    refused = run_cli("predict", none_run, image, "--out", tmp_path / "pred", "--boxes", _boxes(tmp_path, "a.png"))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "it takes no boxes" in refused.stderr, refused
    assert not (tmp_path / "pred").exists()
    done = run_cli("predict", none_run, image, "--out", tmp_path / "pred")
    assert done.returncode == 0, done
    assert (tmp_path / "pred" / "a_mask.png").is_file()


class _DemoAdapter(MockAdapter):
    def default_model(self):
        return "mock"


def test_the_demo_tunes_with_and_without_prompts_and_its_next_commands_work(tmp_path, monkeypatch):
    pytest.importorskip("torch")  # imported now, not in the first run's few seconds (the run checks the device with it)
    registry = registry_with(_DemoAdapter(epoch_cost_s=0.05, sleep=True, prompts=("box", "none"), space="sam2-lora"))  # no shipped predictors: no meta-training
    monkeypatch.setattr("qtt_core.registry.Registry", lambda *args, **kwargs: registry)
    out = tmp_path / "demo"
    result = run_cli("demo", "--budget", "16", "--out", out, "--task", "shapes-binary", "--quiet")
    assert result.returncode == 0, result
    for name in ("box", "none"):
        payload = json.loads((out / f"run-{name}" / "result.json").read_text())
        assert payload["prompt"] == name and payload["budget_s"] == 8.0
        assert payload["baseline_test_iou"] is not None and (payload["zero_shot_test_iou"] is None) == (name == "none")
    assert "(zero-shot " in result.stdout and "(most-frequent-class baseline " in result.stdout
    commands = [line.removeprefix("next: ") for line in result.stdout.splitlines() if line.startswith("next: ")]
    assert len(commands) == 2 and "--boxes" in commands[0] and "--boxes" not in commands[1]
    for command in commands:  # as a shell would run them: the glob expanded
        words = [w for word in shlex.split(command)[1:] for w in (sorted(glob.glob(word)) if "*" in word else [word])]
        predicted = run_cli(*words)
        assert predicted.returncode == 0, (command, predicted)
    assert len(list((out / "predictions-box").glob("*_mask.png"))) == len(list((out / "data" / "test" / "images").glob("*.png")))
    assert len(list((out / "predictions-none").glob("*_mask.png"))) == len(list((out / "data" / "test" / "images").glob("*.png")))


def test_the_demo_refuses_a_prompt_the_model_lacks_before_writing(tmp_path, monkeypatch):
    registry = registry_with(_DemoAdapter())
    monkeypatch.setattr("qtt_core.registry.Registry", lambda *args, **kwargs: registry)
    result = run_cli("demo", "--out", tmp_path / "demo")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--prompt none" in result.stderr, result
    assert not (tmp_path / "demo").exists()
