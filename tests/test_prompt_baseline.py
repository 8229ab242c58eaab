"""The most-frequent-class baseline on hand-made masks, and against the engine's own scoring."""

from __future__ import annotations

import numpy as np
import pytest

from qtt_core.data.baseline import label_counts, most_frequent_class, most_frequent_class_baseline
from qtt_core.data.protocol import IGNORE_INDEX


class _Split:
    def __init__(self, masks):
        self.masks = [np.asarray(m, dtype=np.uint8) for m in masks]

    def __len__(self):
        return len(self.masks)

    def mask(self, index, size=None):
        return self.masks[index]

    def image(self, index, size=None):
        return np.zeros((*self.masks[index].shape, 3), np.uint8)

    def name(self, index):
        return f"m{index}"


class _Data:
    def __init__(self, train, val, test, class_names):
        self.splits = {"train": _Split(train), "val": _Split(val), "test": _Split(test)}
        self.class_names = list(class_names)
        self.num_channels = 3

    @property
    def num_classes(self):
        return len(self.class_names)

    def split(self, name):
        return self.splits[name]


I = IGNORE_INDEX


def test_binary_baseline_is_the_iou_of_predicting_the_object_everywhere():
    train = [[[0, 1], [0, 0]]]
    test = [[[1, 1, 0], [0, 0, 0]], [[0, 0], [0, 1]]]  # 3 object pixels of 10
    baseline = most_frequent_class_baseline(_Data(train, [[[0, 0], [0, 1]]], test, ["polyp"]))
    assert (baseline.class_id, baseline.class_name) == (1, "polyp")
    assert baseline.test_iou == pytest.approx(3 / 10)
    assert baseline.val_iou == pytest.approx(1 / 4)
    assert baseline.test_iou_per_class == {"polyp": pytest.approx(3 / 10)}


def test_multiclass_takes_the_most_frequent_training_class_and_averages_over_occurring_classes():
    train = [[[1, 2, 2], [2, 0, 0]], [[3, 0, 0]]]  # class 2 has the most pixels (background is not a class)
    test = [[[2, 2, 1, 0]]]  # class 3 is in neither the test masks nor the prediction
    baseline = most_frequent_class_baseline(_Data(train, test, test, ["a", "b", "c"]))
    assert (baseline.class_id, baseline.class_name) == (2, "b")
    # class b: 2 of 4 pixels; class a: intersection 0, union 1; class c: absent
    assert baseline.test_iou_per_class == {"a": 0.0, "b": pytest.approx(0.5), "c": None}
    assert baseline.test_iou == pytest.approx((0.0 + 0.5) / 2)


def test_ignored_pixels_count_nowhere():
    train = [[[1, I, I, I]]]  # ignore is the most frequent value, but not a class
    test = [[[1, I, 0, I]]]
    baseline = most_frequent_class_baseline(_Data(train, test, test, ["a", "b"]))
    assert baseline.class_id == 1
    assert baseline.test_iou == pytest.approx(1 / 2)  # 1 of the 2 pixels that are not ignored


def test_the_class_is_absent_from_the_test_split():
    train = [[[2, 2, 1]]]
    test = [[[1, 1, 0, 0]]]  # class 2 (predicted everywhere) is not in the test masks
    baseline = most_frequent_class_baseline(_Data(train, test, test, ["a", "b"]))
    assert baseline.class_id == 2
    assert baseline.test_iou_per_class == {"a": 0.0, "b": 0.0}
    assert baseline.test_iou == 0.0


def test_a_split_where_nothing_occurs_scores_one_like_the_engine():
    everything_ignored = [[[I, I]]]
    baseline = most_frequent_class_baseline(_Data([[[1, 0]]], everything_ignored, [], ["a"]))
    assert baseline.val_iou == 1.0 and baseline.test_iou == 1.0 and baseline.test_iou_per_class == {"a": None}


def test_ties_and_no_foreground_in_training_take_the_lowest_class():
    assert most_frequent_class(label_counts(_Split([[[0, 0]]])), 3) == 1
    assert most_frequent_class(label_counts(_Split([[[3, 2, 0]]])), 3) == 2


def test_masks_taller_than_a_block_are_counted_whole(monkeypatch):
    monkeypatch.setattr("qtt_core.data.baseline.ROWS_PER_BLOCK", 3)
    mask = np.arange(70, dtype=np.uint8).reshape(10, 7) % 4
    assert np.array_equal(label_counts(_Split([mask])), np.bincount(mask.ravel(), minlength=256))


@pytest.mark.parametrize("num_classes", [1, 4])
def test_random_masks_score_as_the_engine_scores_a_constant_prediction(num_classes):
    metrics = pytest.importorskip("qtt_engine.metrics")
    rng = np.random.default_rng(num_classes)

    def masks(count):
        values = [*range(num_classes + 1), I]
        return [rng.choice(values, size=tuple(rng.integers(5, 40, size=2)), p=None).astype(np.uint8) for _ in range(count)]

    data = _Data(masks(3), masks(2), masks(4), [f"c{k}" for k in range(1, num_classes + 1)])
    baseline = most_frequent_class_baseline(data)
    for split, value in (("val", baseline.val_iou), ("test", baseline.test_iou)):
        accumulator = metrics.IoUAccumulator(num_classes)
        for truth in data.split(split).masks:
            accumulator.update(np.full_like(truth, baseline.class_id), truth)
        assert value == pytest.approx(accumulator.score()), split
        if split == "test":
            assert baseline.test_iou_per_class == pytest.approx(accumulator.class_scores(data.class_names).iou)
