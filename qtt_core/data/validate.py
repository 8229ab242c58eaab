"""Reading every pair once to find what would break training, and the numbers for the report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qtt_core.data.masks import MaskEncoding
from qtt_core.data.pairing import Pair
from qtt_core.data.protocol import IGNORE_INDEX
from qtt_core.data.readers import RawMask, probe_image, read_mask
from qtt_core.data.report import DataReport, cap_messages
from qtt_core.errors import UsageError

__all__ = ["LOSSY_UNMATCHED_LIMIT", "ScanResult", "build_report", "mixed_in_sample", "mixed_ids_message", "scan_pairs", "size_mismatch_message"]

#: share of a JPEG mask's pixels that may fit no class before it counts as a problem (below it,
#: they are ignored and reported as a warning; above it, the classes file is likely wrong)
LOSSY_UNMATCHED_LIMIT = 0.2


@dataclass
class ScanResult:
    """Per-pair class presence and dataset-wide counts.

    Attributes:
        presence: per pair, the labels 1..K in its mask (None when unreadable).
        label_pixels: ``256`` pixel counts per label over all masks.
        label_masks: ``256`` counts of masks containing each label.
        image_sizes: ``(H, W)`` of each readable image, pixels.
        problems: ``{kind: [one-line messages]}``.
        thresholded: ``(mask, {value: pixels})`` of lossless masks with values a threshold decided.
        only_255, with_ids: masks whose non-zero values are just 255, and masks with other
            values (ids), when 255 was guessed to be ignored (the mixed-masks check).
        ids_seen: the values other than 0 and 255 in ``with_ids``.
    """

    presence: list[frozenset[int] | None] = field(default_factory=list)
    label_pixels: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.int64))
    label_masks: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.int64))
    image_sizes: list[tuple[int, int]] = field(default_factory=list)
    channels: Counter = field(default_factory=Counter)
    problems: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    lossy_unmatched: int = 0
    lossy_unmatched_masks: int = 0
    thresholded: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    only_255: list[str] = field(default_factory=list)
    with_ids: list[str] = field(default_factory=list)
    ids_seen: set[int] = field(default_factory=set)

    def add_problem(self, kind: str, message: str) -> None:
        self.problems.setdefault(kind, []).append(message)


def scan_pairs(pairs: list[Pair], encoding: MaskEncoding, resize: str, root: Path, classes_source: str | None) -> ScanResult:
    """Decode every image and mask once (no caching) and collect problems and statistics."""
    result = ScanResult()
    for pair in pairs:
        result.presence.append(_scan_pair(pair, encoding, resize, root, classes_source, result))
    total = int(result.label_pixels.sum())
    if result.lossy_unmatched:
        share = result.lossy_unmatched / max(total, 1)
        result.warnings.append(
            f"{result.lossy_unmatched_masks} JPEG masks have pixels ({share:.2%} of all) near no class colour; they are ignored in training and metrics"
        )
    if result.thresholded:
        result.warnings.append(_thresholded_message(result.thresholded, encoding.threshold, total))
    if encoding.guessed_ignore:
        share = float(result.label_pixels[IGNORE_INDEX]) / max(total, 1)
        if result.only_255 and result.with_ids:
            result.add_problem("mixed masks", mixed_ids_message(result.only_255, result.with_ids, result.ids_seen, share))
        else:
            masks = int(result.label_masks[IGNORE_INDEX])
            result.warnings.append(
                f"no classes file: value 255 is read as ignore ({share:.2%} of all mask pixels, in {masks} masks) because the other values are "
                "small class ids; if 255 is a class, pass --classes FILE listing it (or listing 255 under \"ignore\" to confirm)"
            )
    return result


def mixed_ids_message(only_255: list[str], with_ids: list[str], ids: set[int], share_255: float) -> str:
    """The problem of masks that are {0,255} in some files and small class ids in others.

    Args:
        only_255, with_ids: the masks of each kind (names for the message).
        ids: the values other than 0 and 255 found.
        share_255: the share of all mask pixels that are 255 (ignored if read as class ids).
    """
    listed = ",".join(str(v) for v in sorted({0, *ids}))
    return (
        f"masks mix two encodings: {len(only_255)} hold only 0 and 255 ({_some(only_255)}) and {len(with_ids)} hold class ids {{{listed}}} "
        f"({_some(with_ids)}); read as class ids, every 255 pixel ({share_255:.2%} of all mask pixels) would be ignored. "
        "--classes FILE decides: list 255 as a class (binary masks saved two ways) or as \"ignore\", or fix the masks"
    )


def size_mismatch_message(pair: Pair, root: Path, image_hw: tuple[int, int], mask_hw: tuple[int, int]) -> str:
    """The one-line problem for an image and mask of different sizes."""
    return (
        f"image {_rel(pair.image, root)} is {image_hw[0]}x{image_hw[1]} (HxW) but mask {_rel(pair.mask, root)} is "
        f"{mask_hw[0]}x{mask_hw[1]}; pass --resize mask_to_image (or image_to_mask) or fix the files"
    )


def _scan_pair(pair: Pair, encoding: MaskEncoding, resize: str, root: Path, classes_source: str | None, result: ScanResult) -> frozenset[int] | None:
    image_hw = None
    try:
        image_hw, channels = probe_image(pair.image)
        result.image_sizes.append(image_hw)
        result.channels[channels] += 1
    except UsageError as error:
        result.add_problem("unreadable files", str(error))
    try:
        raw = read_mask(pair.mask)
        labels, unmatched = encoding.decode(raw)
    except UsageError as error:
        result.add_problem("unreadable files", str(error))
        return None
    if encoding.guessed_ignore:
        _sort_mixed(_rel(pair.mask, root), raw, result)
    if image_hw is not None and labels.shape != image_hw and resize == "error":
        result.add_problem("size mismatches", size_mismatch_message(pair, root, image_hw, labels.shape))
    if unmatched:
        _unmatched(pair, root, encoding, unmatched, labels.size, classes_source, result)
    counts = np.bincount(labels.ravel(), minlength=256)
    result.label_pixels += counts
    result.label_masks += counts > 0
    return frozenset(int(label) for label in np.flatnonzero(counts) if 0 < label < IGNORE_INDEX)


def mixed_in_sample(samples: list[tuple[Path, RawMask]], encoding: MaskEncoding, root: Path) -> str | None:
    """The mixed-masks problem (see :func:`mixed_ids_message`) found in the masks sampled to
    decide the encoding, or None; ``load_dataset`` raises it (``data check`` scans every mask)."""
    if not encoding.guessed_ignore:
        return None
    result = ScanResult()
    for path, raw in samples:
        _sort_mixed(_rel(path, root), raw, result)
        result.label_pixels += np.bincount(encoding.decode(raw)[0].ravel(), minlength=256)
    if not (result.only_255 and result.with_ids):
        return None
    share = float(result.label_pixels[IGNORE_INDEX]) / max(int(result.label_pixels.sum()), 1)
    return mixed_ids_message(result.only_255, result.with_ids, result.ids_seen, share) + f" (found in the {len(samples)} masks sampled; `qtt-seg data check` lists all)"


def _sort_mixed(name: str, raw: RawMask, result: ScanResult) -> None:
    """Note whether a mask read as ids with 255 ignored is {0,255} only or holds other ids."""
    values = set(np.unique(raw.values).tolist()) - {0}
    if values == {IGNORE_INDEX}:
        result.only_255.append(name)
    elif values - {IGNORE_INDEX}:
        result.with_ids.append(name)
        result.ids_seen |= values - {IGNORE_INDEX}


def _unmatched(pair: Pair, root: Path, encoding: MaskEncoding, unmatched: dict[str, int], size: int, classes_source: str | None, result: ScanResult) -> None:
    count = sum(unmatched.values())
    if encoding.kind == "binary-threshold":
        result.thresholded.append((_rel(pair.mask, root), unmatched))
        return
    if not encoding.exact and count <= LOSSY_UNMATCHED_LIMIT * size:
        result.lossy_unmatched += count
        result.lossy_unmatched_masks += 1
        return
    shown = ", ".join(sorted(unmatched, key=unmatched.get, reverse=True)[:5]) + (", ..." if len(unmatched) > 5 else "")
    what = "colours" if encoding.kind == "colour" else "values"
    read_as = "thresholded" if encoding.kind == "binary" else "read as ignored"
    if not encoding.exact:
        fix = "the JPEG noise is too strong or the class colours are wrong: check the colours in the classes file, or save the masks as PNG"
    elif classes_source is None:
        fix = "the classes were inferred from a sample of masks: pass --classes FILE listing every class, or fix the mask"
    else:
        fix = f"add them to {Path(classes_source).name} (or its ignore entry), or fix the mask"
    result.add_problem(
        "values that fit no class",
        f"mask {_rel(pair.mask, root)} has {count} pixels with {what} {shown} that fit no class ({count / max(size, 1):.2%} of its pixels, {read_as}); {fix}",
    )


def _thresholded_message(thresholded: list[tuple[str, dict[str, int]]], threshold: int, total: int) -> str:
    """One warning for lossless masks whose values other than 0 and the top one were thresholded."""
    counts: dict[str, int] = {}
    for _, unmatched in thresholded:
        for value, count in unmatched.items():
            counts[value] = counts.get(value, 0) + count
    top = sorted(counts, key=counts.get, reverse=True)
    shown = ", ".join(f"{value} ({counts[value]} px)" for value in top[:5]) + (f" and {len(top) - 5} more values" if len(top) > 5 else "")
    share = sum(counts.values()) / max(total, 1)
    return (
        f"{len(thresholded)} lossless masks ({_some([name for name, _ in thresholded])}) hold values besides the binary two: {shown}, "
        f"{share:.2%} of all mask pixels; they were thresholded at {threshold} (below: background, from {threshold}: foreground). "
        "If they are classes or void values, pass --classes FILE listing them (void under \"ignore\"); if they are anti-aliased edges, nothing to do"
    )


def _some(names: list[str], limit: int = 3) -> str:
    """The first ``limit`` names, then how many more."""
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def build_report(report: DataReport, encoding: MaskEncoding, scan: ScanResult, splits: dict[str, list[int]], split_problems: list[str]) -> DataReport:
    """Fill ``report`` (source, layout, pairs, notes already set) from a scan and the splits."""
    report.splits = {name: len(indices) for name, indices in splits.items()}
    report.num_classes = encoding.num_classes
    report.encoding, report.encoding_kind = encoding.description, encoding.kind
    total = max(int(scan.label_pixels.sum()), 1)
    report.background_fraction = round(float(scan.label_pixels[0]) / total, 6)
    report.ignore_fraction = round(float(scan.label_pixels[IGNORE_INDEX]) / total, 6)
    report.background = {"value": encoding.background_key, "rule": encoding.background, "pixel_fraction": report.background_fraction}
    report.ignore = [{"name": name, "value": key} for name, key in zip(encoding.ignore_names, encoding.ignore_keys, strict=True)]
    report.classes = [
        {
            "name": name,
            "label": label,
            "value": key,
            "pixel_fraction": round(float(scan.label_pixels[label]) / total, 6),
            "masks": int(scan.label_masks[label]),
        }
        for label, (name, key) in enumerate(zip(encoding.class_names, encoding.class_keys, strict=True), start=1)
    ]
    if scan.image_sizes:
        sizes = np.asarray(scan.image_sizes)
        report.sizes = {
            axis: {"min": int(sizes[:, k].min()), "median": float(np.median(sizes[:, k])), "max": int(sizes[:, k].max())}
            for k, axis in enumerate(("height", "width"))
        }
    report.channels = sorted(scan.channels)
    problems = dict(scan.problems)
    problems["split problems"] = split_problems + _absent_from_train(report, scan, splits)
    for kind, messages in problems.items():
        report.problems += cap_messages(messages, kind)
    report.warnings += scan.warnings + [f"class {c['name']} occurs in no mask; remove it from the classes file or add masks that show it" for c in report.classes if not c["masks"]]
    report.warnings += _numbered_from_one(report, encoding, scan)
    if report.splits.get("train", 0) == 0 and report.pairs:
        report.problems.append("the train split is empty; put pairs in train/ (or split column 'train') or drop the given splits")
    return report


def _numbered_from_one(report: DataReport, encoding: MaskEncoding, scan: ScanResult) -> list[str]:
    """A hint when a classes file without ids numbered its classes 1..K but the masks seem to count from 0."""
    if not (encoding.numbered_ids and encoding.background_key == 0 and report.classes) or report.classes[-1]["masks"] or not scan.label_masks[0]:
        return []
    first, last = report.classes[0], report.classes[-1]
    return [
        f"the classes file gives no ids, so its classes are numbered from 1 ({first['name']} = {first['value']} ... {last['name']} = {last['value']}); "
        f"no mask holds {last['value']} but {int(scan.label_masks[0])} masks hold 0, read as background. If the masks number the classes "
        f'from 0, give each class its id ({{"name": "{first["name"]}", "id": 0}}, ...)'
    ]


def _absent_from_train(report: DataReport, scan: ScanResult, splits: dict[str, list[int]]) -> list[str]:
    in_train = set().union(*(scan.presence[i] or frozenset() for i in splits.get("train", [])))
    messages = []
    for entry in report.classes:
        if entry["masks"] and entry["label"] not in in_train:
            messages.append(
                f"class {entry['name']} occurs in {entry['masks']} masks but in no training mask; move some of those pairs to train "
                "(or delete the split file to draw a new split)"
            )
    return messages
