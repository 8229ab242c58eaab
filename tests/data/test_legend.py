"""The legend: predictions written back in the user's own mask values (ids or colours)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from qtt_core.data import encode_labels, load_dataset
from qtt_core.errors import UsageError


def _round_trip(data) -> int:
    """Checks ``encode_labels(mask) == file`` for every pair; returns how many were checked."""
    legend = json.loads(json.dumps(data.legend))  # as saved beside tuned weights
    checked = 0
    for split in ("train", "val", "test"):
        part = data.split(split)
        for i in range(len(part)):
            with Image.open(part.pair(i).mask) as raw:
                assert np.array_equal(encode_labels(np.asarray(part.mask(i)), legend), np.asarray(raw.convert("RGB") if raw.mode == "RGB" else raw))
            checked += 1
    return checked


def test_ids_with_a_real_class_0_and_a_named_void_go_back_to_their_ids(tmp_path, gen):
    root = gen.write_set(tmp_path / "d", gen.band_masks(6, list(range(12))))
    classes = {"classes": [{"name": f"c{k}", "id": k} for k in range(11)], "ignore": {"name": "Unlabelled", "id": 11}}
    data = load_dataset(root, classes=classes)
    assert data.legend["background"] is None and data.legend["ignore"] == [11]
    assert data.legend["classes"][0] == {"name": "c0", "label": 1, "value": 0}
    assert _round_trip(data) == 6


def test_colours_with_black_as_a_class_go_back_to_their_colours(tmp_path, gen):
    root = gen.write_set(tmp_path / "d", gen.band_masks(6, [(0, 0, 0), (255, 0, 0), (255, 255, 255)]))
    data = load_dataset(root, classes={"classes": [{"name": "asphalt", "color": "#000000"}, {"name": "red", "color": "#FF0000"}], "ignore": "#FFFFFF"})
    assert data.legend["kind"] == "colour" and data.legend["ignore"] == ["#FFFFFF"]
    assert _round_trip(data) == 6


@pytest.mark.parametrize("invert", [False, True])
def test_binary_masks_go_back_to_0_and_255(binary_folder, invert):
    data = load_dataset(binary_folder, invert=invert)
    assert data.legend["classes"][0]["value"] == (0 if invert else 255) and data.legend["background"] == (255 if invert else 0)
    assert _round_trip(data) == 6


def test_pixels_of_no_class_take_a_free_value_when_there_is_no_background():
    legend = {"kind": "ids", "background": None, "ignore": [], "classes": [{"name": "a", "label": 1, "value": 0}, {"name": "b", "label": 2, "value": 255}]}
    values = encode_labels(np.array([[0, 1, 2]], np.uint8), legend)
    assert values.tolist() == [[256, 0, 255]] and values.dtype == np.uint16
    colours = {"kind": "colour", "background": None, "ignore": [], "classes": [{"name": "a", "label": 1, "value": "#000000"}]}
    assert encode_labels(np.array([[0, 1]], np.uint8), colours).tolist() == [[[255, 255, 255], [0, 0, 0]]]
    with pytest.raises(UsageError, match=r"labels \[3\] are not in the legend"):
        encode_labels(np.array([[3]], np.uint8), legend)
