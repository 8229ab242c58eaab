"""The classes file (JSON): the classes of a dataset, its background and its ignored values.

Full form::

    {"classes": [{"name": "Sky", "id": 0, "color": "#808080"},
                 {"name": "Building", "id": 1, "color": "#800000"},
                 {"name": "Road", "id": 2, "color": "#804080"}],
     "ignore": [{"name": "Void", "id": 11, "color": "#000000"}, 255]}

(Here every pixel is a class or void: Sky has id 0 and Void colour ``#000000``, so the set has
no background, see below.)

Short form: ``{"classes": ["polyp", "instrument"]}`` (ids 1, 2, ...); a bare list works too.

Classes (``"classes"``, at least one):

- Every entry is a class, whatever its id or colour: a class with id 0 or colour ``#000000``
  is trained and scored like any other. Only an entry named background is not (see below).
- ``name`` (required): text, not empty; two names may not differ only in case.
- ``id``: the class's value in the masks (grey value or palette index), an integer 0..65535.
  Default: 1, 2, ... in list order (a background entry in the list takes 0 and is skipped).
  Give every class an id or none (a file where every class has a colour may leave ids out).
  If the masks number their classes from 0 (CamVid, Cityscapes train ids, LoveDA, ...), give
  the ids: ``{"name": "Sky", "id": 0}``.
- ``color`` (or ``colour``): ``"#RRGGBB"`` or ``[r, g, b]``, the class's colour in
  colour-coded masks (RGB PNGs, or palette PNGs mapped by colour).
- Ids and colours must each be unique over the classes, the background and the ignore entries.

Background (label 0: pixels of no class; scores are over the classes only). In this order:

1. an entry of ``classes`` named ``background`` (or ``_background_``, ``__background__``,
   ``bg``; any case) is the background, not a class (id default 0, colour default ``#000000``);
2. else a top-level ``"background"`` entry: ``{"id": 0}``, ``{"color": "#000000"}``,
   ``{"name": "clutter", "id": 20}``, or just ``0`` or ``"#000000"``;
3. else the value 0 (colour ``#000000`` for colour-coded masks), when no class and no ignore
   entry has it;
4. else there is none: every pixel must be a listed class or ignored (label 0 never occurs).

``qtt-seg data check`` prints which rule applied.

Ignore (``"ignore"``, optional): one entry or a list of them (void values; Cityscapes has
seven). An entry is an id (``255``), a colour (``"#FFFFFF"``), the name of a class of the
list (``"Unlabelled"``: that class is removed from the classes and its pixels ignored), or an
object with an ``id`` and/or a ``color`` and an optional ``name``
(``{"name": "Unlabelled", "id": 11}``). Ignored pixels become label 255 and count in neither
losses nor metrics.

Mask values that no class, background or ignore entry names are problems in
``qtt-seg data check`` (naming the files, the values and their share of the pixels).

Which values decode the masks: colour-coded (RGB) masks use the colours (every class needs
one); grey masks and palette PNGs use the ids (grey value or palette index), except when the
classes have colours but not every class was given an id, or when palette PNGs differ in their
palettes: then the pixels' colours are matched. Background and ignore entries count with the
id or colour that the chosen way reads (an ignore entry with only an id does nothing in
colour-coded masks).

Labels: decoded label maps hold 0 for background, ``k`` (1..K) for the k-th class of the file
(background and ignore entries not counted; so a class with id 0 is label 1) and 255 for
ignored pixels; at most 254 classes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qtt_core.errors import UsageError

__all__ = ["MAX_CLASSES", "ClassSpec", "ClassesFile", "load_classes_file", "parse_classes", "parse_colour"]

#: labels 1..254 are classes; 0 is background and 255 ignored
MAX_CLASSES = 254
BLACK = (0, 0, 0)
_BACKGROUND_NAMES = {"background", "_background_", "bg", "__background__"}
_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class ClassSpec:
    """One entry: its name, the value in the mask (``id``) and/or its RGB colour."""

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
        classes: the K classes in file order; label ``k`` is ``classes[k - 1]``.
        background: the background's id and colour; either is None where the file leaves no
            value for it (rule 4 of the module docstring).
        background_rule: "named" (an entry of ``classes``), "entry" (the ``"background"``
            entry) or "implicit" (id 0 / ``#000000`` where no class or ignore entry has it).
        ignores: the entries whose pixels become label 255 (possibly none).
        source: the file it came from (for messages).
        explicit_ids: every class was given an id in the file (ids were not numbered here).
    """

    classes: tuple[ClassSpec, ...]
    background: ClassSpec
    ignores: tuple[ClassSpec, ...]
    source: str
    background_rule: str = "implicit"
    explicit_ids: bool = False

    @property
    def ignore(self) -> ClassSpec | None:
        """The first ignore entry, or None."""
        return self.ignores[0] if self.ignores else None

    @property
    def has_colours(self) -> bool:
        return any(spec.color is not None for spec in self.classes)

    @property
    def names(self) -> list[str]:
        return [spec.name for spec in self.classes]

    def describe_background(self, by: str) -> tuple[int | str | None, str]:
        """The background's value when masks are read by ``by`` ("id" or "color"), and the rule.

        Returns:
            ``(value, rule)``: the id (int) or colour ("#RRGGBB"), None when there is no
            background, and one line saying which rule of the classes file decided it.
        """
        file = Path(self.source).name
        value = self.background.id if by == "id" else self.background.hex_color
        what = "id 0" if by == "id" else "colour #000000"
        if value is None:
            holder = next((s for s in self.classes if _has(s, by, 0 if by == "id" else BLACK)), None)
            if self.background_rule != "implicit":
                return None, f"none, because the background entry of {file} gives no {'id' if by == 'id' else 'colour'} and {what} is taken"
            if holder is not None:
                return None, f"none, because {file} lists {what} as class {holder.name!r} (every pixel must be a listed class or ignored)"
            return None, f"none, because {file} lists {what} as an ignore value (every pixel must be a listed class or ignored)"
        if self.background_rule == "named":
            return value, f"{value}, the class entry named {self.background.name!r} in {file}"
        if self.background_rule == "entry":
            return value, f"{value}, the \"background\" entry of {file}"
        return value, f"{value}, because {file} lists no class with {what}"


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
    """Parse the JSON payload of a classes file (see the module docstring for the format).

    Raises:
        UsageError: one line naming ``source``, the entry and the fix.
    """
    if isinstance(payload, list):
        payload = {"classes": payload}
    if not isinstance(payload, dict) or not isinstance(payload.get("classes"), list) or not payload["classes"]:
        raise UsageError(f'{source}: expected {{"classes": [...]}} with at least one class; see the classes file format in qtt_core.data.classes')
    entries = [_parse_entry(entry, f"class #{position + 1}", source) for position, entry in enumerate(payload["classes"])]
    named = [s for s in entries if s.name.lower() in _BACKGROUND_NAMES]
    if len(named) > 1:
        raise UsageError(f"{source}: classes {[s.name for s in named]} both name the background; keep one")
    given = _parse_background(payload.get("background"), source)
    if named and given is not None:
        raise UsageError(f'{source}: the background is named twice (class {named[0].name!r} and the "background" entry); keep one')
    _check_names([*entries, *([given] if given is not None else [])], source)
    specs = [s for s in entries if s not in named]
    explicit_ids = all(s.id is not None for s in specs)
    specs = _default_ids(specs, source)
    ignores, referenced = _parse_ignores(payload.get("ignore"), specs, source)
    specs = [s for s in specs if s.name not in referenced]
    if not specs:
        raise UsageError(f"{source}: no class left (only background/ignore entries); add at least one class")
    if len(specs) > MAX_CLASSES:
        raise UsageError(f"{source}: {len(specs)} classes, more than the {MAX_CLASSES} that label maps hold; merge classes or ignore some")
    rule = "named" if named else "entry" if given is not None else "implicit"
    background = _background(named[0] if named else given, specs, ignores, source)
    _check_values(specs, background if rule != "implicit" else None, ignores, source)
    return ClassesFile(tuple(specs), background, tuple(ignores), source, rule, explicit_ids)


