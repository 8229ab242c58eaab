"""Training on generated data: loss falls, freeze-thaw resumes exactly, deadlines, caching."""

from __future__ import annotations

import functools
import time
from types import SimpleNamespace

import pytest
from helpers import check_freeze_thaw, check_mixed_precision, flat_curve
from sam_test_configs import FAST

from qtt_core.errors import UsageError
from qtt_core.testing import make_shapes_data


def test_loss_falls_and_each_epoch_is_reported(open_session):
    session = open_session()
    reports = session.train("fast", FAST, to_epoch=6)
    assert [r.epoch for r in reports] == [1, 2, 3, 4, 5, 6]
    assert all(r.cost_s > 0 and 0.0 <= r.score <= 1.0 for r in reports)
    assert reports[-1].train_loss < 0.9 * reports[0].train_loss, flat_curve(reports)
    assert session.last_epoch("fast") == 6
    assert session.history("fast").scores == [r.score for r in reports]


RESUMABLE = {
    **FAST, "lora": 1, "lora_rank": 4, "lora_alpha_ratio": 2.0, "lora_dropout": 0.1, "lora_targets": "qkv+mlp",
    "lora_blocks": "all", "train_prompt_encoder": 1, "sched": "onecycle", "onecycle_pct_start": 0.3,
    "onecycle_div_factor": 10, "horizontal_flip": 1, "vertical_flip": 1, "random_rotate": 1, "color_jitter": 0.2,
    "box_jitter": 0.1, "loss": "focal_dice",
}
PLATEAU = {**FAST, "sched": "plateau", "patience_epochs": 0, "decay_rate": 0.5, "optimizer": "sgd", "momentum": 0.9, "lr": 0.01}


@pytest.mark.parametrize(
    "config", [pytest.param(RESUMABLE, marks=pytest.mark.slow), PLATEAU], ids=["lora-onecycle-augment", "plateau-sgd"]
)
def test_freeze_thaw_reproduces_straight_training(open_session, tmp_path, config):
    check_freeze_thaw(open_session, tmp_path, config, other=FAST)


def test_past_deadline_trains_nothing(open_session):
    session = open_session()
    assert session.train("c", FAST, to_epoch=2, deadline=time.monotonic() - 1) == []
    assert session.last_epoch("c") == 0


@pytest.mark.slow
def test_deadline_stops_within_an_epoch_and_discards_it(open_session, tmp_path):
    session = open_session(workdir=tmp_path / "a")
    session.train("c", RESUMABLE, to_epoch=1)
    epoch_s = session.history("c").costs_s[0]
    budget_s = 2.5 * epoch_s
    started = time.monotonic()
    reports = session.train("c", RESUMABLE, to_epoch=50, deadline=started + budget_s)
    elapsed = time.monotonic() - started
    # stopped within an epoch of the deadline (a second of slack for a busy machine's stalls; 50 epochs take 7 s)
    assert 1 <= len(reports) < 49 and elapsed < budget_s + max(epoch_s, 1.0)
    done = session.last_epoch("c")
    assert done == 1 + len(reports)
    # the half-trained epoch left no trace: continuing equals training straight through
    following = session.train("c", RESUMABLE, to_epoch=done + 1)
    straight = open_session(workdir=tmp_path / "b").train("c", RESUMABLE, to_epoch=done + 1)
    assert flat_curve(following) == pytest.approx(flat_curve(straight[-1:]), rel=1e-5, abs=1e-7)


def test_cached_embeddings_give_the_same_losses_and_scores(open_session, tmp_path):
    config = {**FAST, "horizontal_flip": 1, "random_rotate": 1}
    cached = open_session(workdir=tmp_path / "c")
    uncached = open_session(workdir=tmp_path / "u", options={"cache_embeddings": False})
    with_cache = cached.train("c", config, to_epoch=3)
    without = uncached.train("c", config, to_epoch=3)
    assert flat_curve(with_cache) == pytest.approx(flat_curve(without), rel=1e-5, abs=1e-7)
    assert cached.context.cache.hits > 0 and len(uncached.context.cache) == 0
    # a second trial of the same session reuses the embeddings of the first
    hits = cached.context.cache.hits
    cached.train("d", {**config, "lr": 2e-4}, to_epoch=1)
    assert cached.context.cache.hits > hits


def test_lora_and_colour_jitter_do_not_cache(open_session):
    session = open_session(options={"cache_embeddings": True})
    session.train("lora", {**FAST, "lora": 1}, to_epoch=1)
    session.train("jitter", {**FAST, "color_jitter": 0.2}, to_epoch=1)
    keys = list(session.context.cache._entries)
    assert all(key[0] != "train" for key in keys)  # only frozen-encoder evaluation embeddings


