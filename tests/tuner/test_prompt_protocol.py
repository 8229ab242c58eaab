"""``tune --prompt box|none`` with the mock adapter: what each run asks for, reports and resumes."""

from __future__ import annotations

import io
import json

import pytest
from helpers import registry_with, run_cli

from qtt_core.data.baseline import most_frequent_class_baseline
from qtt_core.errors import UsageError
from qtt_core.testing import MockAdapter, make_shapes_data
from qtt_core.testing.adapter import synthetic_curve
from qtt_core.tuner import tune

ZERO_SHOT_FIELDS = ("zero_shot_val_iou", "zero_shot_test_iou", "zero_shot_test_iou_per_class", "zero_shot_test_dice_per_class")


def _data():
    return make_shapes_data(n_train=4, n_val=2, n_test=2, size=(32, 32), num_classes=2)


def _tune(out, adapter, data=None, budget_s=6.0, **options):
    options = {"model": "mock", "optimizer": "random", "max_epochs": 3, "n_candidates": 8, "device": "cpu", **options}
    return tune(data if data is not None else _data(), budget_s, out=out, registry=registry_with(adapter), **options)


def test_a_run_without_prompts_reports_the_baseline_instead_of_zero_shot(tmp_path):
    adapter = MockAdapter(epoch_cost_s=0.05, sleep=True, prompts=("box", "none"))
    data = _data()
    result = _tune(tmp_path / "run", adapter, data, prompt="none")
    payload = json.loads((tmp_path / "run" / "result.json").read_text())
    expected = most_frequent_class_baseline(data)
    assert payload["prompt"] == "none" and isinstance(payload["baseline_test_iou"], float)
    assert payload["baseline_test_iou"] == pytest.approx(expected.test_iou)
    assert payload["baseline_class"] == expected.class_name and payload["baseline_test_iou_per_class"] == expected.test_iou_per_class
    assert all(payload[name] is None for name in ZERO_SHOT_FIELDS), {name: payload[name] for name in ZERO_SHOT_FIELDS}
    assert payload["test_iou"] is not None
    for name in ("incumbent.png", "curves.png", "per_class.png"):
        assert (tmp_path / "run" / "plots" / name).is_file(), name
    assert adapter.opened and {r.prompt for r in adapter.opened} == {"none"}  # search, refit and the final phase
    log = (tmp_path / "run" / "run.log").read_text()
    assert "prompts: none - the model segments without prompts" in log and "zero-shot IoU" not in log
    assert result.reference == ("most-frequent-class baseline", expected.test_iou, expected.test_iou_per_class)


def test_a_box_run_reports_zero_shot_and_the_baseline(tmp_path):
    adapter = MockAdapter(epoch_cost_s=0.05, sleep=True)
    data = _data()
    _tune(tmp_path / "run", adapter, data)
    payload = json.loads((tmp_path / "run" / "result.json").read_text())
    assert payload["prompt"] == "box" and payload["zero_shot_test_iou"] == 0.05 and payload["zero_shot_val_iou"] == 0.05
    assert payload["baseline_test_iou"] == pytest.approx(most_frequent_class_baseline(data).test_iou)
    assert payload["baseline_class"] in data.class_names
    assert {r.prompt for r in adapter.opened} == {"box"}
    assert "prompts: box" in (tmp_path / "run" / "run.log").read_text()


def test_parallel_workers_get_the_prompt_too(tmp_path):
    adapter = MockAdapter(epoch_cost_s=0.05, sleep=True, prompts=("box", "none"))
    _tune(tmp_path / "run", adapter, prompt="none", workers=2)
    assert len(adapter.opened) >= 3 and {r.prompt for r in adapter.opened} == {"none"}  # driver and both workers


@pytest.mark.parametrize(("prompt", "says"), [("none", "is not supported by this model"), ("bogus", "is not a prompt protocol")])
def test_a_prompt_the_model_lacks_stops_before_any_file(tmp_path, prompt, says):
    out = tmp_path / "run"
    with pytest.raises(UsageError, match=says) as raised:
        _tune(out, MockAdapter(), prompt=prompt)
    message = str(raised.value)
    assert "\n" not in message and f"--prompt {prompt}" in message and "mock supports --prompt box" in message
    assert not out.exists() or not any(out.iterdir())


