"""``load_dataset`` and ``check_dataset``: a user's dataset as :class:`SegmentationData`.

Example::

    from qtt_core.data import check_dataset, load_dataset

    report = check_dataset("data/horses", images="rgb", masks="figure_ground", resize="mask_to_image")
    print(report.usable, report.num_classes, report.encoding, report.problems)
    data = load_dataset("data/horses", images="rgb", masks="figure_ground", resize="mask_to_image")
    image = data.split("train").image(0, size=(1024, 1024))   # 1024 x 1024 x 3 uint8
    data.save_split("run/split.json")                           # resume: split_file="run/split.json"

Formats are described in :mod:`qtt_core.data.pairing` (layouts), :mod:`qtt_core.data.readers`
(files), :mod:`qtt_core.data.masks` (encodings), :mod:`qtt_core.data.classes` (the classes
file), :mod:`qtt_core.data.splits` (splits) and :mod:`qtt_core.data.cache` (the cache).
"""

from __future__ import annotations

import inspect
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from qtt_core.data.cache import ArrayCache, default_cache_dir
from qtt_core.data.classes import ClassesFile, load_classes_file, parse_classes
from qtt_core.data.decoding import RESIZE_MODES, decode_image, decode_mask
from qtt_core.data.legend import legend_of
from qtt_core.data.masks import MaskEncoding, detect_encoding
from qtt_core.data.pairing import Discovery, Pair, discover
from qtt_core.data.protocol import SPLIT_NAMES
from qtt_core.data.readers import read_header, read_mask
from qtt_core.data.report import DataReport, cap_messages
from qtt_core.data.splits import assign_splits, load_split, save_split
from qtt_core.data.validate import build_report, mixed_in_sample, scan_pairs
from qtt_core.errors import UsageError

__all__ = ["Dataset", "DatasetSplit", "check_dataset", "load_dataset"]

#: masks read to decide the encoding (evenly spaced over the pairs sorted by key)
SAMPLE_MASKS = 16


