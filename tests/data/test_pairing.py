"""Layouts: folder name variants, split folders, suffixes, tables, DataFrames, unpaired files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qtt_core.data import check_dataset, load_dataset
from qtt_core.data.pairing import discover
from qtt_core.errors import UsageError


@pytest.mark.parametrize(("image_dir", "mask_dir"), [("images", "masks"), ("image", "label"), ("imgs", "labels"), ("Images", "Masks")])
def test_folder_name_variants_are_detected(tmp_path, gen, image_dir, mask_dir):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=4), image_dir=image_dir, mask_dir=mask_dir)
    data = load_dataset(root)
    assert len(data.pairs) == 4
    assert f"{image_dir}/ + {mask_dir}/" in data.layout


def test_ambiguous_or_missing_folders_ask_for_names(tmp_path, gen):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=3), image_dir="rgb", mask_dir="figure_ground")
    with pytest.raises(UsageError, match="--images"):
        load_dataset(root)
    data = load_dataset(root, images="rgb", masks="figure_ground")
    assert len(data.pairs) == 3
    gen.write_pairs(root, gen.binary_pairs(n=3), image_dir="images", mask_dir="masks")
    gen.write_pairs(root, gen.binary_pairs(n=3), image_dir="imgs", mask_dir="masks")
    with pytest.raises(UsageError, match="several image folders"):
        load_dataset(root)
    with pytest.raises(UsageError, match="no folder"):
        load_dataset(root, images="nope")


def test_split_folders_are_used(tmp_path, gen):
    for split, n in (("train", 4), ("val", 2), ("test", 2)):
        gen.write_pairs(tmp_path / "d" / split, gen.binary_pairs(n=n, seed=n), names=[f"{split}{i}" for i in range(n)])
    data = load_dataset(tmp_path / "d")
    assert data.split_source == "given"
    assert {name: len(data.split(name)) for name in ("train", "val", "test")} == {"train": 4, "val": 2, "test": 2}
    assert all(data.split("val").name(i).startswith("val") for i in range(2))


def test_missing_val_folder_is_carved_from_train(tmp_path, gen):
    gen.write_pairs(tmp_path / "d" / "train", gen.binary_pairs(n=10), names=[f"tr{i}" for i in range(10)])
    gen.write_pairs(tmp_path / "d" / "test", gen.binary_pairs(n=3), names=[f"te{i}" for i in range(3)])
    data = load_dataset(tmp_path / "d")
    assert len(data.split("test")) == 3 and len(data.split("val")) >= 1
    assert all(data.split("val").name(i).startswith("tr") for i in range(len(data.split("val"))))
    assert data.split_source == "mixed"


@pytest.mark.parametrize("suffix", ["_mask", "_manual1", "-seg"])
def test_mask_suffix_is_detected_or_given(tmp_path, gen, suffix):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=4), mask_suffix=suffix)
    data = load_dataset(root)
    assert len(data.pairs) == 4 and any(suffix in note for note in data.notes)
    assert len(load_dataset(root, mask_suffix=suffix).pairs) == 4


def test_different_extensions_and_paths_with_spaces(tmp_path, gen):
    root = gen.write_pairs(tmp_path / "my data set", gen.binary_pairs(n=4), image_dir="images", image_ext=".jpg", mask_ext=".png", names=[f"case {i}" for i in range(4)])
    data = load_dataset(root)
    assert sorted(data.pairs[i].name for i in range(4)) == [f"case {i}" for i in range(4)]
    assert data.split("train").image(0).shape == (24, 32, 3)


def test_unpaired_files_are_problems_naming_the_files(tmp_path, gen):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=5))
    (root / "masks" / "sample01.png").unlink()
    (root / "masks" / "sample00.png").rename(root / "masks" / "orphan.png")
    (root / "masks" / "README.txt").write_text("notes")
    with pytest.raises(UsageError, match="sample00.png has no mask"):
        load_dataset(root)
    report = check_dataset(root)
    assert not report.usable
    assert any("images/sample01.png has no mask" in p for p in report.problems)
    assert any("masks/orphan.png has no image" in p for p in report.problems)
    assert any("README.txt" in w for w in report.warnings)


def test_same_stem_twice_is_a_problem(tmp_path, gen):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=3))
    (root / "images" / "sample00.jpg").write_bytes((root / "images" / "sample00.png").read_bytes())
    assert any("same name" in p for p in check_dataset(root).problems)


def _table(root, gen, n=6):
    gen.write_pairs(root, gen.binary_pairs(n=n), image_dir="imgs x", mask_dir="gt x")
    return pd.DataFrame({"image": [f"imgs x/sample{i:02d}.png" for i in range(n)], "label": [f"gt x/sample{i:02d}.png" for i in range(n)]})


def test_csv_with_relative_paths_and_split_column(tmp_path, gen):
    table = _table(tmp_path / "csv", gen)
    table["split"] = ["train", "train", "training", "valid", "test", "train"]
    table.to_csv(tmp_path / "csv" / "pairs.csv", index=False)
    data = load_dataset(tmp_path / "csv" / "pairs.csv")
    assert [len(data.split(s)) for s in ("train", "val", "test")] == [4, 1, 1]
    assert data.split_source == "given" and "table pairs.csv" in data.layout


def test_parquet_without_split_column(tmp_path, gen):
    _table(tmp_path / "pq", gen).to_parquet(tmp_path / "pq" / "pairs.parquet")
    data = load_dataset(tmp_path / "pq" / "pairs.parquet")
    assert len(data.pairs) == 6 and data.split_source == "seeded"


def test_dataframe_paths_relative_to_the_working_directory(tmp_path, gen, monkeypatch):
    table = _table(tmp_path / "df", gen)
    monkeypatch.chdir(tmp_path / "df")
    data = load_dataset(table)
    assert len(data.pairs) == 6 and data.source == "DataFrame"
    assert data.split("train").mask(0).dtype == np.uint8


def test_table_problems(tmp_path, gen):
    table = _table(tmp_path / "t", gen, n=3)
    table.loc[1, "label"] = "gt x/missing.png"
    table.loc[2, "image"] = ""
    table.to_csv(tmp_path / "t" / "pairs.csv", index=False)
    problems = check_dataset(tmp_path / "t" / "pairs.csv").problems
    assert any("row 2" in p and "missing.png not found" in p for p in problems)
    assert any("row 3" in p and "empty" in p for p in problems)
    table.rename(columns={"label": "target"}).to_csv(tmp_path / "t" / "bad.csv", index=False)
    with pytest.raises(UsageError, match="columns 'image' and 'label'"):
        discover(tmp_path / "t" / "bad.csv")


def test_nonexistent_source_and_empty_folder(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_dataset(tmp_path / "nothing")
    (tmp_path / "empty" / "images").mkdir(parents=True)
    (tmp_path / "empty" / "masks").mkdir()
    with pytest.raises(UsageError, match="no image/mask pairs"):
        load_dataset(tmp_path / "empty")
    report = check_dataset(tmp_path / "empty")
    assert not report.usable and any("no image/mask pairs" in p for p in report.problems)


def test_images_and_masks_in_one_folder_told_apart_by_suffix(tmp_path, gen):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=4), image_dir="all", mask_dir="all", mask_suffix="_mask")
    data = load_dataset(root, images="all", masks="all")
    assert len(data.pairs) == 4 and all(not pair.name.endswith("_mask") for pair in data.pairs)
    plain = gen.write_pairs(tmp_path / "e", gen.binary_pairs(n=2), image_dir="all", mask_dir="other")
    with pytest.raises(UsageError, match="--mask-suffix"):
        load_dataset(plain, images="all", masks="all")


def test_a_split_column_without_train_pairs_is_refused(tmp_path, gen):
    table = _table(tmp_path / "t", gen, n=4)
    table["split"] = "test"
    table.to_csv(tmp_path / "t" / "pairs.csv", index=False)
    with pytest.raises(UsageError, match="train split is empty"):
        load_dataset(tmp_path / "t" / "pairs.csv")
    assert not check_dataset(tmp_path / "t" / "pairs.csv").usable


def test_loaded_dataset_implements_the_protocol(binary_folder):
    from qtt_core.data import SegmentationData, SegmentationSplit

    data = load_dataset(binary_folder)
    assert isinstance(data, SegmentationData) and isinstance(data.split("val"), SegmentationSplit)
    assert data.num_channels == 3 and data.num_classes == 1
    with pytest.raises(UsageError, match="unknown split"):
        data.split("validation")


def test_hidden_files_are_skipped_and_nested_folders_paired(tmp_path, gen):
    root = gen.write_pairs(tmp_path / "d", gen.binary_pairs(n=3))
    gen.write_pairs(root, gen.binary_pairs(n=2), image_dir="images/.ipynb_checkpoints", mask_dir="masks/sub")
    gen.write_pairs(root, gen.binary_pairs(n=2), image_dir="images/sub", mask_dir="masks/.ipynb_checkpoints")
    (root / "images" / "._sample00.png").write_bytes(b"apple double")
    data = load_dataset(root)
    assert sorted(pair.key for pair in data.pairs) == [f"images/sample{i:02d}.png" for i in range(3)] + [f"images/sub/sample{i:02d}.png" for i in range(2)]


def test_a_loaded_dataset_pickles_for_worker_processes(binary_folder):
    import pickle

    data = load_dataset(binary_folder)
    copy = pickle.loads(pickle.dumps(data))
    assert copy.split_keys() == data.split_keys()
    assert np.array_equal(copy.split("train").mask(0), data.split("train").mask(0))
