"""Every configuration of the spaces builds a training setup (without training)."""

from __future__ import annotations

import pytest
import torch
from helpers import frozen_base
from qtt_engine import TrainConfig, build_trial
from qtt_engine.loop import input_side
from qtt_sam.wrapper import SamWrapper

from qtt_core.errors import UsageError
from qtt_core.registry import Registry
from qtt_core.space import sample_configurations

_OPTIMIZERS = {"adamw": "AdamW", "sgd": "SGD", "lion": "Lion"}


@pytest.fixture(scope="module")
def tiny():
    wrapper = SamWrapper("sam-tiny")
    return wrapper, frozen_base(wrapper)


@pytest.mark.parametrize(("space_name", "count"), [("sam-lora", 30), ("qtt-seg-sam2", 12)])
def test_sampled_configurations_build(tiny, space_name, count):
    wrapper, base = tiny
    space = Registry().load_space(space_name)
    configs = sample_configurations(space, count, seed=11)
    assert len(configs) == count
    for config in configs:
        settings = TrainConfig.from_mapping(config, wrapper.part_defaults)
        trial = build_trial(wrapper, base, settings, max_epochs=10, steps_per_epoch=3, seed=0)
        assert type(trial.optimizer).__name__ == _OPTIMIZERS[settings.optimizer], config
        assert trial.optimizer.param_groups[0]["lr"] <= config["lr"] * 1.0001
        names = trial.trainable_names()
        assert names and any("lora_" in n for n in names) == bool(settings.lora), config
        assert input_side(wrapper, settings.resolution_scale) in (64, 96, 128)
        for _ in range(3):  # the schedule steps without complaint (no gradients: no change)
            trial.optimizer.step()
            trial.schedule.after_update()
        trial.schedule.after_epoch(1, 0.5)
        assert trial.schedule.state_dict()["updates"] == 3


def test_sam2_space_keys_take_defaults(tiny):
    wrapper, _ = tiny
    settings = TrainConfig.from_mapping({"lr": 1e-4, "sched": "onecycle", "onecycle_final_div_factor": 160, "lora": 1}, wrapper.part_defaults)
    assert (settings.optimizer, settings.lora_targets, settings.loss, settings.batch_size) == ("adamw", "qkv+mlp", "bce_dice", 1)
    assert settings.onecycle_final_div_factor == 160.0 and settings.enabled_parts() == ["train_mask_decoder"]


def test_bad_values_are_usage_errors(tiny):
    wrapper, _ = tiny
    with pytest.raises(UsageError, match="optimizer='adam'"):
        TrainConfig.from_mapping({"optimizer": "adam"}, wrapper.part_defaults)


def _lrs(config: dict, epochs: int, steps_per_epoch: int = 2, scores=None) -> list[float]:
    """Learning rate at the start of each epoch 1..epochs (after stepping as the loop does)."""
    from qtt_engine.schedule import LrSchedule

    parameter = torch.nn.Parameter(torch.zeros(1))
    settings = TrainConfig.from_mapping({"lr": 1e-3, **config}, {})
    optimizer = torch.optim.SGD([{"params": [parameter]}], lr=settings.lr)
    schedule = LrSchedule(optimizer, settings, max_epochs=epochs, steps_per_epoch=steps_per_epoch)
    lrs = []
    for epoch in range(1, epochs + 1):
        lrs.append(optimizer.param_groups[0]["lr"])
        for _ in range(steps_per_epoch):
            optimizer.step()
            schedule.after_update()
        schedule.after_epoch(epoch, (scores or [0.5] * epochs)[epoch - 1])
    return lrs


def test_schedules_follow_their_settings():
    assert _lrs({"sched": "constant"}, 4) == pytest.approx([1e-3] * 4)
    assert _lrs({"sched": "step", "step_size": 2, "decay_rate": 0.1}, 5) == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4, 1e-5])
    cosine = _lrs({"sched": "cosine", "warmup_epochs": 1}, 5)
    assert cosine[0] == pytest.approx(1e-4) and cosine[1] > 8e-4 and cosine[1] > cosine[2] > cosine[3] > cosine[4]
    warm = _lrs({"sched": "cosine_warm", "cosine_t0": 2, "cosine_t_mult": 1}, 5)
    assert warm[0] == warm[2] == warm[4] == pytest.approx(1e-3) and warm[1] < 1e-3  # restarts every 2 epochs
    poly = _lrs({"sched": "poly", "poly_power": 1.0}, 4)
    assert poly == pytest.approx([1e-3, 7.5e-4, 5e-4, 2.5e-4])
    onecycle = _lrs({"sched": "onecycle", "onecycle_pct_start": 0.3, "onecycle_div_factor": 10}, 5)
    assert onecycle[0] == pytest.approx(1e-4) and max(onecycle) > 5e-4 and onecycle[-1] < max(onecycle)
    plateau = _lrs({"sched": "plateau", "patience_epochs": 0, "decay_rate": 0.5}, 4, scores=[0.5, 0.4, 0.6, 0.6])
    assert plateau == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4])


@pytest.mark.parametrize(("epochs", "steps_per_epoch", "pct_start"), [(10, 1, 0.1), (2, 1, 0.3), (3, 1, 0.1), (1, 1, 0.1), (1, 2, 0.5)])
def test_one_cycle_works_with_very_few_updates(epochs, steps_per_epoch, pct_start):
    """A tiny dataset (one batch an epoch): 10 updates at pct_start 0.1 made torch divide by zero."""
    lrs = _lrs({"sched": "onecycle", "onecycle_pct_start": pct_start, "onecycle_div_factor": 10}, epochs, steps_per_epoch)
    assert len(lrs) == epochs and 0 < min(lrs) and max(lrs) <= 1e-3 + 1e-12
