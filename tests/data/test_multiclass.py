"""Multiclass sets as users label them: every listed class counts, whatever its id or colour,
background is what the classes file says, and masks that need a guess are reported."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from helpers import run_cli
from qtt_core.data import IGNORE_INDEX, check_dataset, load_dataset
from qtt_core.data.views import TrainPlusVal
from qtt_core.errors import UsageError
from qtt_core.metafeatures import DefaultMetaFeatures

CAMVID = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"]


def decoded(data) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(raw mask, label map)`` of every pair of every split (raw: grey values, palette indices
    or ``H x W x 3`` colours as stored)."""
    pairs = []
    for split in ("train", "val", "test"):
        part = data.split(split)
        for i in range(len(part)):
            with Image.open(part.pair(i).mask) as raw:
                pairs.append((np.asarray(raw), np.asarray(part.mask(i))))
    return pairs


@pytest.fixture
def camvid(tmp_path, gen):
    """A street-scene set: 11 classes with ids 0..10 (Sky is 0) and the void id 11."""
    root = gen.write_set(tmp_path / "street", gen.band_masks(10, list(range(12))))
    classes = tmp_path / "classes.json"
    classes.write_text(json.dumps({"classes": [{"name": n, "id": k} for k, n in enumerate(CAMVID)], "ignore": {"name": "Unlabelled", "id": 11}}))
    return root, classes


def test_ids_with_a_real_class_0_give_every_listed_class(camvid):
    root, classes = camvid
    report = check_dataset(root, classes=classes)
    assert report.usable and report.problems == [] and report.warnings == []
    assert report.num_classes == 11
    assert [(c["name"], c["label"], c["value"]) for c in report.classes] == [(n, k + 1, k) for k, n in enumerate(CAMVID)]
    assert all(c["masks"] == 10 and c["pixel_fraction"] > 0.05 for c in report.classes)
    assert report.background["value"] is None and "lists id 0 as class 'Sky'" in report.background["rule"]
    assert report.background_fraction == 0 and report.ignore == [{"name": "Unlabelled", "value": 11}]
    assert report.ignore_fraction == pytest.approx(1 / 12, abs=0.01)


def test_the_tuner_gets_label_maps_of_all_eleven_classes(camvid):
    root, classes = camvid
    data = load_dataset(root, classes=str(classes))  # as the tuner loads it
    assert data.class_names == CAMVID and data.num_classes == 11
    for raw, labels in decoded(data):
        assert np.array_equal(labels, np.where(raw == 11, IGNORE_INDEX, raw + 1))  # Sky (0) is label 1, no label 0
    refit = TrainPlusVal(data)
    assert refit.num_classes == 11 and refit.class_names == CAMVID
    assert DefaultMetaFeatures(max_samples=2).extract(data)["num_classes"] == 11


def test_check_prints_eleven_classes_and_the_background_rule(camvid):
    root, classes = camvid
    result = run_cli("data", "check", root, "--classes", classes)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "11 classes" in out and "Sky" in out and "Bicyclist" in out
    assert "background: none, because classes.json lists id 0 as class 'Sky'" in out
    assert "ignored: 11 (Unlabelled)" in out
    result = run_cli("data", "check", root, "--classes", classes, "--json")
    payload = json.loads(result.stdout)
    assert payload["num_classes"] == 11 and len(payload["classes"]) == 11
    sky = payload["classes"][0]
    assert set(sky) == {"name", "label", "value", "pixel_fraction", "masks"}
    assert (sky["name"], sky["value"], sky["masks"]) == ("Sky", 0, 10) and sky["pixel_fraction"] > 0
    assert payload["background"]["value"] is None and "Sky" in payload["background"]["rule"]
    assert payload["ignore"] == [{"name": "Unlabelled", "value": 11}]