def parse_colour(text: Any, source: str = "classes") -> tuple[int, int, int]:
    """``"#RRGGBB"`` (or ``[r, g, b]``) as an RGB tuple."""
    if isinstance(text, (list, tuple)) and len(text) == 3 and all(_is_int(v) and 0 <= v <= 255 for v in text):
        return (int(text[0]), int(text[1]), int(text[2]))
    match = _COLOUR.match(str(text).strip())
    if not match:
        raise UsageError(f'{source}: colour {text!r} is not "#RRGGBB"; write colours as hex, e.g. "#FF0000"')
    value = match.group(1)
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def _parse_entry(entry: Any, what: str, source: str, default_name: str | None = None) -> ClassSpec:
    """A class-like entry (a name, or an object with name, id, color); ``what`` names it in errors."""
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise UsageError(f'{source}: {what} {entry!r} is not a name or an object; write {{"name": "...", "id": 1}}')
    name = entry.get("name", default_name)
    if name is None:
        raise UsageError(f'{source}: {what} {entry!r} needs a "name"; write {{"name": "...", "id": 1}}')
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f'{source}: {what} has the name {name!r}; names are non-empty text, e.g. "car"')
    class_id = entry.get("id")
    if class_id is not None and (not _is_int(class_id) or not 0 <= class_id <= 65535):
        raise UsageError(f"{source}: {what} {name.strip()!r} has id {json.dumps(class_id)}; ids are integers 0..65535, e.g. \"id\": 3")
    colour = entry.get("color", entry.get("colour"))
    return ClassSpec(name.strip(), class_id, None if colour is None else parse_colour(colour, source))


