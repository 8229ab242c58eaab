"""The run state: typed in memory, the same JSON on disk."""

from __future__ import annotations

import json

from qtt_core.tuner.state import RunState, ZeroShot


def test_the_first_seconds_state_and_a_full_one_round_trip_through_json():
    assert RunState.from_json({"settings": {"model": "m"}}) == RunState(settings={"model": "m"})
    state = RunState(
        settings={"model": "m"}, elapsed_s=12.5, metafeatures={"n": 3.0}, candidates=[{"lr": 0.1}], optimizer={"history": []},
        history={"rows": []}, predictors="none", zero_shot=ZeroShot(0.5, 0.4, 0.2, 4.5, 1.1, {"iou": {"a": 0.4}}),
        phase="final", final={"test_iou": 0.6}, refit={"done": True}, startup=[{"resumed": False}],
    )
    payload = json.loads(json.dumps(state.to_json()))
    assert payload["zero_shot"]["reserve_s"] == 4.5 and payload["phase"] == "final"
    assert RunState.from_json(payload) == state
    assert "zero_shot" not in RunState().to_json()  # unset fields stay out of the file
    assert RunState.from_json({"settings": {}, "a_key_from_elsewhere": 1}) == RunState()
