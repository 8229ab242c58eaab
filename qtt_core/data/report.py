"""The data report: what ``qtt-seg data check`` prints and ``Dataset.report`` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["MAX_PROBLEMS_PER_KIND", "DataReport", "cap_messages"]

#: problems of one kind listed one by one before they are summarised in one line
MAX_PROBLEMS_PER_KIND = 10


@dataclass
class DataReport:
    """A dataset's summary and the problems that stop it from being used.

    Attributes:
        source: the dataset given (folder, table file, or "DataFrame").
        layout: how pairs were found, e.g. "folder: image/ + label/".
        pairs: number of image/mask pairs.
        splits: pairs per split, e.g. ``{"train": 21, "val": 4, "test": 5}``.
        split_source: "given" (folders or column), "seeded" (drawn here), "file" or "mixed".
        num_classes: K, the foreground classes.
        classes: per class ``{"name", "label", "value", "pixel_fraction", "masks"}`` (value: id
            or colour in the masks; masks: how many masks contain it).
        background_fraction, ignore_fraction: shares of all mask pixels.
        background: ``{"value", "rule", "pixel_fraction"}``: the background's value in the masks
            (id, colour, or None when there is none) and the rule that decided it.
        ignore: per ignored value ``{"name", "value"}`` (its pixels are ``ignore_fraction``).
        encoding: the mask encoding found, one line; ``encoding_kind`` its short name.
        sizes: ``{"height": {"min", "median", "max"}, "width": {...}}`` of the images, pixels.
        channels: channel counts of the images found (1 grey, 3 colour, 4 with alpha).
        problems: one line each, naming the file and the fix; any problem makes it unusable.
        warnings: things to know that do not stop training.
        notes: what was detected (folder names, mask suffix, splits).
    """

    source: str
    layout: str = ""
    pairs: int = 0
    splits: dict[str, int] = field(default_factory=lambda: {"train": 0, "val": 0, "test": 0})
    split_source: str = ""
    num_classes: int = 0
    classes: list[dict[str, Any]] = field(default_factory=list)
    background_fraction: float = 0.0
    ignore_fraction: float = 0.0
    background: dict[str, Any] = field(default_factory=dict)
    ignore: list[dict[str, Any]] = field(default_factory=list)
    encoding: str = ""
    encoding_kind: str = ""
    sizes: dict[str, dict[str, float]] = field(default_factory=dict)
    channels: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """True when there are pairs in train and val and no problems."""
        return self.pairs > 0 and not self.problems and self.splits.get("train", 0) > 0 and self.splits.get("val", 0) > 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every field and ``usable``."""
        payload = asdict(self)
        payload["usable"] = self.usable
        return payload


def cap_messages(messages: list[str], kind: str, limit: int = MAX_PROBLEMS_PER_KIND) -> list[str]:
    """The first ``limit`` messages, then one line counting the rest."""
    if len(messages) <= limit:
        return list(messages)
    return messages[:limit] + [f"... and {len(messages) - limit} more {kind} like these"]
