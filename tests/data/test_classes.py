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


def test_every_listed_class_counts_even_with_id_0():
    names = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"]
    parsed = parse_classes({"classes": [{"name": n, "id": k} for k, n in enumerate(names)], "ignore": {"name": "Unlabelled", "id": 11}}, source="camvid.json")
    assert parsed.names == names and [c.id for c in parsed.classes] == list(range(11))
    assert [(s.name, s.id) for s in parsed.ignores] == [("Unlabelled", 11)]
    value, rule = parsed.describe_background("id")
    assert value is None and "camvid.json lists id 0 as class 'Sky'" in rule


def test_black_listed_as_a_class_is_a_class():
    parsed = parse_classes({"classes": [{"name": "road", "color": "#000000"}, {"name": "car", "color": "#FF0000"}]}, source="c.json")
    assert parsed.names == ["road", "car"]
    assert parsed.describe_background("color")[0] is None
    assert parsed.describe_background("id") == (0, "0, because c.json lists no class with id 0")  # ids 1, 2 by position


@pytest.mark.parametrize(
    ("payload", "value", "rule"),
    [
        ({"classes": [{"name": "a", "id": 1}, {"name": "b", "id": 2}]}, 0, "lists no class with id 0"),
        ({"classes": [{"name": "Background", "id": 0}, {"name": "a", "id": 1}]}, 0, "class entry named 'Background'"),
        ({"classes": ["background", "a", "b"]}, 0, "class entry named 'background'"),
        ({"classes": [{"name": "a", "id": 0}], "background": {"name": "clutter", "id": 9}}, 9, '"background" entry'),
        ({"classes": [{"name": "a", "id": 0}], "background": 9}, 9, '"background" entry'),
        ({"classes": [{"name": "a", "id": 1}], "ignore": 0}, None, "id 0 as an ignore value"),
    ],
)
def test_background_rules(payload, value, rule):
    parsed = parse_classes(payload, source="f.json")
    found, text = parsed.describe_background("id")
    assert found == value and rule in text
    assert "background" not in [n.lower() for n in parsed.names]


def test_ignore_may_be_a_list_of_ids_colours_names_and_named_values():
    payload = {
        "classes": [{"name": "road", "id": 7, "color": "#804080"}, {"name": "car", "id": 26, "color": "#00008E"}, {"name": "ego vehicle", "id": 1}],
        "ignore": [0, {"name": "ego vehicle"}, {"name": "rectification border", "id": 2}, "#FFFFFF", {"name": "out of roi", "id": 3, "color": "#010101"}],
    }
    parsed = parse_classes(payload)
    assert parsed.names == ["road", "car"]
    assert [(s.name, s.id, s.hex_color) for s in parsed.ignores] == [
        ("ignore", 0, None), ("ego vehicle", 1, None), ("rectification border", 2, None), ("ignore", None, "#FFFFFF"), ("out of roi", 3, "#010101"),
    ]  # fmt: skip
    assert parsed.background.id is None  # id 0 is ignored, so there is no background value
    cityscapes = parse_classes({"classes": [{"name": "road", "id": 7}], "ignore": list(range(7))})
    assert [s.id for s in cityscapes.ignores] == list(range(7))


def test_short_form_numbers_around_a_background_entry():
    parsed = parse_classes({"classes": ["a", "background", "b"]})
    assert [(c.name, c.id) for c in parsed.classes] == [("a", 1), ("b", 2)] and parsed.background.id == 0
    assert not parsed.explicit_ids and parse_classes({"classes": [{"name": "a", "id": 0}]}).explicit_ids


def test_ignore_by_name_numbers_the_class_like_the_others():
    parsed = parse_classes({"classes": ["road", "car", "void"], "ignore": "void"})
    assert parsed.names == ["road", "car"] and parsed.ignores[0].id == 3


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"classes": [""]}, "names are non-empty text"),
        ({"classes": [{"name": "  ", "id": 1}]}, "names are non-empty text"),
        ({"classes": [{"name": 5, "id": 1}]}, "names are non-empty text"),
        ({"classes": [{"name": "a", "id": True}]}, "has id true; ids are integers"),
        ({"classes": [{"name": "a", "id": 1.5}]}, "has id 1.5; ids are integers"),
        ({"classes": [{"name": "a", "id": "3"}]}, "ids are integers"),
        ({"classes": ["Car", "car"]}, "'Car' and 'car' differ only in case"),
        ({"classes": ["car", "sky"], "background": {"name": "CAR", "id": 9}}, "differ only in case"),
        ({"classes": ["background", "bg", "a"]}, "both name the background"),
        ({"classes": ["background", "a"], "background": 0}, "named twice"),
        ({"classes": [{"name": "a", "id": 0}], "background": {"id": 0}}, "both have id 0"),
        ({"classes": [{"name": "a", "id": 1}], "ignore": [1]}, "class 'a' and ignore entry 'ignore' both have id 1"),
        ({"classes": [{"name": "a", "id": 1}], "ignore": [255, 255]}, "repeats an earlier ignore entry"),
        ({"classes": [{"name": "a", "id": 1}], "ignore": [{"id": True}]}, "ids are integers"),
        ({"classes": [{"name": "a", "id": 1}, {"name": "void", "id": 2}], "ignore": {"name": "Void", "id": 3}}, "has id 3 but class 'void' has 2"),
        ({"classes": [{"name": "a", "id": 1}], "ignore": [{"name": "void"}]}, "not in \"classes\""),
        ({"classes": [{"name": "a", "id": 1}], "ignore": [[255]]}, "must be an id"),
        ({"classes": ["a"], "background": {"name": "bg"}}, "needs an \"id\" or a \"color\""),
        ({"classes": ["a"], "ignore": "a"}, "no class left"),
        ({"classes": [f"c{k}" for k in range(255)]}, "more than the 254"),
    ],
)
def test_bad_entries_are_one_line_errors(payload, match):
    with pytest.raises(UsageError, match=match) as error:
        parse_classes(payload, source="my.json")
    assert "\n" not in str(error.value) and "my.json" in str(error.value)