def _parse_background(entry: Any, source: str) -> ClassSpec | None:
    """The top-level ``"background"`` entry: an id, a colour or an object; None when absent."""
    if entry is None:
        return None
    if _is_int(entry):
        entry = {"id": entry}
    elif isinstance(entry, str):
        entry = {"color": entry}
    spec = _parse_entry(entry, '"background"', source, default_name="background")
    if spec.id is None and spec.color is None:
        raise UsageError(f'{source}: "background" needs an "id" or a "color", e.g. {{"id": 0}}')
    return spec


def _parse_ignores(payload: Any, specs: list[ClassSpec], source: str) -> tuple[list[ClassSpec], set[str]]:
    """The ignore entries, and the names of the classes they take out of the class list."""
    if payload is None:
        return [], set()
    items = payload if isinstance(payload, list) else [payload]
    ignores: list[ClassSpec] = []
    referenced: set[str] = set()
    for position, item in enumerate(items):
        what = "ignore entry" + (f" #{position + 1}" if isinstance(payload, list) else "")
        spec, reference = _parse_ignore(item, what, specs, source)
        if reference:
            referenced.add(spec.name)
        if spec in ignores:
            raise UsageError(f"{source}: {what} repeats an earlier ignore entry; list each ignored value once")
        ignores.append(spec)
    return ignores, referenced


