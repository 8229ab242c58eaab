"""Mask encodings as they occur in real datasets, decided per dataset and decoded to labels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from qtt_core.data import load_dataset
from qtt_core.data.classes import parse_classes
from qtt_core.data.masks import detect_encoding
from qtt_core.data.readers import RawMask
from qtt_core.errors import UsageError

COLOURS = {"classes": [{"name": "red", "color": "#FF0000"}, {"name": "green", "color": "#00FF00"}, {"name": "blue", "color": "#0000FF"}]}


def labels_of(data, split="train"):
    part = data.split(split)
    return [np.asarray(part.mask(i)) for i in range(len(part))]


def all_labels(data):
    return [m for split in ("train", "val", "test") for m in labels_of(data, split)]


@pytest.mark.parametrize("foreground", [255, 1])
def test_binary_masks(tmp_path, gen, foreground):
    pairs = gen.binary_pairs(foreground=foreground)
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs))
    assert data.num_classes == 1 and data.encoding.kind == "binary"
    assert data.encoding.description == f"binary {{0,{foreground}}}"
    first = data.split("train")
    expected = {name: (mask > 0).astype(np.uint8) for name, mask in ((f"sample{i:02d}", m) for i, (_, m) in enumerate(pairs))}
    assert np.array_equal(first.mask(0), expected[first.name(0)])


def test_jpeg_binary_masks_are_thresholded(tmp_path, gen):
    pairs = gen.binary_pairs(n=5, size=(48, 48))
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs, mask_ext=".jpg", quality=70))
    assert data.encoding.kind == "binary-threshold" and data.num_classes == 1
    truth = {f"sample{i:02d}": (m > 0) for i, (_, m) in enumerate(pairs)}
    part = data.split("train")
    agreement = np.mean([np.mean(part.mask(i) == truth[part.name(i)]) for i in range(len(part))])
    assert agreement > 0.97
    assert set(np.unique(part.mask(0))) <= {0, 1}


def test_class_id_masks_are_inferred(multiclass_folder):
    data = load_dataset(multiclass_folder)
    assert data.encoding.kind == "ids" and data.num_classes == 3
    assert data.class_names == ["class1", "class2", "class3"]
    assert set(np.unique(np.concatenate([m.ravel() for m in all_labels(data)]))) == {0, 1, 2, 3}


def test_ids_with_255_border_are_ignored(tmp_path, gen):
    pairs = [(image, np.where(labels == 0, 0, labels)) for image, labels in gen.shapes(6, num_classes=2)]
    for _, mask in pairs:
        mask[0, :] = 255
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs))
    assert data.num_classes == 2 and "255 ignored" in data.encoding.description
    assert np.all(data.split("train").mask(0)[0] == 255)


def test_colour_coded_masks_through_a_classes_file(tmp_path, gen):
    pairs = [(image, gen.colour_mask(labels)) for image, labels in gen.shapes(8, num_classes=3, seed=2)]
    truth = {f"sample{i:02d}": labels for i, (_, labels) in enumerate(gen.shapes(8, num_classes=3, seed=2))}
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs), classes=COLOURS)
    assert data.encoding.kind == "colour" and data.class_names == ["red", "green", "blue"]
    for split in ("train", "val", "test"):
        part = data.split(split)
        for i in range(len(part)):
            assert np.array_equal(part.mask(i), truth[part.name(i)])


def test_colour_coded_masks_without_classes_infer_one_class_per_colour(tmp_path, gen):
    pairs = [(image, gen.colour_mask(labels)) for image, labels in gen.shapes(8, num_classes=3, seed=2)]
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs))
    assert data.encoding.kind == "colour" and data.num_classes == 3
    assert data.class_names == ["#0000FF", "#00FF00", "#FF0000"]


def test_palette_pngs_with_differing_palettes_are_mapped_by_colour(tmp_path, gen):
    root = tmp_path / "d"
    source = gen.shapes(6, num_classes=2, seed=4)
    gen.write_pairs(root, [(image, labels) for image, labels in source])
    for index, (_, labels) in enumerate(source):
        colours = [(0, 0, 0), (255, 0, 0), (0, 255, 0)]
        order = [0, 1, 2] if index % 2 else [0, 2, 1]  # index 1 is red in half the files, green in the others
        indices = np.asarray(order, dtype=np.uint8)[labels]
        inverse = {order[k]: colours[k] for k in range(3)}
        palette = Image.fromarray(indices, "P")
        palette.putpalette([c for k in range(3) for c in inverse[k]] + [0] * (768 - 9))
        palette.save(root / "masks" / f"sample{index:02d}.png")
    classes = {"classes": [{"name": "red", "color": "#FF0000"}, {"name": "green", "color": "#00FF00"}]}
    truth = {f"sample{i:02d}": labels for i, (_, labels) in enumerate(source)}
    for given in (classes, None):
        data = load_dataset(root, classes=given)
        assert data.encoding.kind == "colour" and data.num_classes == 2
        part = data.split("train")
        for i in range(len(part)):
            decoded = part.mask(i)
            names = data.class_names
            expected = np.zeros_like(decoded)
            expected[truth[part.name(i)] == 1] = names.index("red" if given else "#FF0000") + 1
            expected[truth[part.name(i)] == 2] = names.index("green" if given else "#00FF00") + 1
            assert np.array_equal(decoded, expected)


def test_palette_pngs_with_one_palette_use_indices(tmp_path, gen):
    root = tmp_path / "d"
    source = gen.shapes(5, num_classes=2, seed=5)
    gen.write_pairs(root, source)
    for index, (_, labels) in enumerate(source):
        palette = Image.fromarray(labels, "P")
        palette.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)
        palette.save(root / "masks" / f"sample{index:02d}.png")
    data = load_dataset(root)
    assert data.encoding.kind == "ids" and data.encoding.description.startswith("palette indices")
    assert data.num_classes == 2


def test_jpeg_colour_masks_take_the_nearest_listed_colour(tmp_path, gen):
    source = gen.shapes(5, size=(48, 48), num_classes=3, seed=6)
    root = gen.write_pairs(tmp_path / "d", [(i, gen.colour_mask(m)) for i, m in source], mask_ext=".jpg", quality=90)
    with pytest.raises(UsageError, match="classes file"):
        load_dataset(root)
    data = load_dataset(root, classes=COLOURS)
    assert data.encoding.kind == "colour" and not data.encoding.exact and data.encoding.tolerance > 0
    truth = {f"sample{i:02d}": m for i, (_, m) in enumerate(source)}
    part = data.split("train")
    decoded = part.mask(0)
    labelled = decoded != 255
    assert labelled.mean() > 0.9
    assert np.mean(decoded[labelled] == truth[part.name(0)][labelled]) > 0.97
    from qtt_core.data import check_dataset

    report = check_dataset(root, classes=COLOURS)
    assert report.usable and 0 < report.ignore_fraction < 0.1
    assert any("near no class colour" in w for w in report.warnings)


def test_invert_swaps_background_and_foreground(binary_folder):
    plain = load_dataset(binary_folder)
    inverted = load_dataset(binary_folder, invert=True)
    a, b = plain.split("train").mask(0), inverted.split("train").mask(0)
    assert np.array_equal(a, 1 - b)
    assert "inverted" in inverted.encoding.description


def test_invert_needs_binary_masks(multiclass_folder):
    with pytest.raises(UsageError, match="invert"):
        load_dataset(multiclass_folder, invert=True)


def test_ignore_by_name_and_colour_in_the_classes_file(tmp_path, gen):
    source = gen.shapes(6, num_classes=2, seed=7)
    masks = []
    for _, labels in source:
        rgb = gen.colour_mask(labels, {1: (255, 0, 0), 2: (255, 255, 255)})
        masks.append(rgb)
    root = gen.write_pairs(tmp_path / "d", [(i, m) for (i, _), m in zip(source, masks, strict=True)])
    classes = {"classes": [{"name": "car", "color": "#FF0000"}, {"name": "Unlabelled", "color": "#FFFFFF"}], "ignore": {"name": "Unlabelled"}}
    data = load_dataset(root, classes=classes)
    assert data.class_names == ["car"]
    labels = data.split("train").mask(0)
    assert set(np.unique(labels)) <= {0, 1, 255}
    truth = {f"sample{i:02d}": m for i, (_, m) in enumerate(source)}
    assert np.array_equal(labels == 255, truth[data.split("train").name(0)] == 2)


def test_class_ids_from_a_classes_file_with_ids(tmp_path, gen):
    source = [(image, labels * 10) for image, labels in gen.shapes(6, num_classes=2, seed=8)]  # ids 10 and 20
    root = gen.write_pairs(tmp_path / "d", source)
    data = load_dataset(root, classes={"classes": [{"name": "a", "id": 10}, {"name": "b", "id": 20}]})
    assert data.class_names == ["a", "b"]
    assert set(np.unique(data.split("train").mask(0))) <= {0, 1, 2}


def test_single_class_file_names_binary_masks(binary_folder):
    data = load_dataset(binary_folder, classes={"classes": ["polyp"]})
    assert data.class_names == ["polyp"] and data.encoding.kind == "binary"


def test_detect_encoding_refuses_continuous_jpeg_masks(tmp_path):
    ramp = np.tile(np.arange(256, dtype=np.int32), (8, 1))
    with pytest.raises(UsageError, match="JPEG masks"):
        detect_encoding([(tmp_path / "m.jpg", RawMask("grey", ramp, lossy=True))])


def test_decode_reports_unmatched_values_for_exact_encodings():
    encoding = detect_encoding([(None, RawMask("grey", np.array([[0, 1], [2, 0]], dtype=np.int32)))])
    labels, unmatched = encoding.decode(RawMask("grey", np.array([[0, 7], [2, 7]], dtype=np.int32)))
    assert unmatched == {"7": 2} and labels[0, 1] == 255 and labels[1, 0] == 2
    classes = parse_classes(COLOURS)
    colour = detect_encoding([(None, RawMask("colour", np.zeros((2, 2, 3), np.uint8)))], classes)
    _, unmatched = colour.decode(RawMask("colour", np.full((2, 2, 3), 100, np.uint8)))
    assert unmatched == {"#646464": 4}


def test_mode_one_masks_are_binary(tmp_path, gen):
    root = tmp_path / "d"
    pairs = gen.binary_pairs(n=4)
    gen.write_pairs(root, pairs)
    for index, (_, mask) in enumerate(pairs):
        Image.fromarray(mask > 0).save(root / "masks" / f"sample{index:02d}.png")
        assert Image.open(io.BytesIO((root / "masks" / f"sample{index:02d}.png").read_bytes())).mode == "1"
    data = load_dataset(root)
    assert data.num_classes == 1 and data.encoding.kind == "binary"
    assert set(np.unique(data.split("train").mask(0))) == {0, 1}


def test_binary_masks_saved_as_0_1_in_some_files_and_0_255_in_others(tmp_path, gen):
    pairs = [(image, mask if i % 2 else (mask > 0).astype(np.uint8)) for i, (image, mask) in enumerate(gen.binary_pairs(n=6))]
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs))
    assert data.num_classes == 1 and data.encoding.kind == "binary"
    part = data.split("train")
    assert all(set(np.unique(part.mask(i))) == {0, 1} for i in range(len(part)))


@pytest.mark.parametrize(("suffix", "options"), [(".tif", {}), (".tif", {"compression": "tiff_lzw"}), (".bmp", {}), (".gif", {})])
def test_binary_masks_in_other_file_formats(tmp_path, gen, suffix, options):
    pairs = gen.binary_pairs(n=4)
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs, mask_ext=suffix, **options))
    assert data.encoding.kind == "binary" and data.num_classes == 1
    part = data.split("train")
    truth = {f"sample{i:02d}": (m > 0) for i, (_, m) in enumerate(pairs)}
    assert np.array_equal(part.mask(0), truth[part.name(0)])


def test_binary_masks_with_an_ignore_value_from_the_classes_file(tmp_path, gen):
    pairs = gen.binary_pairs(n=4)
    for _, mask in pairs:
        mask[:2, :] = 128  # an unlabelled band
    data = load_dataset(gen.write_pairs(tmp_path / "d", pairs), classes={"classes": ["cell"], "ignore": {"id": 128}})
    assert data.encoding.kind == "binary" and data.class_names == ["cell"]
    labels = data.split("train").mask(0)
    assert np.all(labels[:2] == 255) and set(np.unique(labels[2:])) <= {0, 1}
