"""``qtt-seg data check``: exit codes, --json, one line per problem, no traceback, no writes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from qtt_core.cli import main


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the console-script entry point in-process: ``(exit code, stdout, stderr)``."""
    monkeypatch.setattr(sys, "argv", ["qtt-seg", *map(str, args)])
    try:
        main.run()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_usable_dataset_exits_0_with_a_summary(monkeypatch, capsys, multiclass_folder):
    code, out, err = run_cli(monkeypatch, capsys, "data", "check", multiclass_folder)
    assert code == 0, err
    assert "class ids" in out and "usable" in out and "pairs: 12" in out
    assert "problem" not in err


def test_json_has_the_contract_keys(monkeypatch, capsys, tmp_path, gen):
    root = gen.write_pairs(tmp_path / "d", [(i, gen.colour_mask(m)) for i, m in gen.shapes(8, num_classes=3)])
    classes = tmp_path / "classes.json"
    classes.write_text(json.dumps({"classes": [{"name": n, "color": c} for n, c in (("r", "#FF0000"), ("g", "#00FF00"), ("b", "#0000FF"))]}))
    code, out, _ = run_cli(monkeypatch, capsys, "data", "check", root, "--classes", classes, "--json")
    payload = json.loads(out)
    assert code == 0 and payload["usable"] is True
    assert {"pairs", "splits", "num_classes", "classes", "problems", "encoding"} <= set(payload)
    assert payload["pairs"] == 8 and payload["num_classes"] == 3 and payload["encoding"].startswith("colour-coded")
    assert [c["name"] for c in payload["classes"]] == ["r", "g", "b"]


def test_problems_exit_2_one_line_each_and_nothing_is_written(monkeypatch, capsys, binary_folder, gen):
    (binary_folder / "masks" / "sample01.png").unlink()
    (binary_folder / "images" / "sample03.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(binary_folder / "masks" / "sample04.png")
    before = gen.snapshot(binary_folder)
    code, out, err = run_cli(monkeypatch, capsys, "data", "check", binary_folder, "--json")
    assert code == 2
    payload = json.loads(out)
    problems = [line for line in err.splitlines() if line.startswith("qtt-seg: problem: ")]
    assert len(problems) == len(payload["problems"]) == 3
    assert any("sample01.png has no mask" in p for p in problems)
    assert any("sample03.png cannot be read" in p for p in problems)
    assert any("sample04.png is 5x5" in p for p in problems)
    assert "Traceback" not in err
    assert gen.snapshot(binary_folder) == before


def test_bad_options_exit_2(monkeypatch, capsys, binary_folder, tmp_path):
    code, _, err = run_cli(monkeypatch, capsys, "data", "check", binary_folder, "--resize", "stretch")
    assert code == 2 and "resize" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(monkeypatch, capsys, "data", "check", binary_folder, "--classes", tmp_path / "missing.json")
    assert code == 2 and "missing.json" in err


@pytest.mark.slow
def test_console_script_process_gives_no_traceback(binary_folder):
    (binary_folder / "masks" / "sample00.png").write_text("not a png")
    result = subprocess.run(
        [sys.executable, "-m", "qtt_core.cli.main", "data", "check", str(binary_folder)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "sample00.png cannot be read" in result.stderr and "Traceback" not in result.stderr
