"""Parsing quantities from text and mappings; leaving everything else alone."""

from __future__ import annotations

import astropy.units as u
import pytest

from nocturna.core.units import format_quantity, parse_tree, parse_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30 deg", 30 * u.deg), ("1000 m", 1000 * u.m), ("10 s", 10 * u.s),
     ("-1.5e3 km", -1500 * u.km), ("0.5 arcsec", 0.5 * u.arcsec), ("12 %", 12 * u.percent)],
)
def test_quantity_text_parses(text, expected):
    value = parse_value(text)
    assert isinstance(value, u.Quantity)
    assert value.unit == expected.unit and value.value == pytest.approx(expected.value)


def test_value_unit_mapping_parses():
    assert parse_value({"value": 42, "unit": "deg"}) == 42 * u.deg
    array = parse_value({"value": [1, 2], "unit": "m"})
    assert list(array.to_value(u.m)) == [1, 2]


@pytest.mark.parametrize(
    "text", ["Mauna Loa", "US/Hawaii", "5 stars", "30deg", "deg 30", "", "1 2 3", "v1.2 m"]
)
def test_invalid_quantity_strings_stay_strings(text):
    assert parse_value(text) == text


def test_mappings_that_are_not_exactly_value_and_unit_stay_mappings():
    value = {"value": 1, "unit": "deg", "note": "x"}
    assert parse_value(value) == value
    assert parse_value({"value": 1, "unit": "furlongs-ish"}) == {"value": 1, "unit": "furlongs-ish"}


def test_parse_tree_walks_nested_structures():
    tree = parse_tree({"a": ["30 deg", {"b": "10 s", "name": "cam"}], "n": 3})
    assert tree["a"][0] == 30 * u.deg
    assert tree["a"][1]["b"] == 10 * u.s
    assert tree["a"][1]["name"] == "cam"
    assert tree["n"] == 3


def test_format_quantity_writes_what_people_type():
    assert format_quantity(30 * u.deg) == "30 deg"
    assert format_quantity(1.5 * u.m / u.s) == "1.5 m / s"
    assert parse_value(format_quantity(0.1 * u.arcsec)) == 0.1 * u.arcsec
