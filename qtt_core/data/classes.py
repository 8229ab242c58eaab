"""The classes file (JSON): class names, optional ids and colours, an optional ignore entry.

Full form::

    {"classes": [{"name": "polyp", "id": 1, "color": "#FF0000"},
                 {"name": "instrument", "id": 2, "color": "#00FF00"}],
     "ignore": {"id": 255}}

- ``name`` is required; ``id`` is the value stored in the mask (grey value or palette index,
  default: the position in the list, starting at 1); ``color`` (``#RRGGBB``) is the colour in
  colour-coded masks (RGB, or palette PNGs mapped by colour).
- A class named ``background`` (or with id 0) is label 0, not a foreground class; without one,
  id 0 / colour ``#000000`` is background.
- ``ignore`` (optional) is ``{"id": 255}``, ``{"color": "#FFFFFF"}`` or ``{"name": "Unlabelled"}``
  (a class of the list, which is then removed from the classes); ignored pixels become label
  255 and are excluded from losses and metrics.
- Short form: ``{"classes": ["polyp", "instrument"]}`` (ids 1, 2, ...); a bare list works too.

Label ``k`` (1..K) of the decoded label maps is the k-th foreground class of the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qtt_core.errors import UsageError

__all__ = ["ClassSpec", "ClassesFile", "load_classes_file", "parse_classes", "parse_colour"]

_BACKGROUND_NAMES = {"background", "_background_", "bg", "__background__"}
_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class ClassSpec:
    """One class: its name, the value in the mask (``id``) and/or its RGB colour."""

    name: str
    id: int | None = None
    color: tuple[int, int, int] | None = None

    @property
    def hex_color(self) -> str | None:
        return None if self.color is None else "#{:02X}{:02X}{:02X}".format(*self.color)


@dataclass(frozen=True)
class ClassesFile:
    """The parsed classes file.

    Attributes:
        classes: the K foreground classes; label ``k`` is ``classes[k - 1]``.
        background: the background entry (id 0 / ``#000000`` when the file names none).
        ignore: the entry whose pixels become label 255, or None.
        source: the file it came from (for messages).
    """

    classes: tuple[ClassSpec, ...]
    background: ClassSpec
    ignore: ClassSpec | None
    source: str

    @property
    def has_colours(self) -> bool:
        return any(spec.color is not None for spec in self.classes)

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.classes]


def load_classes_file(path: str | Path) -> ClassesFile:
    """Read and validate a classes file; raises UsageError naming the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"classes file {path} not found; pass an existing JSON file")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"classes file {path} is not valid JSON ({error}); fix the file") from None
    return parse_classes(payload, source=str(path))


def parse_classes(payload: Any, source: str = "classes") -> ClassesFile:
    """Parse the JSON payload of a classes file (see the module docstring for the format)."""
    if isinstance(payload, list):
        payload = {"classes": payload}
    if not isinstance(payload, dict) or not isinstance(payload.get("classes"), list) or not payload["classes"]:
        raise UsageError(f'{source}: expected {{"classes": [...]}} with at least one class; see the classes file format in qtt_core.data.classes')
    specs = [_parse_entry(entry, position, source) for position, entry in enumerate(payload["classes"])]
    ignore = _parse_ignore(payload.get("ignore"), specs, source)
    if ignore is not None and ignore in specs:
        specs.remove(ignore)
    background = next((s for s in specs if s.name.lower() in _BACKGROUND_NAMES or s.id == 0), None)
    if background is not None:
        specs.remove(background)
    specs = _default_ids(specs, source)
    background = background or ClassSpec("background", 0, (0, 0, 0) if any(s.color for s in specs) else None)
    if background.id is None:
        background = ClassSpec(background.name, 0, background.color)
    if not specs:
        raise UsageError(f"{source}: no foreground class (only background/ignore); add at least one class")
    _check_unique(specs, source)
    return ClassesFile(tuple(specs), background, ignore, source)


def parse_colour(text: Any, source: str = "classes") -> tuple[int, int, int]:
    """``"#RRGGBB"`` (or ``[r, g, b]``) as an RGB tuple."""
    if isinstance(text, (list, tuple)) and len(text) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in text):
        return (int(text[0]), int(text[1]), int(text[2]))
    match = _COLOUR.match(str(text).strip())
    if not match:
        raise UsageError(f'{source}: colour {text!r} is not "#RRGGBB"; write colours as hex, e.g. "#FF0000"')
    value = match.group(1)
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _parse_entry(entry: Any, position: int, source: str) -> ClassSpec:
    if isinstance(entry, str):
        return ClassSpec(entry.strip())
    if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
        raise UsageError(f'{source}: class #{position + 1} {entry!r} needs a "name"; write {{"name": "...", "id": 1}}')
    class_id = entry.get("id")
    if class_id is not None and (not isinstance(class_id, int) or class_id < 0 or class_id > 65535):
        raise UsageError(f"{source}: class {entry['name']!r} has id {class_id!r}; ids are integers 0..65535")
    colour = entry.get("color", entry.get("colour"))
    return ClassSpec(str(entry["name"]).strip(), class_id, None if colour is None else parse_colour(colour, source))


def _parse_ignore(entry: Any, specs: list[ClassSpec], source: str) -> ClassSpec | None:
    if entry is None:
        return None
    if isinstance(entry, int) and not isinstance(entry, bool):
        entry = {"id": entry}
    if isinstance(entry, str):
        entry = {"color": entry} if entry.startswith("#") else {"name": entry}
    if not isinstance(entry, dict):
        raise UsageError(f'{source}: "ignore" must be {{"id": 255}}, {{"color": "#RRGGBB"}} or {{"name": "..."}}')
    if "name" in entry and "id" not in entry and "color" not in entry:
        named = [s for s in specs if s.name.lower() == str(entry["name"]).lower()]
        if not named:
            raise UsageError(f'{source}: ignore names class {entry["name"]!r}, which is not in "classes"; add it or fix the name')
        return named[0]
    spec = _parse_entry({"name": entry.get("name", "ignore"), **{k: v for k, v in entry.items() if k != "name"}}, 0, source)
    if spec.id is None and spec.color is None:
        raise UsageError(f'{source}: "ignore" needs an "id", a "color" or a "name"')
    return spec


def _default_ids(specs: list[ClassSpec], source: str) -> list[ClassSpec]:
    """Classes without an id get their 1-based position (ids only matter for grey/index masks)."""
    if all(s.id is None for s in specs):
        return [ClassSpec(s.name, k + 1, s.color) for k, s in enumerate(specs)]
    if any(s.id is None for s in specs) and not all(s.color is not None for s in specs):
        missing = [s.name for s in specs if s.id is None]
        raise UsageError(f"{source}: classes {missing} have no id while others do; give every class an id")
    return specs


def _check_unique(specs: list[ClassSpec], source: str) -> None:
    for attribute in ("name", "id", "color"):
        values = [getattr(s, attribute) for s in specs if getattr(s, attribute) is not None]
        duplicates = sorted({str(v) for v in values if values.count(v) > 1})
        if duplicates:
            raise UsageError(f"{source}: duplicate class {attribute} {', '.join(duplicates)}; each class needs its own {attribute}")