def test_cli_tune_with_an_unknown_prompt_exits_2_with_one_line(tmp_path, monkeypatch):
    registry = registry_with(MockAdapter(prompts=("box", "none")))
    monkeypatch.setattr("qtt_core.tuner.tuner.Registry", lambda *args, **kwargs: registry)
    out = tmp_path / "run"
    result = run_cli("tune", tmp_path / "data", "--budget", "5", "--model", "mock", "--prompt", "bogus", "--out", out)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result
    assert "--prompt bogus" in result.stderr and "box or none" in result.stderr
    assert not out.exists()


class _Killed(BaseException):
    """Stands in for SIGKILL: no handler in the run catches it."""


def test_a_resumed_run_keeps_prompt_none(tmp_path):
    epochs = []

    def dies_after_four_epochs(config, epoch):
        epochs.append(epoch)
        if len(epochs) > 4:
            raise _Killed
        return synthetic_curve(config, epoch)

    out = tmp_path / "run"
    with pytest.raises(_Killed):
        _tune(out, MockAdapter(epoch_cost_s=0.05, prompts=("box", "none"), curve=dies_after_four_epochs), budget_s=20.0, prompt="none")
    assert (out / "state.json").is_file() and not (out / "result.json").exists()
    adapter = MockAdapter(epoch_cost_s=0.05, sleep=True, prompts=("box", "none"))
    result = tune(_data(), 20.0, out=out, resume=True, registry=registry_with(adapter), model="mock", device="cpu")  # no prompt given
    payload = json.loads((out / "result.json").read_text())
    assert result.prompt == payload["prompt"] == "none" and {r.prompt for r in adapter.opened} == {"none"}
    assert payload["zero_shot_test_iou"] is None and payload["baseline_test_iou"] is not None


def test_an_old_state_without_baseline_or_prompt_still_loads():
    from qtt_core.tuner.settings import TuneSettings
    from qtt_core.tuner.state import RunState

    old = {"settings": {"data": "d", "budget_s": 10.0, "model": "mock"},
           "zero_shot": {"val": 0.5, "test": 0.4, "test_eval_s": 0.2, "reserve_s": 4.5}}
    state = RunState.from_json(old)
    assert state.baseline is None and state.zero_shot.test == 0.4
    assert TuneSettings.from_dict(state.settings).prompt == "box"


def test_the_summary_table_and_panel_show_the_baseline_without_prompts(tmp_path, capsys):
    from types import SimpleNamespace

    from rich.console import Console

    from qtt_core.cli.tune_cmd import _class_table, _summary
    from qtt_core.tuner.progress import LiveProgress

    result = _tune(tmp_path / "run", MockAdapter(epoch_cost_s=0.05, sleep=True, prompts=("box", "none")), prompt="none")
    _summary(result)
    out = capsys.readouterr().out
    assert f"(most-frequent-class baseline {result.baseline_test_iou:.4f})" in out and "zero-shot" not in out
    _class_table(SimpleNamespace(
        prompt="none", test_iou_per_class={"sky": 0.91, "road": 0.5}, baseline_test_iou_per_class={"sky": 0.3, "road": 0.0},
        zero_shot_test_iou_per_class=None, test_dice_per_class={},
    ))
    table = capsys.readouterr().out
    assert "baseline IoU" in table and "zero-shot" not in table and any("sky" in line and "0.300" in line for line in table.splitlines())

    panel = LiveProgress(60, Console(file=io.StringIO()))
    panel.update(prompt="none", baseline=0.25, zero_shot=0.05)
    screen = Console(file=io.StringIO(), width=80)
    screen.print(panel._render())
    shown = screen.file.getvalue()
    assert "baseline val IoU" in shown and "0.2500" in shown and "zero-shot" not in shown
