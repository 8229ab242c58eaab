"""``qtt-seg data check`` on the real datasets in ../shared/data/real (skipped when absent)."""

from __future__ import annotations

import json
import sys

import pytest

from qtt_core.cli import main
from qtt_core.data import load_dataset

pytestmark = pytest.mark.shared_data


def check_json(monkeypatch, capsys, *args) -> tuple[int, dict, str]:
    monkeypatch.setattr(sys, "argv", ["qtt-seg", "data", "check", *map(str, args), "--json"])
    try:
        main.run()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("invert", [False, True])
def test_membrane_is_binary_with_one_class_either_way(monkeypatch, capsys, shared, invert):
    root = shared("real", "isbi2012_membrane", "data", "membrane", "train")
    code, report, err = check_json(monkeypatch, capsys, root, *(["--invert"] if invert else []))
    assert code == 0, err
    assert report["pairs"] == 30 and report["num_classes"] == 1
    assert report["encoding"].startswith("binary {0,255}") and report["encoding_kind"] == "binary"
    assert "image/ + label/" in report["layout"] and report["channels"] == [1]
    membrane_share = report["classes"][0]["pixel_fraction"] if invert else report["background_fraction"]
    assert 0.15 < membrane_share < 0.3  # SOURCE.txt: membranes (value 0) are ~22% of pixels


def test_kvasir_jpeg_masks_are_one_class(monkeypatch, capsys, shared):
    root = shared("real", "kvasir_seg_sample", "Kvasir-SEG")
    code, report, err = check_json(monkeypatch, capsys, root)
    assert code == 0, err
    assert report["pairs"] == 5 and report["num_classes"] == 1
    assert report["encoding_kind"] == "binary-threshold" and "JPEG" in report["encoding"]
    assert report["splits"]["train"] >= 1 and report["splits"]["val"] >= 1


def test_horse_grey_images_match_their_masks(monkeypatch, capsys, shared):
    root = shared("real", "weizmann_horse", "weizmann_horse_db")
    code, report, err = check_json(monkeypatch, capsys, root, "--images", "gray", "--masks", "figure_ground")
    assert code == 0, err
    assert report["pairs"] == 328 and report["num_classes"] == 1 and report["encoding_kind"] == "binary-threshold"
    assert report["channels"] == [1]


@pytest.mark.slow
def test_horse_rgb_images_need_a_resize(monkeypatch, capsys, shared):
    root = shared("real", "weizmann_horse", "weizmann_horse_db")
    code, report, err = check_json(monkeypatch, capsys, root, "--images", "rgb", "--masks", "figure_ground")
    assert code == 2 and not report["usable"]
    assert "rgb/horse001.jpg is 590x800 (HxW) but mask figure_ground/horse001.jpg is 232x315" in err
    assert "more size mismatches" in report["problems"][-1]
    code, report, err = check_json(monkeypatch, capsys, root, "--images", "rgb", "--masks", "figure_ground", "--resize", "mask_to_image")
    assert code == 0, err
    assert report["num_classes"] == 1 and report["channels"] == [3]


def test_horse_rgb_masks_resized_to_their_images(shared, tmp_path):
    root = shared("real", "weizmann_horse", "weizmann_horse_db")
    data = load_dataset(root, images="rgb", masks="figure_ground", resize="mask_to_image", cache_dir=tmp_path / "cache")
    part = data.split("val")
    image, mask = part.image(0), part.mask(0)
    assert mask.shape == image.shape[:2] and set(mask.ravel().tolist()) <= {0, 1}
    assert data.num_channels == 3
