"""Mask encodings: decided once per dataset from a sample of masks, then applied to every mask.

Encodings (``MaskEncoding.kind``):

- ``binary``: two values, background 0 and one foreground value ({0, 255} or {0, 1}).
- ``binary-threshold``: lossy (JPEG) or anti-aliased grey masks, mostly near 0 and 255:
  foreground is ``value >= 128``. For lossless masks the values other than 0 and 255 are
  counted (``data check`` warns, naming the files, the values and their share of pixels).
- ``ids``: grey values or palette indices are class ids. Without a classes file, 0 is taken as
  background, the other ids found are mapped in order to labels 1..K and named ``class<id>``,
  and 255 is ignored when the other ids are all below 128 (a guess ``data check`` warns about;
  masks that are {0,255} in some files and small ids in others are a problem). With a classes
  file, every class it lists is a class and its background and ignore entries decide the rest
  (see :mod:`qtt_core.data.classes`).
- ``colour``: colour-coded masks (RGB, or palette PNGs whose palette differs between files),
  mapped by colour: each pixel takes the nearest listed colour within ``tolerance`` (0 for
  lossless masks, :data:`LOSSY_TOLERANCE` for JPEG); pixels further from every colour become
  255 (ignored) and are reported. Without a classes file the colours of lossless masks are
  the classes (black is background), named ``#RRGGBB``.

``invert`` swaps background and foreground of binary masks (datasets that mark the object
with 0). Decoded label maps are ``H x W`` uint8: 0 background, 1..K classes, 255 ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qtt_core.data.classes import ClassesFile
from qtt_core.data.protocol import IGNORE_INDEX
from qtt_core.data.readers import RawMask
from qtt_core.errors import UsageError

__all__ = ["LOSSY_TOLERANCE", "MaskEncoding", "detect_encoding"]

#: largest RGB distance at which a JPEG mask pixel still takes the nearest class colour
LOSSY_TOLERANCE = 80.0
_MAX_INFERRED_CLASSES = 64
#: share of pixels near the extremes above which many-valued grey masks are read as binary
_EXTREME_SHARE = 0.8


@dataclass(frozen=True)
class MaskEncoding:
    """How raw mask values become labels.

    Attributes:
        kind: "binary", "binary-threshold", "ids" or "colour" (see the module docstring).
        description: one line for reports, e.g. "binary {0,255}".
        class_names: the K foreground class names; label ``k`` is ``class_names[k - 1]``.
        class_keys: per class, the value (int) or colour ("#RRGGBB") it has in the masks.
        threshold: foreground threshold of the binary kinds.
        values: ``(value, label)`` pairs of the ids kind (ignore values map to 255).
        colours: ``(r, g, b)`` per entry of the colour kind, with ``colour_labels`` alongside.
        tolerance: RGB distance for the colour kind.
        exact: whether values outside the encoding are problems (lossless masks).
        invert: swap background and foreground (binary only).
        allowed: the values binary kinds expect; others are counted as unmatched (empty for
            JPEG masks, whose noise is expected).
        background: one line: the background's value and which rule decided it.
        background_key: the background's value (int) or colour ("#RRGGBB"); None: no background.
        ignore_keys: the values or colours whose pixels become 255, ``ignore_names`` alongside.
        guessed_ignore: 255 is ignored because the other ids are small (no classes file said so).
        numbered_ids: the class ids were numbered 1..K because the classes file gives none.
    """

    kind: str
    description: str
    class_names: tuple[str, ...]
    class_keys: tuple[int | str, ...]
    threshold: int = 128
    values: tuple[tuple[int, int], ...] = ()
    colours: tuple[tuple[int, int, int], ...] = ()
    colour_labels: tuple[int, ...] = ()
    tolerance: float = 0.0
    exact: bool = True
    invert: bool = False
    allowed: tuple[int, ...] = field(default=())
    background: str = "0"
    background_key: int | str | None = 0
    ignore_keys: tuple[int | str, ...] = ()
    ignore_names: tuple[str, ...] = ()
    guessed_ignore: bool = False
    numbered_ids: bool = False

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def signature(self) -> str:
        """A string that changes whenever decoding would (part of cache keys)."""
        return repr((self.kind, self.class_keys, self.threshold, self.values, self.colours, self.colour_labels, self.tolerance, self.invert, self.allowed))

    def decode(self, raw: RawMask) -> tuple[np.ndarray, dict[str, int]]:
        """Label map ``H x W`` uint8 and the unmatched pixels ``{value or colour: count}``."""
        if self.kind == "colour":
            labels, unmatched = self._decode_colour(raw.rgb())
        else:
            values = raw.values if raw.kind != "colour" else np.rint(raw.values.mean(axis=2)).astype(np.int32)
            labels, unmatched = self._decode_values(values)
        if self.invert:
            labels = np.where(labels == IGNORE_INDEX, IGNORE_INDEX, 1 - np.minimum(labels, 1)).astype(np.uint8)
        return labels, unmatched

    def _decode_values(self, values: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
        if self.kind in ("binary", "binary-threshold"):
            labels = (values >= self.threshold).astype(np.uint8)
            ignore = [v for v, label in self.values if label == IGNORE_INDEX]
            if ignore:
                labels[np.isin(values, ignore)] = IGNORE_INDEX
            if not self.allowed:
                return labels, {}
            stray = ~np.isin(values, self.allowed)
            return labels, _count(values[stray]) if stray.any() else {}
        top = max(int(values.max(initial=0)), max((v for v, _ in self.values), default=0)) + 1
        lut = np.full(top, IGNORE_INDEX, dtype=np.uint8)
        known = np.zeros(top, dtype=bool)
        for value, label in self.values:
            lut[value] = label
            known[value] = True
        clipped = np.clip(values, 0, top - 1)
        labels = lut[clipped]
        stray = ~known[clipped]
        return labels, _count(values[stray]) if stray.any() else {}

    def _decode_colour(self, rgb: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
        packed = _pack(rgb)
        unique, inverse, counts = np.unique(packed, return_inverse=True, return_counts=True)
        unique_rgb = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=1).astype(np.float64)
        distance = np.linalg.norm(unique_rgb[:, None, :] - np.asarray(self.colours, dtype=np.float64)[None], axis=2)
        nearest = distance.argmin(axis=1)
        matched = distance[np.arange(len(unique)), nearest] <= self.tolerance
        unique_labels = np.where(matched, np.asarray(self.colour_labels)[nearest], IGNORE_INDEX).astype(np.uint8)
        unmatched = {_hex(int(c)): int(n) for c, n, ok in zip(unique, counts, matched, strict=True) if not ok}
        return unique_labels[inverse.reshape(packed.shape)], unmatched


def detect_encoding(samples: list[tuple[Path, RawMask]], classes: ClassesFile | None = None, invert: bool = False) -> MaskEncoding:
    """Decide the encoding of a dataset from a sample of its masks.

    Args:
        samples: ``(path, raw mask)`` of a few masks of the dataset (paths for messages).
        classes: the parsed classes file, or None to infer the classes from the values.
        invert: swap background and foreground (binary masks only).

    Raises:
        UsageError: the masks fit no encoding, or fit the classes file in no way.
    """
    if not samples:
        raise UsageError("no masks to look at; the dataset is empty")
    encoding = _from_classes(samples, classes) if classes is not None else _inferred(samples)
    if invert:
        if encoding.num_classes != 1:
            raise UsageError(f"--invert swaps background and foreground of binary masks, but these masks have {encoding.num_classes} classes; drop --invert")
        background = f"{encoding.class_keys[0]}, because --invert makes 0 the object"
        changes = {"class_keys": (0,), "background_key": encoding.class_keys[0], "background": background}
        encoding = _replace(encoding, invert=True, description=encoding.description + ", inverted (0 is the foreground)", **changes)
    return encoding


def _inferred(samples: list[tuple[Path, RawMask]]) -> MaskEncoding:
    kinds = {raw.kind for _, raw in samples}
    lossy = any(raw.lossy for _, raw in samples)
    if "colour" in kinds or ("palette" in kinds and not _palettes_agree(samples)):
        if lossy:
            path = next(p for p, raw in samples if raw.kind == "colour")
            raise UsageError(f"{path}: colour-coded JPEG masks need a classes file that lists each class colour; pass --classes FILE")
        what = "colour-coded RGB" if "colour" in kinds else "palette PNGs with differing palettes, mapped by colour"
        return _inferred_colours(samples, what)
    values, counts = _histogram(raw.values for _, raw in samples)
    binary = _binary(values, counts, lossy, name="foreground") or _mixed_binary(samples)
    if binary is not None:
        return binary
    if lossy:
        raise UsageError(f"{samples[0][0]}: JPEG masks with {len(values)} grey levels that are not mostly 0 and 255; save the masks as PNG or pass --classes FILE")
    return _inferred_ids(samples, values, counts, "palette indices" if kinds == {"palette"} else "class ids")


def _inferred_ids(samples: list[tuple[Path, RawMask]], values: np.ndarray, counts: np.ndarray, what: str) -> MaskEncoding:
    others = [int(v) for v in values if v not in (0, IGNORE_INDEX)]
    ignore = IGNORE_INDEX in values and all(v < 128 for v in others)
    ids = others if ignore else [int(v) for v in values if v != 0]
    small = all(v < 128 for v in ids) and len(ids) <= _MAX_INFERRED_CLASSES
    if not small and _extreme_share(values, counts) >= _EXTREME_SHARE:
        top = 255 if int(values.max(initial=0)) <= 255 else int(values.max())
        return _binary_threshold(values, "foreground", f"binary {{0,{top}}}, other values thresholded at {(top + 1) // 2}", allowed=(0, top))
    if not small and len(ids) > 16:
        raise UsageError(f"{samples[0][0]}: masks hold {len(ids)} different values, too many to be class ids; pass --classes FILE naming the ids")
    pairs = [(0, 0)] + [(v, k + 1) for k, v in enumerate(ids)] + ([(IGNORE_INDEX, IGNORE_INDEX)] if ignore else [])
    listed = ",".join(str(v) for v in [0, *ids])
    description = f"{what} {{{listed}}}" + (" (255 ignored)" if ignore else "")
    return MaskEncoding(
        "ids",
        description,
        tuple(f"class{v}" for v in ids),
        tuple(ids),
        values=tuple(pairs),
        background="0, assumed without a classes file (if 0 is a class, pass --classes FILE listing it with id 0)",
        ignore_keys=(IGNORE_INDEX,) if ignore else (),
        ignore_names=("ignore",) if ignore else (),
        guessed_ignore=ignore,
    )


def _inferred_colours(samples: list[tuple[Path, RawMask]], what: str) -> MaskEncoding:
    packed = set().union(*(np.unique(_pack(raw.rgb())).tolist() for _, raw in samples))
    colours = sorted(((c >> 16) & 255, (c >> 8) & 255, c & 255) for c in packed)
    foreground = [c for c in colours if c != (0, 0, 0)]
    if len(foreground) > _MAX_INFERRED_CLASSES:
        raise UsageError(f"{samples[0][0]}: masks hold {len(foreground)} colours, too many to be classes; pass --classes FILE listing the class colours")
    names = tuple("#{:02X}{:02X}{:02X}".format(*c) for c in foreground)
    return MaskEncoding(
        "colour",
        f"{what}, {len(foreground)} colours (black is background)",
        names,
        names,
        colours=((0, 0, 0), *foreground),
        colour_labels=tuple(range(len(foreground) + 1)),
        background="#000000, assumed without a classes file (if black is a class, pass --classes FILE listing it)",
        background_key="#000000",
    )


def _from_classes(samples: list[tuple[Path, RawMask]], classes: ClassesFile) -> MaskEncoding:
    if _reads_colours(samples, classes):
        return _colours_from_classes(samples, classes)
    file = Path(classes.source).name
    values, counts = _histogram(raw.values for _, raw in samples)
    lossy = any(raw.lossy for _, raw in samples)
    background_id, rule = classes.describe_background("id")
    ignore_ids = tuple(s.id for s in classes.ignores if s.id is not None)
    ignore_names = tuple(s.name for s in classes.ignores if s.id is not None)
    ids = [s.id for s in classes.classes]
    names = tuple(classes.names)
    common = {"background": rule, "background_key": background_id, "ignore_keys": ignore_ids, "ignore_names": ignore_names}
    if len(ids) == 1 and ids[0] not in values and background_id == 0:
        keep = ~np.isin(values, ignore_ids)
        binary = _binary(values[keep], counts[keep], lossy, name=names[0])
        if binary is not None:
            ignored = tuple((v, IGNORE_INDEX) for v in ignore_ids)
            allowed = (*binary.allowed, *ignore_ids) if binary.allowed else ()
            return _replace(binary, values=ignored, allowed=allowed, **common)
    pairs = ([(background_id, 0)] if background_id is not None else []) + [(v, k + 1) for k, v in enumerate(ids)]
    pairs += [(v, IGNORE_INDEX) for v in ignore_ids]
    parts = [f"{len(ids)} classes ({_ranges(ids)})", "background " + ("none" if background_id is None else str(background_id))]
    if ignore_ids:
        parts.append(f"ignored {_ranges(list(ignore_ids))}")
    return MaskEncoding(
        "ids",
        f"class ids from {file}: " + ", ".join(parts),
        names,
        tuple(ids),
        values=tuple(pairs),
        exact=not lossy,
        numbered_ids=not classes.explicit_ids,
        **common,
    )


def _reads_colours(samples: list[tuple[Path, RawMask]], classes: ClassesFile) -> bool:
    """Whether the masks are read by colour (else by id); see the classes module docstring."""
    kinds = {raw.kind for _, raw in samples}
    if "colour" in kinds:
        if not classes.has_colours:
            colour_file = next(p for p, raw in samples if raw.kind == "colour")
            raise UsageError(f'{colour_file}: masks are colour-coded; give each class a "color" ("#RRGGBB") in {classes.source}')
        return True
    if not classes.has_colours:
        return False
    return not classes.explicit_ids or ("palette" in kinds and not _palettes_agree(samples))


def _colours_from_classes(samples: list[tuple[Path, RawMask]], classes: ClassesFile) -> MaskEncoding:
    missing = [s.name for s in classes.classes if s.color is None]
    if missing:
        raise UsageError(f"{classes.source}: classes {missing} have no color while others do; give every class a color")
    lossy = any(raw.lossy for _, raw in samples)
    background, rule = classes.describe_background("color")
    entries = [(s.color, k + 1) for k, s in enumerate(classes.classes)]
    entries = ([(classes.background.color, 0)] if background is not None else []) + entries
    ignored = [s for s in classes.ignores if s.color is not None]
    entries += [(s.color, IGNORE_INDEX) for s in ignored]
    tolerance = LOSSY_TOLERANCE if lossy else 0.0
    names = tuple(classes.names)
    description = f"colour-coded, {len(names)} colours from {Path(classes.source).name}, background {background or 'none'}"
    if ignored:
        description += f", {len(ignored)} ignored"
    return MaskEncoding(
        "colour",
        description + (f" (nearest within {tolerance:g})" if lossy else ""),
        names,
        tuple(s.hex_color for s in classes.classes),
        colours=tuple(c for c, _ in entries),
        colour_labels=tuple(label for _, label in entries),
        tolerance=tolerance,
        exact=not lossy,
        background=rule,
        background_key=background,
        ignore_keys=tuple(s.hex_color for s in ignored),
        ignore_names=tuple(s.name for s in ignored),
    )


def _binary(values: np.ndarray, counts: np.ndarray, lossy: bool, name: str) -> MaskEncoding | None:
    """Binary kinds: two values {0, v}, or lossy masks mostly near their extremes."""
    present = [int(v) for v in values]
    if len(present) <= 2 and (0 in present or len(present) == 1):
        foreground = max(present) if max(present, default=0) > 0 else 255
        listed = "{0," + str(foreground) + "}"
        allowed = () if lossy else (0, foreground)
        return MaskEncoding(
            "binary", f"binary {listed}", (name,), (foreground,), threshold=(foreground + 1) // 2, allowed=allowed, exact=not lossy,
            background=f"0 (binary masks: 0 and {foreground})",
        )  # fmt: skip
    if lossy and _extreme_share(values, counts) >= _EXTREME_SHARE:
        return _binary_threshold(values, name, "binary, JPEG noise thresholded at 128")
    return None


def _mixed_binary(samples: list[tuple[Path, RawMask]]) -> MaskEncoding | None:
    """Binary masks saved as {0, 1} in some files and {0, 255} in others (never both in one)."""
    per_file = [set(np.unique(raw.values).tolist()) - {0} for _, raw in samples]
    if set().union(*per_file) != {1, 255} or any(len(found) > 1 for found in per_file):
        return None
    description = "binary, {0,1} in some masks and {0,255} in others"
    return MaskEncoding("binary", description, ("foreground",), (255,), threshold=1, allowed=(0, 1, 255), background="0 (binary masks)")


def _binary_threshold(values: np.ndarray, name: str, description: str, allowed: tuple[int, ...] = ()) -> MaskEncoding:
    """Foreground from ``value >= top / 2``; ``allowed`` (lossless masks): the values not counted as stray."""
    top = 255 if int(values.max(initial=0)) <= 255 else int(values.max())
    threshold = (top + 1) // 2
    background = f"values below {threshold} (binary masks, thresholded)"
    return MaskEncoding("binary-threshold", description, (name,), (top,), threshold=threshold, exact=False, allowed=allowed, background=background)


def _ranges(values: list[int]) -> str:
    """``[0, 1, 2, 3, 7]`` as ``"0..3, 7"``."""
    ordered = sorted(values)
    runs: list[list[int]] = []
    for value in ordered:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]},{r[1]}" if len(r) == 2 else f"{r[0]}..{r[-1]}" for r in runs)


def _extreme_share(values: np.ndarray, counts: np.ndarray) -> float:
    top = 255 if int(values.max(initial=0)) <= 255 else int(values.max())
    extreme = (values <= top // 8) | (values >= top - top // 8)
    return float(counts[extreme].sum() / max(int(counts.sum()), 1))


def _palettes_agree(samples: list[tuple[Path, RawMask]]) -> bool:
    seen: dict[int, tuple[int, ...]] = {}
    for _, raw in samples:
        if raw.kind != "palette":
            continue
        for index in np.unique(raw.values):
            colour = tuple(int(c) for c in raw.palette[int(index)])
            if seen.setdefault(int(index), colour) != colour:
                return False
    return True


def _histogram(arrays) -> tuple[np.ndarray, np.ndarray]:
    totals: dict[int, int] = {}
    for array in arrays:
        values, counts = np.unique(array, return_counts=True)
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            totals[value] = totals.get(value, 0) + count
    keys = sorted(totals)
    return np.asarray(keys, dtype=np.int64), np.asarray([totals[k] for k in keys], dtype=np.int64)


def _count(values: np.ndarray) -> dict[str, int]:
    unique, counts = np.unique(values, return_counts=True)
    return {str(int(v)): int(n) for v, n in zip(unique, counts, strict=True)}


def _pack(rgb: np.ndarray) -> np.ndarray:
    """``H x W x 3`` uint8 colours as ``H x W`` int32 ``0xRRGGBB``."""
    return (rgb[:, :, 0].astype(np.int32) << 16) | (rgb[:, :, 1].astype(np.int32) << 8) | rgb[:, :, 2]


def _hex(packed: int) -> str:
    return "#{:02X}{:02X}{:02X}".format((packed >> 16) & 255, (packed >> 8) & 255, packed & 255)


def _replace(encoding: MaskEncoding, **changes) -> MaskEncoding:
    from dataclasses import replace

    return replace(encoding, **changes)