@pytest.mark.parametrize(
    ("extra", "background", "rule"),
    [
        ({"classes": [{"name": "background", "id": 0}, {"name": "a", "id": 1}, {"name": "b", "id": 2}, {"name": "c", "id": 3}]}, 0, "named 'background'"),
        ({"classes": [{"name": "a", "id": 1}, {"name": "b", "id": 2}, {"name": "c", "id": 3}]}, 0, "lists no class with id 0"),
        ({"classes": ["a", "b", "c"]}, 0, "lists no class with id 0"),
        ({"classes": [{"name": "a", "id": 1}, {"name": "b", "id": 2}, {"name": "c", "id": 3}], "background": {"name": "clutter", "id": 9}}, 9, '"background" entry'),
    ],
)
def test_ids_with_a_background(tmp_path, gen, extra, background, rule):
    root = gen.write_set(tmp_path / "d", gen.band_masks(8, [background, 1, 2, 3]))
    report = check_dataset(root, classes=extra)
    assert report.usable and report.num_classes == 3, report.problems
    assert report.background["value"] == background and rule in report.background["rule"]
    assert report.background_fraction == pytest.approx(0.25, abs=0.01)
    data = load_dataset(root, classes=extra)
    for raw, labels in decoded(data):
        assert np.array_equal(labels, np.where(raw == background, 0, raw))


def test_colour_coded_without_black_listed_black_is_background(tmp_path, gen):
    colours = [(0, 0, 0), (255, 0, 0), (0, 255, 0)]
    root = gen.write_set(tmp_path / "d", gen.band_masks(8, colours))
    classes = {"classes": [{"name": "red", "color": "#FF0000"}, {"name": "green", "color": "#00FF00"}]}
    report = check_dataset(root, classes=classes)
    assert report.usable and report.num_classes == 2
    assert report.background["value"] == "#000000" and "lists no class with colour #000000" in report.background["rule"]
    for raw, labels in decoded(load_dataset(root, classes=classes)):
        expected = np.select([np.all(raw == c, axis=2) for c in colours], [0, 1, 2], default=99)
        assert np.array_equal(labels, expected)


def test_colour_coded_with_black_listed_black_is_a_class(tmp_path, gen):
    colours = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (255, 255, 255)]
    root = gen.write_set(tmp_path / "d", gen.band_masks(8, colours))
    classes = {"classes": [{"name": "Sky", "color": "#000000"}, {"name": "red", "color": "#FF0000"}, {"name": "green", "color": "#00FF00"}], "ignore": "#FFFFFF"}
    report = check_dataset(root, classes=classes)
    assert report.usable and report.num_classes == 3 and report.classes[0]["name"] == "Sky" and report.classes[0]["value"] == "#000000"
    assert report.background["value"] is None and "lists colour #000000 as class 'Sky'" in report.background["rule"]
    for raw, labels in decoded(load_dataset(root, classes=classes)):
        expected = np.select([np.all(raw == c, axis=2) for c in colours], [1, 2, 3, IGNORE_INDEX], default=99)
        assert np.array_equal(labels, expected)


def _palette_png(indices: np.ndarray, colours: list[tuple[int, int, int]]) -> Image.Image:
    image = Image.fromarray(indices.astype(np.uint8), "P")
    image.putpalette([c for colour in colours for c in colour] + [0] * (768 - 3 * len(colours)))
    return image


def test_palette_pngs_with_one_palette_read_indices_as_ids_and_index_0_as_a_class(tmp_path, gen):
    colours = [(128, 128, 128), (128, 0, 0), (192, 192, 128), (0, 0, 0)]
    indices = gen.band_masks(6, [0, 1, 2, 3])
    root = gen.write_set(tmp_path / "d", [_palette_png(m, colours) for m in indices])
    classes = {
        "classes": [{"name": "Sky", "id": 0, "color": "#808080"}, {"name": "Building", "id": 1, "color": "#800000"}, {"name": "Pole", "id": 2, "color": "#C0C080"}],
        "ignore": {"name": "Void", "id": 3, "color": "#000000"},
    }
    data = load_dataset(root, classes=classes)
    assert data.encoding.kind == "ids" and data.class_names == ["Sky", "Building", "Pole"]
    for raw, labels in decoded(data):
        assert np.array_equal(labels, np.where(raw == 3, IGNORE_INDEX, raw + 1))
    assert check_dataset(root, classes=classes).background["value"] is None


