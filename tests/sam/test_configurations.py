"""Every configuration of the spaces builds a training setup (without training)."""

from __future__ import annotations

import pytest

from qtt_core.errors import UsageError
from qtt_core.registry import Registry
from qtt_core.space import sample_configurations
from qtt_sam.engine import TrainConfig, build_trial
from qtt_sam.engine.loop import input_side
from qtt_sam.wrapper import SamWrapper

_OPTIMIZERS = {"adamw": "AdamW", "sgd": "SGD", "lion": "Lion"}


@pytest.fixture(scope="module")
def tiny():
    wrapper = SamWrapper("sam-tiny")
    base = wrapper.build()
    base.requires_grad_(False)
    return wrapper, base


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
