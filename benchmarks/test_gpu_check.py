"""Checks of the GPU check's tooling that run anywhere (no benchmark fixture, about 10 s):
``gpu_summary.py`` on fake inputs, ``gpu_check.sh``'s exit without a GPU, and the conformance
of :mod:`random_weights_plugin`'s adapters (with the small models).

    pytest benchmarks/test_gpu_check.py
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
from gpu_summary import main

from qtt_core.installed import package_installed
from qtt_core.registry import Registry
from qtt_core.testing import check_adapter

SCRIPT = Path(__file__).with_name("gpu_check.sh")


def _bench(name: str, group: str, mean_s: float, **extra) -> dict:
    return {"name": name, "group": group, "stats": {"mean": mean_s, "stddev": 0.01, "rounds": 3}, "extra_info": extra}


def _run_folder(folder: Path) -> Path:
    """A finished run as ``tune`` leaves it: 2 configurations, 3 epochs, one failed trial."""
    folder.mkdir(parents=True)
    result = {"model": "sam-vit-b-random", "budget_s": 120.0, "elapsed_s": 118.5, "n_trials": 3, "best_epoch": 2, "val_iou": 0.5,
              "test_iou": 0.4, "zero_shot_test_iou": 0.1, "precision": "bf16", "predictors": "x", "refit": {"pairs": 32}, "weights": "w",
              "startup": [{"resumed": False, "first_epoch_s": 12.25, "phases": {"model": 3.0}}]}
    (folder / "result.json").write_text(json.dumps(result))
    (folder / "trials.csv").write_text(
        "config_id,epoch,score,cost_s,elapsed_s,status,reason\n"
        "a,1,0.3,4.0,21.5,ok,\na,2,0.5,3.0,24.5,ok,\nb,1,nan,0.0,25.0,failed,OutOfMemoryError\nc,1,0.2,4.0,30.0,ok,\n"
    )
    return folder


def test_summary_of_fake_inputs(tmp_path, capsys):
    group = "sam-vit-b cuda bf16 16 images"
    benchmarks = tmp_path / "benchmarks.json"
    benchmarks.write_text(json.dumps({"benchmarks": [
        _bench("test_engine_epoch[x-bs4-cached]", group, 0.5, images_per_s=32.0, precision="bf16", peak_gpu_memory_mb=2048.0),
        _bench("test_reference_loop_epoch[x]", group, 2.0, images_per_s=8.0, precision="bf16", peak_gpu_memory_mb=1024.0),
        _bench("test_whole_tune[y]", "tune cuda", 30.0, n_trials=2),
    ]}))
    run = _run_folder(tmp_path / "runs" / "sam-vit-b-random")
    stderr = tmp_path / "broken.stderr"
    stderr.write_text("Traceback ...\nqtt-seg: error: CUDA out of memory\n")
    out = tmp_path / "gpu_check.json"

    code = main([
        "--out", str(out), "--benchmarks", str(benchmarks), "--benchmarks-exit-code", "0",
        "--tune", "sam-vit-b-random", "0", str(run), str(tmp_path / "none.stderr"),
        "--tune", "broken-random", "1", str(tmp_path / "runs" / "broken-random"), str(stderr),
        "--skipped-tune", "sam2.1-hiera-tiny-random", "no sam2", "--phase", "benchmarks", "95",
    ])

    summary = json.loads(out.read_text())
    cases = {c["name"]: c for c in summary["benchmarks"]["cases"]}
    assert cases["test_engine_epoch[x-bs4-cached]"]["speedup_vs_reference"] == pytest.approx(4.0)
    assert cases["test_engine_epoch[x-bs4-cached]"]["peak_gpu_memory_mb"] == 2048.0
    assert "speedup_vs_reference" not in cases["test_whole_tune[y]"]  # no reference in its group
    tune = summary["tunes"]["sam-vit-b-random"]
    assert (tune["epochs"], tune["failed"], tune["first_epoch_done_s"], tune["refit_pairs"], tune["precision"]) == (3, 1, 21.5, 32, "bf16")
    assert (tune["first_epoch_s"], tune["startup_phases"]) == (12.25, {"model": 3.0})
    broken = summary["tunes"]["broken-random"]
    assert "FileNotFoundError" in broken["error"] and "CUDA out of memory" in broken["stderr_tail"]
    assert summary["tunes"]["sam2.1-hiera-tiny-random"] == {"skipped": "no sam2"}
    assert summary["phases_s"] == {"benchmarks": 95.0}
    assert set(summary["environment"]) >= {"gpu", "torch", "cuda", "sam2_installed"}
    assert (summary["ok"], code) == (False, 1)  # a tune failed
    assert "sam-vit-b-random: 3 trials, 3 epochs in 118 s, first epoch from 12.2 s to 21.5 s, bf16" in capsys.readouterr().out


def test_summary_ok_without_tunes_and_with_a_missing_benchmark_file(tmp_path):
    out = tmp_path / "gpu_check.json"
    assert main(["--out", str(out), "--benchmarks-exit-code", "0"]) == 0
    assert main(["--out", str(out), "--benchmarks", str(tmp_path / "absent.json"), "--benchmarks-exit-code", "2"]) == 1
    assert "FileNotFoundError" in json.loads(out.read_text())["benchmarks"]["error"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the exit without a GPU")
def test_gpu_check_without_a_gpu_says_so(tmp_path):
    done = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "torch.cuda.is_available() is False" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("model", [
    "sam-tiny-random",
    pytest.param("sam2-test-random", marks=pytest.mark.skipif(not package_installed("sam2", "build_sam"), reason="needs the sam2 package")),
])
def test_random_weights_adapters_conform(model):
    registry = Registry(autoload=False, plugins=["random_weights_plugin"])
    check_adapter(registry.adapter_for(model), model, registry=registry)