def test_palette_pngs_with_differing_palettes_map_by_colour_and_black_may_be_a_class(tmp_path, gen):
    truth = gen.band_masks(6, [0, 1, 2])
    colours = [(0, 0, 0), (255, 0, 0), (0, 0, 255)]
    pngs = []
    for index, labels in enumerate(truth):
        order = [0, 1, 2] if index % 2 else [2, 0, 1]  # the palette index of each class differs between files
        pngs.append(_palette_png(np.asarray(order)[labels], [colours[order.index(k)] for k in range(3)]))
    root = gen.write_set(tmp_path / "d", pngs)
    classes = {"classes": [{"name": "asphalt", "color": "#000000"}, {"name": "red", "color": "#FF0000"}, {"name": "blue", "color": "#0000FF"}]}
    data = load_dataset(root, classes=classes)
    assert data.encoding.kind == "colour" and data.num_classes == 3
    by_name = {f"sample{i:02d}": labels for i, labels in enumerate(truth)}
    part = data.split("train")
    for i in range(len(part)):
        assert np.array_equal(part.mask(i), by_name[part.name(i)] + 1)


def test_ignore_lists_of_ids(tmp_path, gen):
    root = gen.write_set(tmp_path / "d", gen.band_masks(8, [0, 1, 2, 3, 4, 5, 6, 7, 26]))
    classes = {"classes": [{"name": "road", "id": 7}, {"name": "car", "id": 26}], "ignore": [0, 1, 2, 3, 4, 5, {"name": "ground", "id": 6}]}
    report = check_dataset(root, classes=classes)
    assert report.usable and report.num_classes == 2 and report.problems == []
    assert report.ignore_fraction == pytest.approx(7 / 9, abs=0.02) and len(report.ignore) == 7 and report.ignore[-1] == {"name": "ground", "value": 6}
    assert report.background["value"] is None and "id 0 as an ignore value" in report.background["rule"]
    for raw, labels in decoded(load_dataset(root, classes=classes)):
        assert np.array_equal(labels, np.select([raw == 7, raw == 26], [1, 2], default=IGNORE_INDEX))


def test_values_no_entry_names_are_problems_with_file_and_share(camvid):
    root, classes = camvid
    mask = np.array(Image.open(root / "masks" / "sample03.png"))
    mask[:6, :] = 12  # a quarter of the mask
    Image.fromarray(mask).save(root / "masks" / "sample03.png")
    report = check_dataset(root, classes=classes)
    assert not report.usable
    assert any("sample03.png has 216 pixels with values 12 that fit no class (25.00% of its pixels, read as ignored)" in p for p in report.problems)


def test_masks_mixing_0_255_and_class_ids_are_a_problem_naming_the_files(tmp_path, gen):
    binary = [m for _, m in gen.binary_pairs(n=9, size=(24, 36))]
    ids = gen.band_masks(3, [0, 1, 2], seed=1)
    root = gen.write_set(tmp_path / "d", binary + ids)
    report = check_dataset(root)
    problems = [p for p in report.problems if "mix two encodings" in p]
    assert not report.usable and len(problems) == 1, report.problems
    share = sum(int((m == 255).sum()) for m in binary) / sum(m.size for m in binary + ids)
    assert "9 hold only 0 and 255 (masks/sample00.png, masks/sample01.png, masks/sample02.png and 6 more)" in problems[0]
    assert "3 hold class ids {0,1,2} (masks/sample09.png, masks/sample10.png, masks/sample11.png)" in problems[0]
    assert f"({share:.2%} of all mask pixels) would be ignored" in problems[0] and "--classes FILE decides" in problems[0]
    with pytest.raises(UsageError, match=r"mix two encodings.*sample09.png.*--classes FILE decides"):
        load_dataset(root)
    as_class = {"classes": [{"name": "object", "id": 255}, {"name": "a", "id": 1}, {"name": "b", "id": 2}]}
    assert check_dataset(root, classes=as_class).usable and load_dataset(root, classes=as_class).num_classes == 3
    as_void = {"classes": [{"name": "a", "id": 1}, {"name": "b", "id": 2}], "ignore": 255}
    assert check_dataset(root, classes=as_void).usable


