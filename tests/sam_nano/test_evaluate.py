"""The zero-shot quality check: prompts from masks, scores, the real-set reader."""

from __future__ import annotations

import numpy as np
import pytest

from tools.sam_nano.evaluate import _box_fill, _iou, component_boxes, evaluate_set, mask_boxes, read_real_set


def _two_squares() -> np.ndarray:
    mask = np.zeros((100, 120), bool)
    mask[10:30, 20:50] = True
    mask[60:90, 70:110] = True
    mask[0, 0] = True  # a speck below the minimum component size
    return mask


def test_one_box_per_mask_and_one_per_component():
    mask = _two_squares()
    boxes, targets = mask_boxes(mask)
    assert boxes.tolist() == [[0, 0, 110, 90]] and len(targets) == 1 and np.array_equal(targets[0], mask)
    boxes, targets = component_boxes(mask)
    assert sorted(boxes.tolist()) == [[20, 10, 50, 30], [70, 60, 110, 90]]
    assert sum(t.sum() for t in targets) == mask.sum() - 1


def test_filling_a_component_box_scores_one():
    mask = _two_squares()
    boxes, targets = component_boxes(mask)
    assert all(_iou(_box_fill(b, mask.shape), t) == 1.0 for b, t in zip(boxes, targets))
    assert _iou(np.zeros_like(mask), mask) == 0.0


def test_real_sets_read_with_their_mask_encodings(shared):
    root = shared("real")
    name, image, mask = next(read_real_set(root, "isbi2012_membrane"))
    assert image.shape[:2] == mask.shape and 0.1 < mask.mean() < 0.4  # membranes: ~22 %, the dark value
    name, image, mask = next(read_real_set(root, "weizmann_horse"))
    assert image.shape[:2] == mask.shape and image.shape[2] == 3  # rgb resized to the mask
    name, image, mask = next(read_real_set(root, "kvasir_seg_sample"))
    assert image.shape[:2] == mask.shape and set(np.unique(mask)) == {False, True}


@pytest.mark.shared_data
@pytest.mark.slow
def test_evaluate_set_scores_an_untrained_model(shared):
    from qtt_sam.architectures import build_sam, get_architecture

    root = shared("real")
    scores = evaluate_set(build_sam(get_architecture("sam-nano"), seed=0), root, "kvasir_seg_sample", limit=1)
    assert {s.mode for s in scores} == {"per-mask", "per-component"}
    assert all(0 <= s.zero_shot_iou <= 1 and 0 <= s.multimask_iou <= 1 and 0 < s.box_fill_iou <= 1 and s.images == 1 for s in scores)


def test_multimask_prediction_takes_the_output_with_the_highest_predicted_iou():
    import torch

    from qtt_sam.architectures import build_sam, get_architecture
    from tools.sam_nano.evaluate import predict_masks

    sam = build_sam(get_architecture("sam-tiny"), seed=0).eval()
    image = np.random.default_rng(0).integers(0, 255, (48, 40, 3), dtype=np.uint8)
    boxes = np.array([[2, 3, 30, 40], [10, 10, 20, 20]], np.float32)
    calls = []
    decoder_forward = sam.mask_decoder.forward

    def recording(**kwargs):
        low_res, iou = decoder_forward(**kwargs)
        calls.append((low_res, iou))
        return low_res, iou

    sam.mask_decoder.forward = recording
    single, best = predict_masks(sam, image, boxes)
    assert best.shape == single.shape == (2, 48, 40)
    (multi_logits, multi_iou), _ = calls
    assert multi_logits.shape[1] == 3
    chosen = multi_iou.argmax(dim=1)
    expected = torch.nn.functional.interpolate(multi_logits[torch.arange(2), chosen].unsqueeze(1), size=(48, 40), mode="bilinear")
    assert np.array_equal(best, (expected[:, 0] > 0).numpy())


@pytest.mark.shared_data
@pytest.mark.slow
@pytest.mark.parametrize("name", ["kvasir_seg_sample", "weizmann_horse"])
def test_shipped_weights_beat_filling_the_box(shared, name):
    """The issue's quality bar, where it is met (not yet on the EM membranes, see assets/README.md)."""
    from tools.sam_nano.evaluate import load_nano
    from qtt_sam.weights import WEIGHTS_DIR

    scores = evaluate_set(load_nano(WEIGHTS_DIR / "sam_nano.safetensors"), shared("real"), name)
    per_mask = next(s for s in scores if s.mode == "per-mask")
    assert per_mask.beats_box_fill and per_mask.multimask_beats_box_fill, per_mask
