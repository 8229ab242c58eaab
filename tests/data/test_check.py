"""check_dataset: the report, every kind of problem, no writes into the data, and the cache."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from qtt_core.data import check_dataset, load_dataset
from qtt_core.errors import UsageError
from qtt_core.metafeatures import DefaultMetaFeatures


def test_report_of_a_clean_multiclass_dataset(multiclass_folder, gen):
    before = gen.snapshot(multiclass_folder)
    report = check_dataset(multiclass_folder)
    assert report.usable and report.problems == []
    assert report.pairs == 12 and sum(report.splits.values()) == 12
    assert report.num_classes == 3 and report.encoding_kind == "ids"
    assert [c["label"] for c in report.classes] == [1, 2, 3]
    fractions = [c["pixel_fraction"] for c in report.classes] + [report.background_fraction]
    assert all(0 < f < 1 for f in fractions) and sum(fractions) == pytest.approx(1, abs=1e-4)
    assert report.sizes["height"] == {"min": 24, "median": 24.0, "max": 24} and report.channels == [3]
    payload = report.to_dict()
    assert {"pairs", "splits", "num_classes", "classes", "problems", "encoding", "usable"} <= set(payload)
    assert gen.snapshot(multiclass_folder) == before


def test_corrupt_and_truncated_files_are_problems(binary_folder):
    image = binary_folder / "images" / "sample02.png"
    image.write_bytes(image.read_bytes()[:60])
    (binary_folder / "masks" / "sample03.png").write_text("garbage")
    report = check_dataset(binary_folder)
    assert not report.usable
    assert any("sample02.png" in p and "cannot be read" in p for p in report.problems)
    assert any("sample03.png" in p and "cannot be read" in p for p in report.problems)
    with pytest.raises(UsageError, match="sample03.png cannot be read"):
        load_dataset(binary_folder)  # the masks read to decide the encoding include it
    (binary_folder / "masks" / "sample03.png").unlink()
    (binary_folder / "images" / "sample03.png").unlink()
    data = load_dataset(binary_folder)  # a bad image is found when it is decoded
    names = {split: [data.split(split).name(i) for i in range(len(data.split(split)))] for split in ("train", "val", "test")}
    split = next(s for s, n in names.items() if "sample02" in n)
    with pytest.raises(UsageError, match="sample02.png cannot be read"):
        data.split(split).image(names[split].index("sample02"))


def test_mismatched_sizes_need_a_resize_option(tmp_path, gen):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=5, size=(20, 30)))
    for i in range(5):
        Image.fromarray(np.zeros((40, 60, 3), np.uint8)).save(root / "images" / f"sample{i:02d}.png")
    report = check_dataset(root)
    assert not report.usable
    assert any("images/sample00.png is 40x60 (HxW) but mask masks/sample00.png is 20x30" in p for p in report.problems)
    with pytest.raises(UsageError, match="--resize"):
        load_dataset(root).split("train").mask(0)
    assert check_dataset(root, resize="mask_to_image").usable
    to_image = load_dataset(root, resize="mask_to_image").split("train")
    assert to_image.mask(0).shape == (40, 60) and to_image.image(0).shape == (40, 60, 3)
    to_mask = load_dataset(root, resize="image_to_mask").split("train")
    assert to_mask.image(0).shape == (20, 30, 3) and to_mask.mask(0).shape == (20, 30)
    with pytest.raises(UsageError, match="resize"):
        check_dataset(root, resize="stretch")


def test_values_that_fit_no_class(tmp_path, gen):
    pairs = gen.shapes(6, num_classes=2, seed=3)
    root = gen.write_pairs(tmp_path / "d", pairs)
    mask = np.array(pairs[5][1])
    mask[:3, :3] = 9
    Image.fromarray(mask).save(root / "masks" / "sample05.png")
    report = check_dataset(root, classes={"classes": ["a", "b"]})
    assert any("sample05.png has 9 pixels with values 9 that fit no class" in p for p in report.problems)


def test_class_absent_from_given_train_split(tmp_path, gen):
    train = [(image, (labels > 0).astype(np.uint8)) for image, labels in gen.shapes(4, seed=1)]
    val = [(image, labels * 2) for image, labels in gen.shapes(2, seed=2)]
    gen.write_pairs(tmp_path / "d" / "train", train, names=[f"a{i}" for i in range(4)])
    gen.write_pairs(tmp_path / "d" / "val", val, names=[f"b{i}" for i in range(2)])
    report = check_dataset(tmp_path / "d", classes={"classes": ["one", "two"]})
    assert any("class two occurs in 2 masks but in no training mask" in p for p in report.problems)


def test_second_pass_reads_the_cache_not_the_files(binary_folder, tmp_path, monkeypatch):
    from qtt_core.data import decoding

    calls = {"image": 0, "mask": 0}
    real_image, real_mask = decoding.read_image, decoding.read_mask

    def counting_image(path):
        calls["image"] += 1
        return real_image(path)

    def counting_mask(path):
        calls["mask"] += 1
        return real_mask(path)

    monkeypatch.setattr(decoding, "read_image", counting_image)
    monkeypatch.setattr(decoding, "read_mask", counting_mask)
    data = load_dataset(binary_folder, cache_dir=tmp_path / "cache")
    part = data.split("train")
    first = [(np.array(part.image(i, (16, 16))), np.array(part.mask(i, (16, 16)))) for i in range(len(part))]
    assert calls == {"image": len(part), "mask": len(part)}
    again = load_dataset(binary_folder, cache_dir=tmp_path / "cache").split("train")
    second = [(again.image(i, (16, 16)), again.mask(i, (16, 16))) for i in range(len(again))]
    assert calls == {"image": len(part), "mask": len(part)}
    assert all(np.array_equal(a, c) and np.array_equal(b, d) for (a, b), (c, d) in zip(first, second, strict=True))
    assert isinstance(second[0][0], np.memmap) and second[0][0].shape == (16, 16, 3)
    second[0][0][:] = 0  # copy-on-write: the cache entry is unchanged
    assert np.array_equal(again.image(0, (16, 16)), first[0][0])
    again.image(0, (8, 8))
    assert calls["image"] == len(part) + 1  # another resolution is another entry
    assert not any(p.suffix == ".npy" for p in binary_folder.rglob("*"))


def test_cache_key_follows_file_changes_and_decoding_options(binary_folder, tmp_path):
    data = load_dataset(binary_folder, cache_dir=tmp_path / "c")
    name = data.split("train").name(0)
    before = np.array(data.split("train").mask(0))
    inverted = load_dataset(binary_folder, cache_dir=tmp_path / "c", invert=True).split("train").mask(0)
    assert np.array_equal(inverted, 1 - before)
    Image.fromarray(np.full(before.shape, 255, np.uint8)).save(binary_folder / "masks" / f"{name}.png")
    import os

    os.utime(binary_folder / "masks" / f"{name}.png", ns=(1, 1))
    assert np.all(load_dataset(binary_folder, cache_dir=tmp_path / "c").split("train").mask(0) == 1)


def test_default_cache_dir_follows_the_environment(binary_folder, tmp_path):
    data = load_dataset(binary_folder)
    data.split("train").image(0)
    assert any((tmp_path / "qtt-cache" / "data").rglob("*.npy"))
    assert load_dataset(binary_folder, cache_dir=False).cache.directory is None


def test_meta_features_from_a_loaded_dataset(multiclass_folder):
    data = load_dataset(multiclass_folder)
    features = DefaultMetaFeatures(max_samples=4).extract(data)
    assert features["num_classes"] == 3 and features["num_channels"] == 3
    assert features["num_samples"] == len(data.split("train")) and features["median_height"] == 24
    assert 0 < features["foreground_fraction"] < 1


def test_check_dataset_refuses_unknown_options(binary_folder):
    with pytest.raises(TypeError, match="clases"):
        check_dataset(binary_folder, clases="x.json")
