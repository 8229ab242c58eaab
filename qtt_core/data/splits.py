"""Train/val/test splits: given ones, seeded stratified ones, and split files.

Rules:
- Splits the dataset gives (folders ``train/ val/ test/`` or a ``split`` column) are used.
  Pairs without a split, and splits the dataset lacks, are carved out of the rest (pairs
  without a split, else train) with ``val_fraction`` and ``test_fraction`` of that pool.
- Carving is seeded and reproducible (pairs are ordered by key first) and, when class
  presence is known (multiclass), stratified: pairs are taken rarest class first, and each
  goes to the split furthest below its share for that class, so every class that occurs at
  all occurs in train.
- Tiny pools: val and test get at least one pair each when the pool has 3 or more; train always
  keeps at least one. With 2 pairs, test shares val's pair; with 1 pair, all three splits share
  it. Shared pairs are reported as warnings (test scores are then optimistic).
- A split file (JSON, :func:`save_split`) lists the keys of each split; loading it gives the
  same split for a resumed run, and fails when the dataset's pairs changed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from qtt_core.data.protocol import SPLIT_NAMES
from qtt_core.errors import UsageError
from qtt_core.files import write_atomic

__all__ = ["assign_splits", "load_split", "save_split"]

SPLIT_FORMAT = "qtt-seg split"


def assign_splits(
    keys: list[str],
    given: list[str | None],
    presence: list[frozenset[int]] | None = None,
    seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
) -> tuple[dict[str, list[int]], list[str]]:
    """Indices of the pairs in each split.

    Args:
        keys: one stable key per pair (its relative image path).
        given: the split each pair was given, or None.
        presence: per pair, the labels present in its mask (stratifies), or None.

    Returns:
        ``({"train": [...], "val": [...], "test": [...]}, warnings)``; indices sorted by key.
    """
    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise UsageError(f"val_fraction {val_fraction} and test_fraction {test_fraction} must be in (0, 1) with a sum below 1")
    order = sorted(range(len(keys)), key=keys.__getitem__)
    splits: dict[str, list[int]] = {name: [i for i in order if given[i] == name] for name in SPLIT_NAMES}
    loose = [i for i in order if given[i] is None]
    needed = [name for name in ("val", "test") if not splits[name]]
    if loose:
        pool, needed = loose, ["train", "val", "test"]
    elif needed:
        pool, splits["train"] = splits["train"], []
        needed = ["train", *needed]
    else:
        return splits, []
    fractions = {"train": 1.0, "val": val_fraction, "test": test_fraction}
    carved, warnings = _carve(pool, {name: fractions[name] for name in needed}, presence, seed)
    for name, indices in carved.items():
        splits[name] = sorted(splits[name] + indices, key=keys.__getitem__)
    return splits, warnings


def save_split(path: str | Path, splits: dict[str, list[str]], seed: int | None = None) -> Path:
    """Write ``{"format", "seed", "splits": {"train": [keys], ...}}`` as JSON to ``path``."""
    payload = {"format": SPLIT_FORMAT, "version": 1, "seed": seed, "splits": {name: list(splits[name]) for name in SPLIT_NAMES}}
    return write_atomic(Path(path), json.dumps(payload, indent=1) + "\n")


def load_split(path: str | Path, keys: list[str]) -> dict[str, list[int]]:
    """Indices per split from a split file, for the pairs with these ``keys``.

    Raises:
        UsageError: unreadable file, or pairs added to or missing from the dataset since.
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        listed = {name: [str(k) for k in payload["splits"].get(name, [])] for name in SPLIT_NAMES}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"split file {path} cannot be read ({type(error).__name__}: {error}); delete it to draw a new split") from None
    position = {key: i for i, key in enumerate(keys)}
    missing = sorted({k for names in listed.values() for k in names} - set(position))
    unlisted = sorted(set(position) - {k for names in listed.values() for k in names})
    if missing or unlisted:
        example = (missing or unlisted)[0]
        raise UsageError(
            f"split file {path} does not match the dataset ({len(missing)} listed pairs are gone, {len(unlisted)} pairs are new, e.g. {example}); "
            "restore the data or delete the split file"
        )
    return {name: [position[k] for k in names] for name, names in listed.items()}


def _carve(pool: list[int], fractions: dict[str, float], presence: list[frozenset[int]] | None, seed: int) -> tuple[dict[str, list[int]], list[str]]:
    names = list(fractions)
    counts = _counts(len(pool), fractions)
    warnings = []
    carved: dict[str, list[int]] = {name: [] for name in names}
    ordered = _stratified_order(pool, presence, seed)
    groups = _groups(ordered, presence)
    share = {name: counts[name] / max(len(pool), 1) for name in names}
    taken: dict[tuple[int, str], int] = Counter()
    for index in ordered:
        group = groups[index]
        open_splits = [name for name in names if len(carved[name]) < counts[name]]
        best = max(open_splits, key=lambda name: (share[name] * groups["size", group] - taken[group, name], share[name]))
        carved[best].append(index)
        taken[group, best] += 1
    for name in names:
        if not carved[name]:
            fallback = carved.get("val") or carved["train"]
            carved[name] = list(fallback)
            warnings.append(f"only {len(pool)} pairs: the {name} split shares its pairs with {'val' if fallback is carved.get('val') else 'train'}; add pairs for an honest {name} score")
    return carved, warnings


def _counts(size: int, fractions: dict[str, float]) -> dict[str, int]:
    counts = {name: 0 for name in fractions}
    for name in ("val", "test"):
        if name in fractions and size >= (2 if name == "val" else 3):
            counts[name] = max(1, round(size * fractions[name]))
    while size - sum(counts.values()) < 1 and any(counts.values()):
        largest = max((n for n in counts if n != "train"), key=lambda n: (counts[n], n == "test"))
        counts[largest] -= 1
    counts["train"] = size - sum(v for n, v in counts.items() if n != "train")
    return counts


def _stratified_order(pool: list[int], presence: list[frozenset[int]] | None, seed: int) -> list[int]:
    """The pool shuffled with ``seed``; with presence, pairs of the rarest classes first."""
    rng = np.random.default_rng(seed)
    shuffled = [pool[i] for i in rng.permutation(len(pool))]
    if presence is None:
        return shuffled
    frequency = Counter(label for i in pool for label in presence[i])
    rarest = {i: min((frequency[label] for label in presence[i]), default=len(pool) + 1) for i in pool}
    return sorted(shuffled, key=rarest.__getitem__)  # stable: keeps the seeded order within ties


def _groups(ordered: list[int], presence: list[frozenset[int]] | None) -> dict:
    """Pair index -> stratum (its rarest class), plus ``("size", stratum)`` -> stratum size."""
    groups: dict = {}
    if presence is None:
        frequency: Counter = Counter()
    else:
        frequency = Counter(label for i in ordered for label in presence[i])
    for index in ordered:
        labels = presence[index] if presence is not None else frozenset()
        group = min(labels, key=lambda label: (frequency[label], label)) if labels else -1
        groups[index] = group
        groups["size", group] = groups.get(("size", group), 0) + 1
    return groups