class DatasetSplit:
    """The pairs of one split (implements :class:`~qtt_core.data.protocol.SegmentationSplit`)."""

    def __init__(self, dataset: Dataset, indices: list[int]):
        self._dataset = dataset
        self._indices = list(indices)

    def __len__(self) -> int:
        return len(self._indices)

    def pair(self, index: int) -> Pair:
        """The files of sample ``index``."""
        return self._dataset.pairs[self._indices[index]]

    def image(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """``H x W x 3`` uint8 RGB (memory-mapped copy-on-write when cached)."""
        return decode_image(self.pair(index), size, self._dataset.resize, self._dataset.cache, self._dataset.root)

    def mask(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """``H x W`` uint8 labels: 0 background, 1..K classes, 255 ignored."""
        d = self._dataset
        return decode_mask(self.pair(index), size, d.encoding, d.resize, d.cache, d.root)

    def name(self, index: int) -> str:
        """The image file's stem."""
        return self.pair(index).name


class Dataset:
    """Image/mask pairs with an encoding and a train/val/test split (a SegmentationData).

    Attributes:
        pairs: every pair, sorted by key (image path relative to ``root``).
        encoding: how masks become label maps; ``class_names`` are its classes: every class of
            the classes file, in file order (label ``k`` is ``class_names[k - 1]``).
        num_channels: the most common channel count of the images (1, 3 or 4).
        layout, notes, warnings: what was detected while loading.
    """

    def __init__(self, source: str, discovery: Discovery, encoding: MaskEncoding, classes: ClassesFile | None, resize: str, cache: ArrayCache):
        self.source = source
        self.root = discovery.root
        self.pairs = sorted(discovery.pairs, key=lambda pair: pair.key)
        self.layout = discovery.layout
        self.notes = list(discovery.notes)
        self.warnings = list(discovery.warnings)
        self.encoding = encoding
        self.classes_source = classes.source if classes is not None else None
        self.resize = resize
        self.cache = cache
        self.class_names = list(encoding.class_names)
        self.num_channels = _channels(self.pairs)
        self.split_indices: dict[str, list[int]] = {name: [] for name in SPLIT_NAMES}
        self.split_source = ""
        self.split_seed: int | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def legend(self) -> dict[str, Any]:
        """Which mask value each label stands for (JSON-ready; see :mod:`qtt_core.data.legend`)."""
        return legend_of(self.encoding)

    def split(self, name: str) -> DatasetSplit:
        """The split ``name`` ("train", "val" or "test")."""
        if name not in self.split_indices:
            raise UsageError(f"unknown split {name!r}; use one of {', '.join(SPLIT_NAMES)}")
        return DatasetSplit(self, self.split_indices[name])

    def split_keys(self) -> dict[str, list[str]]:
        """Per split, the keys (relative image paths) of its pairs."""
        return {name: [self.pairs[i].key for i in indices] for name, indices in self.split_indices.items()}

    def save_split(self, path: str | Path) -> Path:
        """Write which pair is in which split as JSON (load it back with ``split_file=``)."""
        return save_split(path, self.split_keys(), seed=self.split_seed)

    @cached_property
    def report(self) -> DataReport:
        """The full check of this dataset (reads every file once; computed on first use)."""
        scan = scan_pairs(self.pairs, self.encoding, self.resize, self.root, self.classes_source)
        report = DataReport(self.source, self.layout, len(self.pairs), split_source=self.split_source, notes=list(self.notes), warnings=list(self.warnings))
        return build_report(report, self.encoding, scan, self.split_indices, [])

    def assign(self, presence: list[frozenset[int]] | None, seed: int, val_fraction: float, test_fraction: float, split_file: str | Path | None) -> None:
        """Choose the splits (given, from ``split_file`` or seeded); ``presence`` stratifies."""
        keys = [pair.key for pair in self.pairs]
        given = [pair.split for pair in self.pairs]
        if split_file is not None:
            self.split_indices, self.split_source = load_split(split_file, keys), "file"
            self.notes.append(f"splits read from {split_file}")
            return
        self.split_indices, warnings = assign_splits(keys, given, presence, seed, val_fraction, test_fraction)
        self.warnings += warnings
        self.split_seed = seed
        if all(given) and all(name in given for name in SPLIT_NAMES):
            self.split_source = "given"
            return
        self.split_source = "mixed" if any(given) else "seeded"
        self.notes.append(f"splits drawn with seed {seed}" + (" (stratified by class presence)" if presence is not None else ""))

    def presence(self) -> list[frozenset[int]]:
        """Per pair, the labels 1..K its mask contains (at the mask's own size, as the check sees it)."""
        result = []
        for pair in self.pairs:
            labels = decode_mask(pair, None, self.encoding, "keep", self.cache, self.root)
            counts = np.bincount(np.asarray(labels).ravel(), minlength=256)
            result.append(frozenset(int(v) for v in np.flatnonzero(counts[1:255]) + 1))
        return result


def load_dataset(
    source: Any,
    *,
    classes: str | Path | dict | ClassesFile | None = None,
    images: str | None = None,
    masks: str | None = None,
    mask_suffix: str | None = None,
    invert: bool = False,
    resize: str = "error",
    split_seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    cache_dir: str | Path | None | bool = None,
    split_file: str | Path | None = None,
) -> Dataset:
    """Load a segmentation dataset as users have it.

    Args:
        source: a folder (``images/`` + ``masks/``, optionally below ``train/ val/ test/``),
            a CSV/Parquet file with columns ``image`` and ``label`` (paths relative to the
            file, optional ``split``), or a pandas DataFrame (paths relative to the cwd).
        classes: a classes file (JSON path), its parsed payload, or None to infer classes.
        images, masks: names of the image and mask folders when they are not detected.
        mask_suffix: the mask file name is the image stem plus this (detected when None).
        invert: binary masks mark the foreground with 0.
        resize: "error" (image and mask sizes must match), "mask_to_image" (nearest) or
            "image_to_mask" (bilinear).
        split_seed, val_fraction, test_fraction: the seeded split of pairs without a given split.
        cache_dir: where decoded arrays are cached (None: the default, False: no cache).
        split_file: a JSON file from :meth:`Dataset.save_split` to reuse its split.

    Raises:
        UsageError: the data cannot be used as given; the message names the file and the fix
            (``check_dataset`` lists every problem instead).
    """
    _check_options(resize, val_fraction, test_fraction)
    classes_file = _classes(classes)
    discovery = discover(source, images, masks, mask_suffix)
    if discovery.problems:
        more = f" (and {len(discovery.problems) - 1} more; run `qtt-seg data check` to list them)" if len(discovery.problems) > 1 else ""
        raise UsageError(discovery.problems[0] + more)
    if not discovery.pairs:
        raise UsageError(f"{_label(source)}: no image/mask pairs found; put images in images/ and masks in masks/ (see `qtt-seg data check`)")
    sample = _sample(discovery.pairs, strict=True)
    encoding = detect_encoding(sample, classes_file, invert)
    mixed = mixed_in_sample(sample, encoding, discovery.root)
    if mixed is not None:
        raise UsageError(mixed)
    dataset = Dataset(_label(source), discovery, encoding, classes_file, resize, _cache(cache_dir))
    stratify = encoding.num_classes > 1 and split_file is None and not all(pair.split for pair in dataset.pairs)
    dataset.assign(dataset.presence() if stratify else None, split_seed, val_fraction, test_fraction, split_file)
    for name in ("train", "val"):
        if not dataset.split_indices[name]:
            raise UsageError(f"{dataset.source}: the {name} split is empty; give it pairs (folder {name}/ or split column) or drop the given splits")
    return dataset


def check_dataset(source: Any, **options: Any) -> DataReport:
    """Check a dataset before training: every problem, one line each, and a summary.

    Takes the options of :func:`load_dataset` (``cache_dir`` is unused: nothing is cached
    and nothing is written). Problems of the data go into the report; only invalid options
    (an unknown ``resize`` mode, bad fractions) raise UsageError.
    """
    unknown = sorted(set(options) - _LOAD_OPTIONS)
    if unknown:
        raise TypeError(f"check_dataset() got unexpected options {unknown}; it takes those of load_dataset")
    resize = options.get("resize", "error")
    _check_options(resize, options.get("val_fraction", 0.15), options.get("test_fraction", 0.15))
    report = DataReport(_label(source))
    try:
        classes_file = _classes(options.get("classes"))
        discovery = discover(source, options.get("images"), options.get("masks"), options.get("mask_suffix"))
    except UsageError as error:
        report.problems.append(str(error))
        return report
    report.layout, report.pairs, report.notes, report.warnings = discovery.layout, len(discovery.pairs), discovery.notes, discovery.warnings
    report.problems += _capped(discovery.problems)
    if not discovery.pairs:
        report.problems.append(f"{_label(source)}: no image/mask pairs found; put images in images/ and masks in masks/ with matching file names")
        return report
    try:
        encoding = detect_encoding(_sample(discovery.pairs, strict=False), classes_file, options.get("invert", False))
    except UsageError as error:
        report.problems.append(str(error))
        return report
    dataset = Dataset(report.source, discovery, encoding, classes_file, resize, ArrayCache(None))
    scan = scan_pairs(dataset.pairs, encoding, resize, dataset.root, dataset.classes_source)
    split_problems = []
    try:
        presence = [p or frozenset() for p in scan.presence] if encoding.num_classes > 1 else None
        dataset.assign(presence, options.get("split_seed", 0), options.get("val_fraction", 0.15), options.get("test_fraction", 0.15), options.get("split_file"))
    except UsageError as error:
        split_problems.append(str(error))
    report.split_source, report.notes, report.warnings = dataset.split_source, dataset.notes, dataset.warnings
    return build_report(report, encoding, scan, dataset.split_indices, split_problems)


_LOAD_OPTIONS = frozenset(inspect.signature(load_dataset).parameters) - {"source"}


def _check_options(resize: str, val_fraction: float, test_fraction: float) -> None:
    if resize not in RESIZE_MODES:
        raise UsageError(f"resize {resize!r} is not one of {', '.join(RESIZE_MODES)}")
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise UsageError(f"val_fraction {val_fraction} and test_fraction {test_fraction} must be in (0, 1) with a sum below 1")


def _classes(classes: Any) -> ClassesFile | None:
    if classes is None or isinstance(classes, ClassesFile):
        return classes
    if isinstance(classes, (dict, list)):
        return parse_classes(classes)
    return load_classes_file(classes)


def _sample(pairs: list[Pair], strict: bool) -> list:
    """``(path, raw mask)`` of up to :data:`SAMPLE_MASKS` masks, evenly spaced by key."""
    ordered = sorted(pairs, key=lambda pair: pair.key)
    positions = np.unique(np.linspace(0, len(ordered) - 1, num=min(SAMPLE_MASKS, len(ordered))).round().astype(int))
    sample = []
    for position in positions:
        try:
            sample.append((ordered[position].mask, read_mask(ordered[position].mask)))
        except UsageError:
            if strict:
                raise
    return sample


def _channels(pairs: list[Pair]) -> int:
    """The most common channel count among a sample of images (3 when none is readable)."""
    counts: Counter = Counter()
    for pair in pairs[:: max(1, len(pairs) // SAMPLE_MASKS)][:SAMPLE_MASKS]:
        try:
            counts[read_header(pair.image)[1]] += 1
        except UsageError:
            continue
    return counts.most_common(1)[0][0] if counts else 3


def _cache(cache_dir: str | Path | None | bool) -> ArrayCache:
    if cache_dir is False:
        return ArrayCache(None)
    return ArrayCache(default_cache_dir() if cache_dir is None or cache_dir is True else cache_dir)


def _capped(problems: list[str]) -> list[str]:
    return cap_messages(problems, "pairing problems")


def _label(source: Any) -> str:
    return "DataFrame" if type(source).__name__ == "DataFrame" else str(source)