def test_multiclass_training_scores_mean_iou(tmp_path):
    from qtt_sam import SamAdapter

    from qtt_core.adapter import SessionRequest

    data = make_shapes_data(n_train=4, n_val=2, n_test=2, size=(64, 64), num_classes=3, seed=2)
    session = SamAdapter().open_session(SessionRequest(model="sam-tiny", data=data, workdir=tmp_path))
    reports = session.train("m", {**FAST, "box_per_component": 1}, to_epoch=2)
    assert [r.epoch for r in reports] == [1, 2] and all(0 <= r.score <= 1 for r in reports)
    assert 0.0 <= session.zero_shot_score("test") <= 1.0
    session.close()


def test_zero_shot_matches_an_untrained_lora_model(open_session):
    # LoRA starts as the identity (B = 0): its epoch-0 model is the base model
    session = open_session()
    zero = session.zero_shot_score("val")
    assert 0.0 <= zero <= 1.0
    assert session.zero_shot_score("val") == zero


def test_unknown_hyperparameter_is_a_usage_error(open_session):
    with pytest.raises(UsageError, match="unknown hyperparameters"):
        open_session().train("c", {**FAST, "lora_rnak": 4}, to_epoch=1)


def test_score_of_an_untrained_configuration_is_a_usage_error(open_session):
    with pytest.raises(UsageError, match="train it first"):
        open_session().score("never", "test")


def test_nan_loss_fails_the_trial_and_keeps_the_last_state(open_session, monkeypatch):
    from qtt_engine import loop

    from qtt_core.adapter import TrialFailed

    session = open_session()
    session.train("c", FAST, to_epoch=1)
    monkeypatch.setattr(loop, "mask_loss", lambda *args: float("nan") * args[1].sum())
    with pytest.raises(TrialFailed, match="not finite|nan"):
        session.train("c", FAST, to_epoch=2)
    assert session.last_epoch("c") == 1
    monkeypatch.undo()
    assert [r.epoch for r in session.train("c", FAST, to_epoch=2)] == [2]


def test_release_keeps_the_state_on_disk(open_session):
    session = open_session()
    first = session.train("c", FAST, to_epoch=1)
    session.release("c")
    assert session._live is None and "c" not in session._states
    assert session.last_epoch("c") == 1 and session.history("c").scores == [first[0].score]


def test_the_best_validated_epoch_is_kept_beside_the_latest(open_session, monkeypatch, tmp_path):
    session = open_session()
    scripted = iter([0.5, 0.7, 0.4, 0.3])  # validation peaks at epoch 2
    real_evaluate = type(session)._evaluate
    monkeypatch.setattr(type(session), "_evaluate", lambda self, trial, split: SimpleNamespace(score=functools.partial(float, next(scripted))))
    session.train("c", FAST, to_epoch=4)
    monkeypatch.setattr(type(session), "_evaluate", real_evaluate)
    best_file = tmp_path / "work" / "trials" / "c.best.pt"
    assert best_file.is_file()
    later = open_session()  # another process's session on the same folder
    assert later._kept_state("c", 2).epoch == 2 and later._kept_state("c", None).epoch == 4
    assert [r.score for r in later.epoch_reports("c")] == [0.5, 0.7, 0.4, 0.3]
    with pytest.raises(ValueError, match="not kept"):
        later.score("c", "val", epoch=3)
    best_weights = later.export("c", tmp_path / "best", epoch=2)
    latest_weights = later.export("c", tmp_path / "latest")
    from qtt_engine.export import TRAINABLE_FILE
    from safetensors.torch import load_file

    best, latest = load_file(str(best_weights / TRAINABLE_FILE)), load_file(str(latest_weights / TRAINABLE_FILE))
    assert best.keys() == latest.keys() and any(not best[k].equal(latest[k]) for k in best)  # two different states


def test_a_damaged_session_state_is_a_one_line_error_naming_the_file(open_session, tmp_path):
    open_session().train("c", FAST, to_epoch=1)
    state = tmp_path / "work" / "trials" / "c.pt"
    state.write_bytes(state.read_bytes()[:100])  # a disk that lost the end of the file
    with pytest.raises(UsageError, match=str(state)) as error:
        open_session().last_epoch("c")
    assert "\n" not in str(error.value)


def test_bf16_autocast_trains_on_the_cpu_and_fp16_scales_the_loss(open_session):
    check_mixed_precision(open_session, FAST)


def test_prefetching_the_next_batch_changes_nothing(open_session, tmp_path):
    """CUDA prepares the next batch on a thread during the step; the epochs are the same."""
    config = {**FAST, "horizontal_flip": 1, "random_rotate": 1, "color_jitter": 0.2, "box_jitter": 0.1, "batch_size": 1}
    curves = []
    for prefetch in (False, True):
        session = open_session(workdir=tmp_path / str(prefetch))
        session.context.prefetch = prefetch
        curves.append(flat_curve(session.train("c", config, to_epoch=3)))
    assert curves[1] == pytest.approx(curves[0], rel=1e-6, abs=1e-8)
