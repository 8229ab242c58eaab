"""The classes file: full and short forms, ignore entries, and one-line errors."""

from __future__ import annotations

import json

import pytest

from qtt_core.data import load_classes_file, parse_classes
from qtt_core.errors import UsageError


def test_full_form_with_ids_colours_and_ignore_id(tmp_path):
    path = tmp_path / "classes.json"
    path.write_text(json.dumps({"classes": [{"name": "polyp", "id": 1, "color": "#FF0000"}, {"name": "tool", "id": 2, "color": "00ff00"}], "ignore": {"id": 255}}))
    parsed = load_classes_file(path)
    assert parsed.names == ["polyp", "tool"]
    assert [c.id for c in parsed.classes] == [1, 2]
    assert parsed.classes[1].color == (0, 255, 0) and parsed.classes[1].hex_color == "#00FF00"
    assert parsed.ignore.id == 255 and parsed.background.id == 0


def test_short_forms_number_classes_from_one():
    for payload in ({"classes": ["a", "b"]}, ["a", "b"]):
        parsed = parse_classes(payload)
        assert [(c.name, c.id) for c in parsed.classes] == [("a", 1), ("b", 2)]


def test_background_entry_is_not_a_foreground_class():
    parsed = parse_classes({"classes": [{"name": "background", "id": 0, "color": "#101010"}, {"name": "cell", "id": 1, "color": "#FFFFFF"}]})
    assert parsed.names == ["cell"] and parsed.background.color == (16, 16, 16)


def test_ignore_by_name_removes_the_class_and_by_colour():
    parsed = parse_classes({"classes": [{"name": "road", "color": "#808080"}, {"name": "Unlabelled", "color": "#000000"}], "ignore": {"name": "unlabelled"}})
    assert parsed.names == ["road"] and parsed.ignore.color == (0, 0, 0)
    assert parse_classes({"classes": ["x"], "ignore": {"color": "#FFFFFF"}}).ignore.color == (255, 255, 255)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"classes": []}, "at least one class"),
        ({"classes": [{"id": 1}]}, "needs a \"name\""),
        ({"classes": [{"name": "a", "color": "red"}]}, "#RRGGBB"),
        ({"classes": ["a", "a"]}, "duplicate class name"),
        ({"classes": [{"name": "a", "id": 1}, {"name": "b"}]}, "no id"),
        ({"classes": ["a"], "ignore": {"name": "void"}}, "not in \"classes\""),
        ({"classes": [{"name": "a", "id": -3}]}, "0..65535"),
    ],
)
def test_bad_classes_raise_one_line_usage_errors(payload, match):
    with pytest.raises(UsageError, match=match) as error:
        parse_classes(payload, source="my.json")
    assert "\n" not in str(error.value) and "my.json" in str(error.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_classes_file(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{classes: ")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_classes_file(broken)