def _parse_ignore(item: Any, what: str, specs: list[ClassSpec], source: str) -> tuple[ClassSpec, bool]:
    """One ignore entry, and whether it names a class of the list (which it then takes out)."""
    if _is_int(item):
        item = {"id": item}
    elif isinstance(item, str):
        item = {"color": item} if item.strip().startswith("#") else {"name": item}
    if not isinstance(item, dict):
        raise UsageError(f'{source}: {what} {item!r} must be an id (255), a colour ("#FFFFFF"), a class name, or {{"name": "...", "id": 255}}')
    if "name" in item and isinstance(item["name"], str):
        match = next((s for s in specs if s.name.lower() == item["name"].strip().lower()), None)
        if match is not None:
            spec = _parse_entry(item, what, source)
            for attribute in ("id", "color"):
                value = getattr(spec, attribute)
                if value is not None and value != getattr(match, attribute):
                    raise UsageError(
                        f"{source}: {what} {spec.name!r} has {attribute} {_show(value)} but class {match.name!r} has {_show(getattr(match, attribute))}; "
                        "make them agree, or rename the ignore entry"
                    )
            return match, True
        if "id" not in item and "color" not in item and "colour" not in item:
            raise UsageError(f'{source}: {what} names class {item["name"]!r}, which is not in "classes"; add it, fix the name, or give an "id"')
    spec = _parse_entry(item, what, source, default_name="ignore")
    if spec.id is None and spec.color is None:
        raise UsageError(f'{source}: {what} needs an "id", a "color" or the name of a class')
    return spec, False


def _background(chosen: ClassSpec | None, specs: list[ClassSpec], ignores: list[ClassSpec], source: str) -> ClassSpec:
    """The background with id 0 / colour black filled in where the file leaves them and they are free."""
    id_free = not any(s.id == 0 for s in [*specs, *ignores])
    black_free = not any(s.color == BLACK for s in [*specs, *ignores])
    if chosen is None:
        return ClassSpec("background", 0 if id_free else None, BLACK if black_free else None)
    return replace(chosen, id=0 if chosen.id is None and id_free else chosen.id, color=BLACK if chosen.color is None and black_free else chosen.color)


def _default_ids(specs: list[ClassSpec], source: str) -> list[ClassSpec]:
    """Classes without an id get 1, 2, ... in list order (ids only matter for grey/index masks)."""
    if all(s.id is None for s in specs):
        return [replace(s, id=k + 1) for k, s in enumerate(specs)]
    if any(s.id is None for s in specs) and not all(s.color is not None for s in specs):
        missing = [s.name for s in specs if s.id is None]
        raise UsageError(f"{source}: classes {missing} have no id while others do; give every class an id")
    return specs


def _check_names(specs: list[ClassSpec], source: str) -> None:
    """Names may occur once, also ignoring case (ignore entries match classes ignoring case)."""
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"{source}: duplicate class name {', '.join(duplicates)}; each class needs its own name")
    folded: dict[str, str] = {}
    for name in names:
        other = folded.setdefault(name.lower(), name)
        if other != name:
            raise UsageError(f"{source}: class names {other!r} and {name!r} differ only in case; rename one (names are matched ignoring case)")


def _check_values(specs: list[ClassSpec], background: ClassSpec | None, ignores: list[ClassSpec], source: str) -> None:
    """Ids and colours may occur once over the classes, the background and the ignore entries."""
    entries = [(f"class {s.name!r}", s) for s in specs] + [(f"ignore entry {s.name!r}", s) for s in ignores]
    if background is not None:
        entries.append(("the background", background))
    for attribute in ("id", "color"):
        seen: dict[Any, str] = {}
        for label, spec in entries:
            value = getattr(spec, attribute)
            if value is None:
                continue
            if value in seen:
                if seen[value].startswith("class") and label.startswith("class"):
                    raise UsageError(f"{source}: duplicate class {attribute} {_show(value)}; each class needs its own {attribute}")
                raise UsageError(f"{source}: {seen[value]} and {label} both have {attribute} {_show(value)}; a value can mean one thing only")
            seen[value] = label


def _has(spec: ClassSpec, by: str, value: Any) -> bool:
    return (spec.id if by == "id" else spec.color) == value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    return "#{:02X}{:02X}{:02X}".format(*value) if isinstance(value, tuple) else str(value)
