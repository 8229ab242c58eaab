"""Seeded, stratified, tiny-dataset-proof splits, and split files for resumed runs."""

from __future__ import annotations

import json

import pytest

from qtt_core.data import load_dataset
from qtt_core.data.splits import assign_splits
from qtt_core.errors import UsageError


def _keys(n):
    return [f"images/{i:03d}.png" for i in range(n)]


def test_split_is_reproducible_and_depends_on_the_seed():
    keys = _keys(40)
    first, _ = assign_splits(keys, [None] * 40, seed=3)
    again, _ = assign_splits(list(reversed(keys)), [None] * 40, seed=3)
    assert [[keys[i] for i in first[s]] for s in first] == [[list(reversed(keys))[i] for i in again[s]] for s in again]
    other, _ = assign_splits(keys, [None] * 40, seed=4)
    assert other != first
    assert {s: len(v) for s, v in first.items()} == {"train": 28, "val": 6, "test": 6}
    assert sorted(i for v in first.values() for i in v) == list(range(40))


@pytest.mark.parametrize(("n", "sizes", "shared"), [(5, (3, 1, 1), False), (3, (1, 1, 1), False), (2, (1, 1, 1), True), (1, (1, 1, 1), True)])
def test_tiny_datasets_keep_train_and_val_non_empty(n, sizes, shared):
    splits, warnings = assign_splits(_keys(n), [None] * n, seed=0)
    assert tuple(len(splits[s]) for s in ("train", "val", "test")) == sizes
    assert bool(warnings) == shared
    if shared:
        assert "shares its pairs" in warnings[0]


def test_stratified_split_puts_every_class_in_train():
    n = 30
    presence = [frozenset({1})] * 26 + [frozenset({1, 2})] * 2 + [frozenset({3})] * 2
    for seed in range(10):
        splits, _ = assign_splits(_keys(n), [None] * n, presence, seed=seed)
        in_train = set().union(*(presence[i] for i in splits["train"]))
        assert in_train == {1, 2, 3}


def test_stratified_split_spreads_a_common_class_over_splits():
    n = 40
    presence = [frozenset({1})] * 20 + [frozenset({2})] * 20
    splits, _ = assign_splits(_keys(n), [None] * n, presence, seed=1)
    for name in ("val", "test"):
        assert {label for i in splits[name] for label in presence[i]} == {1, 2}


def test_bad_fractions_are_refused():
    with pytest.raises(UsageError, match="fraction"):
        assign_splits(_keys(5), [None] * 5, val_fraction=0.6, test_fraction=0.5)


def test_multiclass_load_is_stratified_and_save_load_round_trips(multiclass_folder, tmp_path):
    data = load_dataset(multiclass_folder, split_seed=7)
    assert data.split_source == "seeded" and any("stratified" in note for note in data.notes)
    path = data.save_split(tmp_path / "run" / "split.json")
    saved = json.loads(path.read_text())
    assert saved["seed"] == 7 and sorted(saved["splits"]) == ["test", "train", "val"]
    resumed = load_dataset(multiclass_folder, split_seed=99, split_file=path)
    assert resumed.split_keys() == data.split_keys() and resumed.split_source == "file"
    assert load_dataset(multiclass_folder, split_seed=99).split_keys() != data.split_keys()


def test_split_file_that_no_longer_matches_is_an_error(binary_folder, tmp_path):
    path = load_dataset(binary_folder).save_split(tmp_path / "split.json")
    (binary_folder / "images" / "sample00.png").unlink()
    (binary_folder / "masks" / "sample00.png").unlink()
    with pytest.raises(UsageError, match="does not match the dataset"):
        load_dataset(binary_folder, split_file=path)
    (tmp_path / "broken.json").write_text("[]")
    with pytest.raises(UsageError, match="cannot be read"):
        load_dataset(binary_folder, split_file=tmp_path / "broken.json")


def test_check_and_load_draw_the_same_split(multiclass_folder):
    from qtt_core.data import check_dataset

    report = check_dataset(multiclass_folder, split_seed=5)
    data = load_dataset(multiclass_folder, split_seed=5)
    assert report.splits == {name: len(data.split(name)) for name in ("train", "val", "test")}
    assert report.split_source == data.split_source == "seeded"
