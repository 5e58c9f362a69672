"""Dotted keys with list indices."""

from __future__ import annotations

import pytest

from nocturna.core.config.keys import (
    delete_path,
    format_key,
    get_path,
    parse_key,
    set_path,
)
from nocturna.core.errors import ConfigKeyError, InvalidValueError


def test_dotted_key_with_indices_parses_into_a_path():
    assert parse_key("cameras.devices[1].model") == ("cameras", "devices", 1, "model")
    assert parse_key("a.b[0][2].c") == ("a", "b", 0, 2, "c")
    assert parse_key("") == ()


@pytest.mark.parametrize("key", ["a..b", "[0]", "a.[1]", "a b", "a.b.", "a[x]", ".a"])
def test_malformed_keys_are_refused_with_the_key_named(key):
    with pytest.raises(InvalidValueError, match="malformed"):
        parse_key(key)


def test_format_key_inverts_parse_key():
    for key in ["cameras.devices[1].model", "site", "a[0][3].b_c"]:
        assert format_key(parse_key(key)) == key


def test_get_path_reads_through_lists_and_mappings():
    tree = {"cameras": {"devices": [{"model": "a"}, {"model": "canon"}]}}
    assert get_path(tree, parse_key("cameras.devices[1].model")) == "canon"
    assert get_path(tree, parse_key("cameras.devices[-1].model")) == "canon"


def test_missing_key_error_names_the_missing_part_and_what_exists():
    tree = {"cameras": {"devices": [{"model": "a"}]}}
    with pytest.raises(ConfigKeyError, match=r"cameras\.devices\[3\].*1 items"):
        get_path(tree, parse_key("cameras.devices[3].model"))
    with pytest.raises(ConfigKeyError, match="keys here: devices"):
        get_path(tree, parse_key("cameras.lens"))


def test_set_path_creates_mappings_and_appends_to_lists():
    tree: dict = {}
    set_path(tree, parse_key("site.horizon.default"), "35 deg")
    set_path(tree, parse_key("cams[0]"), "x")
    set_path(tree, parse_key("cams[1]"), "y")
    assert tree == {"site": {"horizon": {"default": "35 deg"}}, "cams": ["x", "y"]}
    with pytest.raises(ConfigKeyError):
        set_path(tree, parse_key("cams[5]"), "z")


def test_delete_path_reports_whether_something_was_removed():
    tree = {"a": {"b": 1}}
    assert delete_path(tree, ("a", "b")) is True
    assert delete_path(tree, ("a", "b")) is False
