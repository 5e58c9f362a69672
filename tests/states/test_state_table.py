"""The state table: the built-in one, overrides, and bad tables with clear errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from nocturna.core.errors import ConfigError
from nocturna.states.table import BUILT_IN, load_state_table, state_table_from_data

NIGHT = ["sleeping", "ready", "scheduling", "slewing", "pointing", "tracking", "observing",
         "analyzing", "parking", "parked", "housekeeping"]


def built_in_data() -> dict:
    return YAML(typ="safe", pure=True).load(BUILT_IN.read_text())


def problems_of(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        state_table_from_data(data, source="test table")
    return str(caught.value)


def test_built_in_table_has_the_night_states_and_loads_their_handlers():
    table = load_state_table()
    assert table.initial == "sleeping" and table.on_unsafe == "parking"
    for name in NIGHT:
        assert callable(table[name].on_enter())


def test_built_in_table_follows_the_night_cycle():
    table = load_state_table()
    cycle = ["sleeping", "ready", "scheduling", "slewing", "pointing", "tracking", "observing",
             "analyzing", "scheduling", "parking", "parked", "housekeeping", "sleeping"]
    for source, target in itertools.pairwise(cycle):
        assert table.allowed(source, target), f"{source} → {target}"


def test_every_guarded_state_can_park_and_parking_is_unguarded():
    table = load_state_table()
    assert table["parking"].is_safe_state
    for spec in table.states.values():
        if spec.checks:
            assert table.allowed(spec.name, "parking")


def test_observing_states_need_dark_and_an_open_dome_flats_need_only_twilight():
    table = load_state_table()
    for name in ("slewing", "tracking", "observing"):
        assert table[name].sun == "observe" and table[name].dome == "open"
        assert set(table[name].checks) == {"weather", "sun", "dome", "components", "disk"}
    assert table["flats"].sun == "flat"


def test_a_site_table_file_overrides_the_built_in(tmp_path: Path):
    data = built_in_data()
    data["transitions"]["analyzing"] = ["scheduling", "parking"]
    path = tmp_path / "mytable.yaml"
    YAML(typ="safe", pure=True).dump(data, path)
    table = load_state_table(path)
    assert not table.allowed("analyzing", "observing") and "mytable.yaml" in table.source


def test_transition_to_an_undeclared_state_is_named():
    data = built_in_data()
    data["transitions"]["scheduling"].append("dancing")
    message = problems_of(data)
    assert "transitions.scheduling" in message and "'dancing'" in message


def test_a_handler_module_that_does_not_exist_is_named():
    data = built_in_data()
    data["states"]["observing"]["handler"] = "observe_harder"
    assert "states.observing.handler" in problems_of(data)


def test_unknown_check_and_missing_sun_limit_are_named():
    data = built_in_data()
    data["states"]["ready"]["checks"] = ["weather", "moon"]
    data["states"]["flats"].pop("sun")
    message = problems_of(data)
    assert "states.ready.checks" in message and "states.flats.sun" in message


def test_on_unsafe_must_be_a_state_without_checks():
    data = built_in_data()
    data["on_unsafe"] = "observing"
    assert "on_unsafe" in problems_of(data)


def test_a_guarded_state_that_cannot_park_is_refused():
    data = built_in_data()
    data["transitions"]["observing"] = ["analyzing"]
    assert "transitions.observing" in problems_of(data)


def test_a_state_without_transitions_is_refused():
    data = built_in_data()
    del data["transitions"]["housekeeping"]
    assert "'housekeeping' has no transitions" in problems_of(data)


def test_unknown_keys_and_bad_initial_are_reported_together():
    data = built_in_data()
    data["initail"] = "sleeping"
    data["initial"] = "napping"
    message = problems_of(data)
    assert "initail" in message and "'napping'" in message


def test_unreadable_and_invalid_yaml_files_name_the_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_state_table(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("states: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml.*not valid YAML"):
        load_state_table(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- sleeping\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_state_table(listed)
