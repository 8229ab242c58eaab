"""Finding image/mask pairs: folders, CSV/Parquet tables and pandas DataFrames.

Folders: ``images/`` + ``masks/`` paired by file stem (relative path without extension, so
``a.jpg`` pairs with ``a.png``), optionally below ``train/``, ``val/``, ``test/``. Common
variants are detected when there is exactly one candidate (``image``, ``imgs``, ``img`` for
images; ``mask``, ``labels``, ``label``, ``annotations``, ``gt`` ... for masks); otherwise
the caller names the folders (``images=``/``masks=``). A mask suffix (``a.png`` with
``a_mask.png``) is detected among common ones or configured with ``mask_suffix``.

Tables: columns ``image`` and ``label`` (or ``mask``) with paths relative to the table's
folder (a DataFrame: to the working directory); an optional ``split`` column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qtt_core.data.readers import IMAGE_SUFFIXES
from qtt_core.errors import UsageError

__all__ = ["Discovery", "Pair", "discover", "normalise_split"]

IMAGE_DIRS = ("images", "image", "imgs", "img", "jpegimages", "inputs", "input")
MASK_DIRS = ("masks", "mask", "labels", "label", "annotations", "annotation", "gt", "ground_truth", "groundtruth", "segmentationclass", "targets")
MASK_SUFFIXES = ("_mask", "_masks", "-mask", "_label", "_labels", "_gt", "_seg", "_segmentation", "_manual1", "_annotation", "_anno")
SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val", "dev": "val",
    "test": "test", "testing": "test",
}  # fmt: skip
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class Pair:
    """One image and its mask.

    Attributes:
        key: the image path relative to the dataset root (posix), stable across runs.
        split: the split given by the dataset ("train", "val", "test") or None.
    """

    image: Path
    mask: Path
    key: str
    split: str | None = None

    @property
    def name(self) -> str:
        return self.image.stem


@dataclass
class Discovery:
    """What was found: pairs, their root, notes on what was detected, and problems."""

    pairs: list[Pair]
    root: Path
    layout: str
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def given_splits(self) -> bool:
        return any(pair.split is not None for pair in self.pairs)


def normalise_split(value: Any) -> str | None:
    """"training"/"valid"/... as "train"/"val"/"test"; None for an unknown name."""
    return SPLIT_ALIASES.get(str(value).strip().lower())


def discover(source: Any, images: str | None = None, masks: str | None = None, mask_suffix: str | None = None) -> Discovery:
    """Find the pairs of ``source`` (a folder, a CSV/Parquet file or a pandas DataFrame).

    Raises:
        UsageError: the source does not exist or its layout cannot be recognised.
    """
    if _is_dataframe(source):
        return _from_table(source, Path.cwd().absolute(), "DataFrame")
    path = Path(source).expanduser().absolute()
    if not path.exists():
        raise UsageError(f"{path} does not exist; pass a dataset folder or a CSV/Parquet file")
    if path.is_file():
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise UsageError(f"{path} is neither a folder nor a .csv/.parquet file; pass the dataset folder")
        return _from_table(_read_table(path), path.parent, f"table {path.name}")
    return _from_folder(path, images, masks, mask_suffix)


def _from_folder(root: Path, images: str | None, masks: str | None, mask_suffix: str | None) -> Discovery:
    split_dirs = {normalise_split(d.name): d for d in sorted(root.iterdir()) if d.is_dir() and normalise_split(d.name)}
    split_dirs = {name: d for name, d in split_dirs.items() if _has_pair_dirs(d, images, masks)}
    bases = split_dirs if split_dirs else {None: root}
    discovery = Discovery([], root, "")
    layouts = []
    for split, base in bases.items():
        image_dir, mask_dir = _pick_dirs(base, images, masks)
        layouts.append(f"{_rel(image_dir, root)}/ + {_rel(mask_dir, root)}/")
        _pair_dirs(image_dir, mask_dir, root, split, mask_suffix, discovery)
    discovery.layout = "folder: " + "; ".join(layouts)
    if images is None or masks is None:
        discovery.notes.append(f"detected folders {layouts[0]}" + (" in each split" if split_dirs else ""))
    if split_dirs:
        discovery.notes.append(f"splits given by folders: {', '.join(d.name for d in split_dirs.values())}")
    return discovery


def _has_pair_dirs(base: Path, images: str | None, masks: str | None) -> bool:
    names = {d.name.lower() for d in base.iterdir() if d.is_dir()}
    has_images = (images.lower() in names) if images else bool(names & set(IMAGE_DIRS))
    has_masks = (masks.lower() in names) if masks else bool(names & set(MASK_DIRS))
    return has_images and has_masks


def _pick_dirs(base: Path, images: str | None, masks: str | None) -> tuple[Path, Path]:
    """The image and mask folders below ``base``; one error naming both when neither is found."""
    try:
        image_dir = _pick_dir(base, images, IMAGE_DIRS, "image", "--images")
    except UsageError as error:
        try:
            _pick_dir(base, masks, MASK_DIRS, "mask", "--masks")
        except UsageError:
            folders = _names(sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")))
            raise UsageError(f"{base}: no images/ and masks/ folders (found {folders}); name them with --images DIR --masks DIR") from None
        raise error from None
    return image_dir, _pick_dir(base, masks, MASK_DIRS, "mask", "--masks")


def _pick_dir(base: Path, given: str | None, candidates: tuple[str, ...], what: str, option: str) -> Path:
    folders = sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
    if given:
        chosen = base / given
        if not chosen.is_dir():
            raise UsageError(f"{option} {given}: no folder {chosen}; folders there: {_names(folders)}")
        return chosen
    matches = [d for d in folders if d.name.lower() in candidates]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise UsageError(f"{base}: no {what} folder (looked for {candidates[0]}/, {candidates[1]}/, ...; found {_names(folders)}); name it with {option} DIR")
    raise UsageError(f"{base}: several {what} folders ({_names(matches)}); choose one with {option} DIR")


def _pair_dirs(image_dir: Path, mask_dir: Path, root: Path, split: str | None, mask_suffix: str | None, discovery: Discovery) -> None:
    if image_dir.resolve() == mask_dir.resolve():
        image_files, mask_files, suffix = _split_shared_folder(image_dir, mask_suffix, discovery)
    else:
        image_files = _list_files(image_dir, discovery)
        mask_files = _list_files(mask_dir, discovery)
        suffix = mask_suffix if mask_suffix is not None else _detect_suffix(set(image_files), set(mask_files))
    if suffix and mask_suffix is None:
        discovery.notes.append(f"mask suffix {suffix!r} detected in {_rel(mask_dir, root)}/")
    paired_masks = set()
    for stem, image in sorted(image_files.items()):
        mask = mask_files.get(stem + suffix)
        if mask is None:
            discovery.problems.append(f"image {_rel(image, root)} has no mask in {_rel(mask_dir, root)}/ (expected {stem + suffix}.*); add the mask or remove the image")
            continue
        paired_masks.add(stem + suffix)
        discovery.pairs.append(Pair(image, mask, _rel(image, root), split))
    for stem, mask in sorted(mask_files.items()):
        if stem not in paired_masks:
            hint = f" (images are paired with masks named <image>{suffix}; pass --mask-suffix)" if not suffix else ""
            discovery.problems.append(f"mask {_rel(mask, root)} has no image in {_rel(image_dir, root)}/{hint}; add the image or remove the mask")


def _split_shared_folder(folder: Path, mask_suffix: str | None, discovery: Discovery) -> tuple[dict[str, Path], dict[str, Path], str]:
    """Images and masks in one folder, told apart by the mask suffix (given or detected)."""
    files = _list_files(folder, discovery)
    suffix = mask_suffix
    if not suffix:
        counts = {s: sum(1 for stem in files if stem.endswith(s) and stem[: -len(s)] in files) for s in MASK_SUFFIXES}
        suffix = max(counts, key=counts.get) if any(counts.values()) else ""
    if not suffix:
        raise UsageError(f"{folder}: images and masks share this folder but no mask suffix was found; pass --mask-suffix (e.g. _mask)")
    masks = {stem: path for stem, path in files.items() if stem.endswith(suffix)}
    return {stem: path for stem, path in files.items() if stem not in masks}, masks, suffix


def _list_files(folder: Path, discovery: Discovery) -> dict[str, Path]:
    """``{relative path without extension: file}`` of the image files below ``folder``."""
    files: dict[str, Path] = {}
    skipped = []
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or not path.is_file():
            continue  # hidden files and folders (.DS_Store, .ipynb_checkpoints/, ._a.png)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(path)
            continue
        stem = path.relative_to(folder).with_suffix("").as_posix()
        if stem in files:
            discovery.problems.append(f"{files[stem]} and {path.name} have the same name; keep one of them")
            continue
        files[stem] = path
    if skipped:
        discovery.warnings.append(f"{len(skipped)} files in {folder} are not images and were skipped (e.g. {skipped[0].name})")
    return files


def _detect_suffix(image_stems: set[str], mask_stems: set[str]) -> str:
    direct = len(image_stems & mask_stems)
    best, best_count = "", direct
    for suffix in MASK_SUFFIXES + (_common_suffix(mask_stems - image_stems),):
        if not suffix:
            continue
        count = sum(1 for stem in mask_stems if stem.endswith(suffix) and stem[: -len(suffix)] in image_stems)
        if count > best_count:
            best, best_count = suffix, count
    return best


def _common_suffix(stems: set[str]) -> str:
    """The longest suffix starting with "_" or "-" shared by all ``stems`` ("" if none)."""
    if len(stems) < 2:
        return ""
    reversed_stems = [s[::-1] for s in stems]
    shortest = min(reversed_stems, key=len)
    length = 0
    while length < len(shortest) and all(s[length] == shortest[length] for s in reversed_stems):
        length += 1
    common = shortest[:length][::-1]
    cut = max(common.rfind("_"), common.rfind("-"))
    return common[cut:] if cut >= 0 and len(common) - cut > 1 else ""


def _read_table(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 - pandas raises many kinds for bad files
        raise UsageError(f"{path} cannot be read as a table ({' '.join(str(error).split())[:100]}); fix the file") from None


def _from_table(table, root: Path, what: str) -> Discovery:
    columns = {str(c).strip().lower(): c for c in table.columns}
    image_column = columns.get("image")
    mask_column = columns.get("label", columns.get("mask"))
    if image_column is None or mask_column is None:
        raise UsageError(f"{what}: needs columns 'image' and 'label' (found {', '.join(map(str, table.columns))}); rename the columns")
    split_column = columns.get("split")
    discovery = Discovery([], root, f"{what}: columns {image_column!r} + {mask_column!r}" + (f" + {split_column!r}" if split_column else ""))
    seen: set[str] = set()
    for row_number, record in enumerate(table.to_dict("records"), start=1):
        pair = _table_row(record, image_column, mask_column, split_column, root, row_number, what, discovery)
        if pair is None:
            continue
        if pair.key in seen:
            discovery.problems.append(f"{what} row {row_number}: image {pair.key} is listed twice; remove the duplicate row")
            continue
        seen.add(pair.key)
        discovery.pairs.append(pair)
    return discovery


def _table_row(record: dict, image_column, mask_column, split_column, root: Path, row: int, what: str, discovery: Discovery) -> Pair | None:
    image_value, mask_value = record[image_column], record[mask_column]
    if not _filled(image_value) or not _filled(mask_value):
        discovery.problems.append(f"{what} row {row}: empty image or label path; fill it in or remove the row")
        return None
    image, mask = root / str(image_value).strip(), root / str(mask_value).strip()
    for kind, path in (("image", image), ("mask", mask)):
        if not path.is_file():
            discovery.problems.append(f"{what} row {row}: {kind} {path} not found (paths are relative to {root}); fix the path")
            return None
    split = None
    if split_column is not None and _filled(record[split_column]):
        split = normalise_split(record[split_column])
        if split is None:
            discovery.problems.append(f"{what} row {row}: split {record[split_column]!r} is not train, val or test; fix the value")
            return None
    return Pair(image, mask, _rel(image, root), split)


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() not in ("", "nan", "None")


def _is_dataframe(source: Any) -> bool:
    return type(source).__name__ == "DataFrame" and hasattr(source, "columns")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _names(folders: list[Path]) -> str:
    return ", ".join(d.name + "/" for d in folders) or "no folders"
