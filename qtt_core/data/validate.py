"""Reading every pair once to find what would break training, and the numbers for the report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qtt_core.data.masks import MaskEncoding
from qtt_core.data.pairing import Pair
from qtt_core.data.protocol import IGNORE_INDEX
from qtt_core.data.readers import probe_image, read_mask
from qtt_core.data.report import DataReport, cap_messages
from qtt_core.errors import UsageError

__all__ = ["LOSSY_UNMATCHED_LIMIT", "ScanResult", "build_report", "scan_pairs", "size_mismatch_message"]

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
    return result


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
        labels, unmatched = encoding.decode(read_mask(pair.mask))
    except UsageError as error:
        result.add_problem("unreadable files", str(error))
        return None
    if image_hw is not None and labels.shape != image_hw and resize == "error":
        result.add_problem("size mismatches", size_mismatch_message(pair, root, image_hw, labels.shape))
    if unmatched:
        _unmatched(pair, root, encoding, unmatched, labels.size, classes_source, result)
    counts = np.bincount(labels.ravel(), minlength=256)
    result.label_pixels += counts
    result.label_masks += counts > 0
    return frozenset(int(label) for label in np.flatnonzero(counts) if 0 < label < IGNORE_INDEX)


def _unmatched(pair: Pair, root: Path, encoding: MaskEncoding, unmatched: dict[str, int], size: int, classes_source: str | None, result: ScanResult) -> None:
    count = sum(unmatched.values())
    if not encoding.exact and count <= LOSSY_UNMATCHED_LIMIT * size:
        result.lossy_unmatched += count
        result.lossy_unmatched_masks += 1
        return
    shown = ", ".join(sorted(unmatched, key=unmatched.get, reverse=True)[:5]) + (", ..." if len(unmatched) > 5 else "")
    what = "colours" if encoding.kind == "colour" else "values"
    if not encoding.exact:
        fix = "the JPEG noise is too strong or the class colours are wrong: check the colours in the classes file, or save the masks as PNG"
    elif classes_source is None:
        fix = "the classes were inferred from a sample of masks: pass --classes FILE listing every class, or fix the mask"
    else:
        fix = f"add them to {Path(classes_source).name} (or its ignore entry), or fix the mask"
    result.add_problem("values that fit no class", f"mask {_rel(pair.mask, root)} has {count} pixels with {what} {shown} that fit no class; {fix}")


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
    if report.splits.get("train", 0) == 0 and report.pairs:
        report.problems.append("the train split is empty; put pairs in train/ (or split column 'train') or drop the given splits")
    return report


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