def test_masks_with_ids_outside_the_sample_are_problems_naming_them(tmp_path, gen):
    masks = [m for _, m in gen.binary_pairs(n=40, size=(24, 36))]
    masks[1], masks[2] = gen.band_masks(2, [0, 1, 2], seed=2)  # not among the 16 masks sampled to decide the encoding
    report = check_dataset(gen.write_set(tmp_path / "d", masks))
    assert report.encoding_kind == "binary" and not report.usable
    for name in ("sample01.png", "sample02.png"):
        assert any(f"masks/{name} has 576 pixels with values 1, 2 that fit no class (66.67% of its pixels, thresholded)" in p for p in report.problems)


def test_lossless_masks_with_stray_values_are_thresholded_with_a_warning(tmp_path, gen):
    masks = [m for _, m in gen.binary_pairs(n=6, size=(24, 36))]
    masks[2][0, :10] = 7
    masks[4][1, :5] = 200
    masks[4][2, :5] = 7
    root = gen.write_set(tmp_path / "d", masks)
    report = check_dataset(root)
    assert report.usable and report.encoding_kind == "binary-threshold"
    warnings = [w for w in report.warnings if "thresholded at 128" in w]
    assert len(warnings) == 1, report.warnings
    share = 20 / (6 * 24 * 36)
    assert "2 lossless masks (masks/sample02.png, masks/sample04.png)" in warnings[0]
    assert "7 (15 px), 200 (5 px)" in warnings[0] and f"{share:.2%} of all mask pixels" in warnings[0] and "--classes FILE" in warnings[0]
    part = load_dataset(root).split("train")
    for i in range(len(part)):
        raw = np.asarray(Image.open(part.pair(i).mask))
        assert np.array_equal(part.mask(i), (raw >= 128).astype(np.uint8))


def test_255_guessed_as_ignore_is_a_warning(tmp_path, gen):
    masks = gen.band_masks(6, [0, 1, 2, 255])
    report = check_dataset(gen.write_set(tmp_path / "d", masks))
    assert report.usable and report.num_classes == 2
    assert any("value 255 is read as ignore (25.00% of all mask pixels, in 6 masks)" in w and "--classes FILE" in w for w in report.warnings)
    assert "assumed without a classes file" in report.background["rule"]


def test_classes_numbered_from_1_over_masks_counting_from_0_get_a_hint(tmp_path, gen):
    root = gen.write_set(tmp_path / "d", gen.band_masks(6, [0, 1, 2]))
    report = check_dataset(root, classes={"classes": ["Sky", "Road", "Car"]})
    hint = [w for w in report.warnings if "numbered from 1" in w]
    assert len(hint) == 1 and "(Sky = 1 ... Car = 3)" in hint[0] and '{"name": "Sky", "id": 0}' in hint[0]
    fixed = check_dataset(root, classes={"classes": [{"name": n, "id": k} for k, n in enumerate(["Sky", "Road", "Car"])]})
    assert fixed.usable and fixed.warnings == [] and fixed.num_classes == 3


def test_grey_id_masks_with_a_file_of_ids_and_display_colours_read_ids(tmp_path, gen):
    root = gen.write_set(tmp_path / "d", gen.band_masks(6, [0, 1, 2]))
    classes = {"classes": [{"name": "Sky", "id": 0, "color": "#808080"}, {"name": "Road", "id": 1, "color": "#804080"}, {"name": "Car", "id": 2, "color": "#400080"}]}
    data = load_dataset(root, classes=classes)
    assert data.encoding.kind == "ids" and data.num_classes == 3
    for raw, labels in decoded(data):
        assert np.array_equal(labels, raw + 1)
