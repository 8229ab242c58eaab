"""`qtt-seg tune` and `qtt-seg predict` end to end with the real SAM plugin (sam-tiny)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from helpers import run_cli
from qtt_core.demo import write_task_folder


def test_missing_data_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    result = run_cli("tune", tmp_path / "nope", "--budget", "10", "--model", "sam-tiny", "--out", out)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "nope" in result.stderr
    assert not out.exists()


def test_unpaired_data_exits_2_before_training(tmp_path):
    data = write_task_folder("shapes-binary", tmp_path / "data")
    extra = data / "train" / "images" / "orphan.png"
    extra.write_bytes((data / "train" / "images" / "train000.png").read_bytes())
    before = sorted(p.name for p in (data / "train" / "images").iterdir())
    result = run_cli("tune", data, "--budget", "10", "--model", "sam-tiny", "--out", tmp_path / "run")
    assert result.returncode == 2 and "orphan" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()
    assert sorted(p.name for p in (data / "train" / "images").iterdir()) == before


def test_unknown_model_exits_2_listing_models(tmp_path):
    data = write_task_folder("shapes-binary", tmp_path / "data")
    result = run_cli("tune", data, "--budget", "10", "--model", "sam-huge", "--out", tmp_path / "run")
    assert result.returncode == 2 and "sam-tiny" in result.stderr


@pytest.mark.parametrize("precision", ["fp16", "half"])
def test_fp16_on_the_cpu_or_an_unknown_precision_exits_2_and_writes_nothing(tmp_path, precision):
    data = write_task_folder("shapes-binary", tmp_path / "data")
    result = run_cli("tune", data, "--budget", "10", "--model", "sam-tiny", "--device", "cpu", "--precision", precision, "--out", tmp_path / "run")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "--precision" in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_sam_tiny_run_on_multiclass_data_in_bf16_then_predict(tmp_path):
    data = write_task_folder("shapes-multiclass", tmp_path / "data")
    out = tmp_path / "run"
    started = time.monotonic()
    result = run_cli("tune", data, "--budget", "30", "--model", "sam-tiny", "--out", out, "--json", "--max-epochs", "3", "--precision", "bf16")
    assert result.returncode == 0, result
    assert time.monotonic() - started <= 30 + 5
    payload = json.loads(result.stdout)
    assert payload["precision"] == "bf16"
    for field in ("test_iou_per_class", "zero_shot_test_iou_per_class", "test_dice_per_class", "zero_shot_test_dice_per_class"):
        assert list(payload[field]) == ["class1", "class2", "class3"], field
    present = [v for v in payload["test_iou_per_class"].values() if v is not None]
    assert payload["test_iou"] == pytest.approx(sum(present) / len(present))
    assert "zero-shot IoU" not in result.stdout  # --json prints only the JSON object
    assert payload["elapsed_s"] <= 30 + 5 and payload["n_trials"] >= 1 and payload["test_iou"] is not None
    for name in ("result.json", "trials.csv", "config.yaml", "split.json", "state.json", "run.log", "plots/incumbent.png", "plots/per_class.png"):
        assert (out / name).is_file(), name
    assert list((out / "overlays").glob("*.png")) and (out / "weights").is_dir()
    images = sorted((data / "test" / "images").glob("*.png"))[:2]
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({images[0].name: [[10, 10, 60, 60, 2]]}))
    predicted = run_cli("predict", out, *images, "--out", tmp_path / "pred", "--boxes", boxes)
    assert predicted.returncode == 0, predicted
    assert len(list((tmp_path / "pred").glob("*_mask.png"))) == 2
    mask_values = {int(v) for m in (data / "test" / "masks").glob("*.png") for v in np.unique(np.asarray(Image.open(m)))}
    predicted_values = {int(v) for m in (tmp_path / "pred").glob("*_mask.png") for v in np.unique(np.asarray(Image.open(m)))}
    assert predicted_values <= mask_values, (predicted_values, mask_values)  # written in the data's own values
    again = run_cli("predict", out, *images, "--out", tmp_path / "pred")
    assert again.returncode == 2 and "exists" in again.stderr  # nothing overwritten


@pytest.mark.slow
def test_real_run_killed_mid_trial_resumes(tmp_path):
    data = write_task_folder("shapes-binary", tmp_path / "data")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "qtt_core.cli.main", "tune", str(data), "--budget", "40", "--model", "sam-tiny",
               "--out", str(out), "--quiet", "--max-epochs", "4"]
    process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (out / "trials.csv").is_file():
        time.sleep(0.2)
    time.sleep(1.0)  # into the next epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "result.json").exists()
    rows_before = list(csv.DictReader((out / "trials.csv").open()))
    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads((out / "result.json").read_text())
    assert result["elapsed_s"] <= 40 + 5
    rows = list(csv.DictReader((out / "trials.csv").open()))
    epochs = [(r["config_id"], int(r["epoch"])) for r in rows if r["status"] == "ok"]
    assert len(epochs) == len(set(epochs)), "an epoch was recorded twice"
    assert rows[: len(rows_before)] == rows_before  # every finished epoch kept
    for cid in {c for c, _ in epochs}:  # freeze-thaw: epochs of a configuration are consecutive
        mine = sorted(e for c, e in epochs if c == cid)
        assert mine == list(range(1, len(mine) + 1)), (cid, mine)


def test_multiclass_runs_print_a_per_class_table(capsys):
    from types import SimpleNamespace

    from qtt_core.cli.tune_cmd import _class_table

    result = SimpleNamespace(
        test_iou_per_class={"sky": 0.91, "road": 0.5, "car": None}, zero_shot_test_iou_per_class={"sky": 0.4, "road": 0.25, "car": None},
        test_dice_per_class={"sky": 0.95, "road": 0.667, "car": None},
    )
    _class_table(result)
    lines = capsys.readouterr().out.splitlines()
    assert any("sky" in line and "0.910" in line and "0.400" in line and "0.950" in line for line in lines)
    assert any("car" in line and "-" in line for line in lines)
    _class_table(SimpleNamespace(test_iou_per_class={"polyp": 0.8}, zero_shot_test_iou_per_class={"polyp": 0.7}, test_dice_per_class={}))
    assert capsys.readouterr().out == ""  # one class: the summary line says it all


@pytest.mark.slow
def test_sam_nano_tunes_a_colour_coded_aerial_set_without_prompts_then_predicts_without_boxes(tmp_path):
    """The prompt-free protocol end to end: within budget + 5 s, above the most-frequent-class
    baseline, and label maps with several classes from `predict` without a boxes file."""
    from qtt_core.testing.aerial import CLASSES, write_aerial_set

    data = write_aerial_set(tmp_path / "aerial", train=16, val=4, test=4, size=128, seed=1)
    out = tmp_path / "run"
    started = time.monotonic()
    result = run_cli("tune", data, "--budget", "45", "--model", "sam-nano", "--classes", data / "classes.json",
                     "--prompt", "none", "--out", out, "--json")
    assert result.returncode == 0, result
    assert time.monotonic() - started <= 45 + 5
    payload = json.loads(result.stdout)
    assert payload["prompt"] == "none" and payload["zero_shot_test_iou"] is None
    assert list(payload["test_iou_per_class"]) == list(CLASSES)
    assert payload["test_iou"] > payload["baseline_test_iou"]
    images = sorted((data / "test" / "images").glob("*.png"))
    predicted = run_cli("predict", out, *images, "--out", tmp_path / "pred")
    assert predicted.returncode == 0, predicted
    colours = {tuple(c) for m in (tmp_path / "pred").glob("*_mask.png") for c in np.unique(np.asarray(Image.open(m).convert("RGB")).reshape(-1, 3), axis=0)}
    assert len(colours) > 2 and colours <= {(255, 0, 0), *CLASSES.values()}  # several classes, in the masks' own colours
