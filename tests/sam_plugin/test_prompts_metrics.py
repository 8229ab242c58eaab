"""Prompts, augmentation, label-map combination and IoU on hand-made masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qtt_engine import IoUAccumulator, boxes_from_mask, jitter_boxes
from qtt_engine.augment import Augmentation, draw_augmentation
from qtt_engine.loop import label_map, scale_boxes
from qtt_engine.losses import mask_loss


def _mask():
    mask = np.zeros((10, 12), dtype=np.uint8)
    mask[1:3, 1:4] = 1  # class 1, first component: rows 1-2, cols 1-3
    mask[6:9, 8:11] = 1  # class 1, second component: rows 6-8, cols 8-10
    mask[5, 2:5] = 2  # class 2: row 5, cols 2-4
    mask[0, 11] = 255  # ignored
    return mask


def test_one_box_per_class_present():
    prompts = boxes_from_mask(_mask())
    assert prompts.labels.tolist() == [1, 2]
    assert prompts.boxes.tolist() == [[1, 1, 10, 8], [2, 5, 4, 5]]
    assert prompts.targets[0].sum() == 6 + 9 and prompts.targets[1].sum() == 3


def test_one_box_per_connected_component():
    prompts = boxes_from_mask(_mask(), per_component=True)
    assert prompts.labels.tolist() == [1, 1, 2]
    assert prompts.boxes.tolist() == [[1, 1, 3, 2], [8, 6, 10, 8], [2, 5, 4, 5]]
    assert [int(t.sum()) for t in prompts.targets] == [6, 9, 3]


def test_empty_mask_has_no_prompts():
    assert len(boxes_from_mask(np.zeros((5, 5), np.uint8))) == 0
    assert len(boxes_from_mask(np.full((5, 5), 255, np.uint8))) == 0


def test_jitter_moves_boxes_within_bounds_and_zero_is_identity():
    boxes = np.array([[10, 10, 29, 19]], dtype=np.float32)
    rng = np.random.default_rng(0)
    assert np.array_equal(jitter_boxes(boxes, 0.0, (40, 40), rng), boxes)
    moved = np.stack([jitter_boxes(boxes, 0.2, (40, 40), rng)[0] for _ in range(200)])
    assert not np.allclose(moved, boxes)
    width, height = 20, 10
    assert np.all(np.abs(moved[:, 0] - 10) <= 0.2 * width + 1e-4) and np.all(np.abs(moved[:, 1] - 10) <= 0.2 * height + 1e-4)
    assert np.all(moved >= 0) and np.all(moved <= 39) and np.all(moved[:, 2] >= moved[:, 0])


def test_augmentation_moves_image_mask_and_boxes_together():
    image = np.zeros((8, 8, 3), np.uint8)
    mask = np.zeros((8, 8), np.uint8)
    image[1:3, 5:7] = 200
    mask[1:3, 5:7] = 1
    for augmentation in (Augmentation(hflip=True), Augmentation(vflip=True), Augmentation(rot90=1), Augmentation(True, True, 3)):
        new_image, new_mask = augmentation.apply(image, mask)
        assert np.array_equal(new_image[..., 0] == 200, new_mask == 1)
        box = boxes_from_mask(new_mask).boxes[0]
        assert new_mask[int(box[1]) : int(box[3]) + 1, int(box[0]) : int(box[2]) + 1].all()
    assert Augmentation(hflip=True).apply(image, mask)[1][1, 1] == 1  # column 6 -> 1


def test_colour_jitter_changes_only_the_image():
    rng = np.random.default_rng(1)
    augmentation = draw_augmentation(rng, False, False, False, 0.4)
    assert augmentation.has_colour and augmentation.variant == (0, 0, 0)
    image = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    mask = np.eye(8, dtype=np.uint8)
    new_image, new_mask = augmentation.apply(image, mask)
    assert not np.array_equal(new_image, image) and np.array_equal(new_mask, mask)


def test_draws_the_same_numbers_whatever_is_switched_on():
    first, second = np.random.default_rng(3), np.random.default_rng(3)
    draw_augmentation(first, True, True, True, 0.4)
    draw_augmentation(second, False, False, False, 0.0)
    assert first.random() == second.random()


def _independent_iou(predictions, truths, label):
    intersection = union = 0
    for predicted, truth in zip(predictions, truths, strict=True):
        for p, t in zip(predicted.ravel().tolist(), truth.ravel().tolist(), strict=True):
            if t == 255:
                continue
            intersection += (p == label) and (t == label)
            union += (p == label) or (t == label)
    return intersection / union


def test_iou_matches_an_independent_count():
    truth_a = _mask()
    predicted_a = truth_a.copy()
    predicted_a[1:3, 1:4] = 0  # misses a component of class 1
    predicted_a[0, 11] = 2  # on an ignored pixel: does not count
    predicted_a[5, 5] = 2  # one false positive of class 2
    truth_b = np.zeros((4, 4), np.uint8)
    truth_b[:2, :2] = 2
    predicted_b = np.zeros((4, 4), np.uint8)
    predicted_b[:2, :3] = 2
    accumulator = IoUAccumulator(2)
    accumulator.update(predicted_a, truth_a)
    accumulator.update(predicted_b, truth_b)
    expected = [_independent_iou([predicted_a, predicted_b], [truth_a, truth_b], k) for k in (1, 2)]
    assert expected == pytest.approx([9 / 15, 7 / 10])  # hand count
    assert accumulator.per_class() == pytest.approx(expected)
    assert accumulator.score() == pytest.approx(sum(expected) / 2)


def test_class_scores_name_iou_and_dice_and_leave_absent_classes_empty():
    truth = np.array([[1, 1, 0, 0], [1, 1, 0, 0]], np.uint8)
    predicted = np.array([[1, 0, 0, 0], [1, 0, 0, 3]], np.uint8)  # half of class 1; a false class 3
    accumulator = IoUAccumulator(3)
    accumulator.update(predicted, truth)
    scores = accumulator.class_scores(["road", "car", "sky"])
    assert scores.iou == {"road": pytest.approx(2 / 4), "car": None, "sky": 0.0}
    assert scores.dice == {"road": pytest.approx(2 * 2 / (2 + 4)), "car": None, "sky": 0.0}
    present = [v for v in scores.iou.values() if v is not None]
    assert accumulator.score() == pytest.approx(sum(present) / len(present))  # the mean of what is reported


def test_binary_iou_and_absent_classes():
    truth = np.array([[0, 1, 1], [0, 1, 255]], np.uint8)
    predicted = np.array([[1, 1, 0], [0, 1, 1]], np.uint8)
    accumulator = IoUAccumulator(1)
    accumulator.update(predicted, truth)
    assert accumulator.score() == pytest.approx(2 / 4)
    empty = IoUAccumulator(3)
    empty.update(np.zeros((2, 2), np.uint8), np.zeros((2, 2), np.uint8))
    assert empty.score() == 1.0 and np.isnan(empty.per_class()).all()


def test_label_map_takes_the_most_confident_positive_prompt():
    logits = np.array([[[2.0, -1.0, 0.5]], [[1.0, 3.0, -0.5]]])  # 2 prompts, 1 x 3 pixels
    assert label_map(logits, np.array([1, 2])).tolist() == [[1, 2, 1]]
    assert label_map(-np.ones((2, 1, 3)), np.array([1, 2])).tolist() == [[0, 0, 0]]


def test_scale_boxes_maps_pixel_centres():
    boxes = np.array([[0, 0, 99, 49]], dtype=np.float32)
    assert scale_boxes(boxes, (50, 100), 64)[0].tolist() == pytest.approx([0.0, 0.14, 63.0, 62.86], abs=0.01)


@pytest.mark.parametrize("name", ["bce", "dice", "bce_dice", "focal_dice"])
def test_losses_ignore_pixels_and_prefer_the_right_mask(name):
    targets = torch.zeros(1, 4, 4)
    targets[0, :2] = 1
    good, bad = (targets * 8 - 4), (4 - targets * 8)
    valid = torch.ones(4, 4)
    assert mask_loss(name, good, targets, valid) < mask_loss(name, bad, targets, valid)
    valid[2:] = 0
    changed = good.clone()
    changed[0, 2:] = 10.0  # wrong, but only where ignored
    assert mask_loss(name, changed, targets, valid) == pytest.approx(float(mask_loss(name, good, targets, valid)))
