"""Search spaces: exact counting, encoding round trip, sampling, ids."""

from __future__ import annotations

import math

import pytest
from ConfigSpace import (
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    InCondition,
    OrConjunction,
    AndConjunction,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)
from ConfigSpace.util import generate_grid

from qtt_core.errors import UsageError
from qtt_core.registry import Registry
from qtt_core.space import SpaceEncoder, config_id, count_valid_configurations, normalise_config, sample_configurations


def _small_spaces() -> list[ConfigurationSpace]:
    spaces = []
    # a chain: c active only when b is active and equals 2, b only when a == "x"
    cs = ConfigurationSpace(seed=1)
    a = CategoricalHyperparameter("a", ["x", "y", "z"])
    b = OrdinalHyperparameter("b", [1, 2, 3])
    c = UniformIntegerHyperparameter("c", 1, 4)
    d = Constant("d", "k")
    cs.add([a, b, c, d, EqualsCondition(b, a, "x"), EqualsCondition(c, b, 2)])
    spaces.append(cs)
    # forbidden clauses, including one over a conditional hyperparameter
    cs = ConfigurationSpace(seed=2)
    a = CategoricalHyperparameter("a", [0, 1], default_value=1)
    b = CategoricalHyperparameter("b", [0, 1, 2])
    c = OrdinalHyperparameter("c", [0.1, 0.2])
    e = CategoricalHyperparameter("e", ["p", "q"])
    cs.add([a, b, c, e, InCondition(c, b, [1, 2])])
    cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(a, 0), ForbiddenEqualsClause(b, 0)))
    cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(c, 0.2), ForbiddenEqualsClause(e, "q")))
    spaces.append(cs)
    # a child with two parents (and/or conjunctions)
    cs = ConfigurationSpace(seed=3)
    a = CategoricalHyperparameter("a", [0, 1])
    b = CategoricalHyperparameter("b", [0, 1])
    c = OrdinalHyperparameter("c", [1, 2, 3])
    f = OrdinalHyperparameter("f", [1, 2])
    cs.add([a, b, c, f])
    cs.add(AndConjunction(EqualsCondition(c, a, 1), EqualsCondition(c, b, 1)))
    cs.add(OrConjunction(EqualsCondition(f, a, 0), EqualsCondition(f, b, 0)))
    spaces.append(cs)
    return spaces


@pytest.mark.parametrize("space", _small_spaces(), ids=["chain", "forbidden", "conjunctions"])
def test_count_matches_brute_force_enumeration(space):
    steps = {hp.name: hp.upper - hp.lower + 1 for hp in space.values() if isinstance(hp, UniformIntegerHyperparameter)}
    assert count_valid_configurations(space) == len(generate_grid(space, steps))


def test_count_by_hand():
    space = _small_spaces()[0]
    # a=x: b in {1, 3} -> 2, b=2 -> c 4 ways => 6; a=y, a=z: 1 each => 8
    assert count_valid_configurations(space) == 8


def test_continuous_hyperparameters_are_refused():
    space = ConfigurationSpace()
    space.add(UniformFloatHyperparameter("lr", 1e-5, 1e-2, log=True))
    with pytest.raises(UsageError, match="lr"):
        count_valid_configurations(space)


def test_shipped_space_sizes():
    registry = Registry(autoload=False)
    sam2 = registry.load_space("qtt-seg-sam2")
    # lr 27, wd 4, lora (off 1 + on 3 ranks x 2 dropouts), 3 flips, and the schedulers:
    # cosine 1, onecycle 15*10*8, plateau 3*3, cosine_warm 3*2, step 3*2, poly 3
    schedules = 1 + 15 * 10 * 8 + 9 + 6 + 6 + 3
    assert count_valid_configurations(sam2) == 27 * 4 * (1 + 3 * 2) * 2**3 * schedules
    assert count_valid_configurations(registry.load_space("sam-lora")) >= 200_000_000


def test_published_space_has_the_recorded_values():
    sam2 = Registry(autoload=False).load_space("qtt-seg-sam2")
    assert len(sam2["lr"].sequence) == 27
    assert set(sam2["sched"].choices) == {"cosine", "onecycle", "plateau", "cosine_warm", "step", "poly"}
    assert sam2["onecycle_pct_start"].sequence[0] == 0.03 and sam2["onecycle_pct_start"].sequence[-1] == 0.1
    assert set(sam2.parents_of["lora_rank"][0].choices) == {0, 1}


@pytest.mark.parametrize("name", ["sam-lora", "qtt-seg-sam2"])
def test_encoding_round_trip(name):
    space = Registry(autoload=False).load_space(name)
    configs = sample_configurations(space, 200, seed=4)
    encoder = SpaceEncoder(space)
    rows = encoder.encode(configs)
    assert rows.shape == (200, encoder.dim) and rows.min() >= 0 and rows.max() <= 1
    assert encoder.decode(rows) == configs


def test_encoding_marks_inactive_parameters():
    space = Registry(autoload=False).load_space("qtt-seg-sam2")
    encoder = SpaceEncoder(space)
    off = dict(space.get_default_configuration()) | {"lora": 0}
    off.pop("lora_rank", None), off.pop("lora_dropout", None)
    row = encoder.encode([off])[0]
    columns = dict(zip(encoder.feature_names, row, strict=True))
    assert columns["lora_rank:active"] == 0 and columns["lora_rank"] == 0
    assert columns["lr"] == pytest.approx(math.log(1e-4 / 1e-5) / math.log(7e-3 / 1e-5))  # log scale


def test_encoding_rejects_unknown_values():
    encoder = SpaceEncoder(Registry(autoload=False).load_space("qtt-seg-sam2"))
    config = dict(Registry(autoload=False).load_space("qtt-seg-sam2").get_default_configuration())
    with pytest.raises(UsageError, match="lr"):
        encoder.encode([config | {"lr": 0.123}])


def test_sampling_is_seeded_and_distinct():
    space = Registry(autoload=False).load_space("sam-lora")
    first = sample_configurations(space, 50, seed=7)
    assert first == sample_configurations(space, 50, seed=7)
    assert first != sample_configurations(space, 50, seed=8)
    assert len({config_id(c) for c in first}) == 50


def test_config_id_ignores_order_and_inactive_values():
    config = {"b": 1, "a": 0.5}
    assert config_id(config) == config_id({"a": 0.5, "b": 1, "c": None})
    assert config_id(config) != config_id({"a": 0.5, "b": 2})
    assert normalise_config({"x": float("nan"), "y": 2}) == {"y": 2}


def test_space_from_a_file(tmp_path):
    space = _small_spaces()[0]
    path = tmp_path / "mine.yaml"
    space.to_yaml(path)
    assert count_valid_configurations(Registry(autoload=False).load_space(path)) == 8
    bad = tmp_path / "bad.yaml"
    bad.write_text("not: [a, space")
    with pytest.raises(UsageError, match="bad.yaml"):
        Registry(autoload=False).load_space(bad)
