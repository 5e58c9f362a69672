"""Fields: validation, YAML loading, the offline catalogue, and clear errors."""

from __future__ import annotations

import pytest

from nocturna.core.errors import ConfigError, InvalidValueError
from nocturna.scheduler import Field, demo_fields_path, load_fields
from nocturna.scheduler.catalog import lookup


def test_a_field_has_documented_defaults():
    field = Field("target", 10.0, 20.0)
    assert (field.priority, field.exptimes_s, field.filters, field.min_nexp,
            field.exp_set_size) == (1.0, (60.0,), (None,), 10, 5)


def test_one_exposure_time_applies_to_every_filter():
    field = Field("t", 0, 0, exptimes_s=(120,), filters=("R", "G", "B"))
    assert field.exptimes_s == (120.0, 120.0, 120.0)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"priority": -1}, "priority: must be > 0, got -1"),
    ({"priority": 0}, "priority: must be > 0"),
    ({"ra_deg": 400}, "ra_deg: must be in 0..360"),
    ({"dec_deg": -91}, "dec_deg: must be in -90..90"),
    ({"min_nexp": 0}, "min_nexp: must be a whole number >= 1"),
    ({"exp_set_size": 2.5}, "exp_set_size: must be a whole number >= 1"),
    ({"exptimes_s": (0,)}, "exptimes_s: must be > 0 s"),
    ({"exptimes_s": (60, 90), "filters": ("R", "G", "B")}, "2 exposure times for 3 filter"),
    ({"filters": ()}, "filters: expected"),
])
def test_a_bad_field_names_itself_and_the_attribute(kwargs, fragment):
    values = {"name": "bad", "ra_deg": 10.0, "dec_deg": 10.0} | kwargs
    with pytest.raises(InvalidValueError, match="field 'bad': ") as caught:
        Field(**values)
    assert fragment in str(caught.value)


def test_fields_are_frozen():
    field = Field("t", 1, 2)
    with pytest.raises(AttributeError):
        field.priority = 3  # type: ignore[misc]


def test_yaml_with_every_position_form(tmp_path):
    path = tmp_path / "fields.yaml"
    path.write_text("""
- {name: numbers, ra: 83.82, dec: -5.39, priority: 2, exptime: 120, filter: R}
- {name: sexagesimal, ra: 05h35m17.3s, dec: -05d23m28s, exptime: "2 min"}
- {name: with units, ra: "83.8221 deg", dec: "-5.3911 deg"}
- {name: position text, position: "05h35m17.3s -05d23m28s"}
- {name: position degrees, position: "83.82 -5.39"}
- {name: position colons, position: "05:35:17.3 -05:23:28"}
- {name: by name, position: Orion Nebula, exptime: [60, 90], filter: [Ha, OIII],
   min_nexp: 6, exp_set_size: 3}
- {name: M42}
""")
    fields = {f.name: f for f in load_fields(path)}
    for name in ("sexagesimal", "with units", "position text", "position colons", "by name",
                 "M42"):
        assert fields[name].ra_deg == pytest.approx(83.8221, abs=1e-4), name
        assert fields[name].dec_deg == pytest.approx(-5.3911, abs=1e-4), name
    assert (fields["numbers"].ra_deg, fields["numbers"].dec_deg) == (83.82, -5.39)
    assert fields["position degrees"].ra_deg == 83.82
    assert fields["sexagesimal"].exptimes_s == (120.0,)
    by_name = fields["by name"]
    assert (by_name.exptimes_s, by_name.filters, by_name.min_nexp, by_name.exp_set_size) == (
        (60.0, 90.0), ("Ha", "OIII"), 6, 3)
    assert fields["numbers"].filters == ("R",) and fields["numbers"].priority == 2


def test_a_mapping_with_a_fields_list_is_accepted():
    fields = load_fields({"fields": [{"name": "a", "ra": 1, "dec": 2}]})
    assert [f.name for f in fields] == ["a"]


def test_errors_name_the_file_the_entry_and_the_key(tmp_path):
    path = tmp_path / "fields.yaml"
    path.write_text("""
- {name: a, ra: 1, dec: 2}
- {name: b, ra: 1, dec: 2}
- {name: c, ra: 1, dec: 2}
- {name: d, ra: 1, dec: 2, priority: -1}
- {name: e, ra: 1, dec: 2, exptime: fast}
- {name: f, ra: 1, dec: 2, colour: red}
- {name: a, ra: 1, dec: 2}
- {name: g, ra: 1}
""")
    with pytest.raises(ConfigError) as caught:
        load_fields(path)
    problems = caught.value.problems
    assert "fields.yaml: fields[3].priority: must be > 0, got -1" in problems
    assert any(p.startswith("fields.yaml: fields[4].exptime: ") for p in problems)
    assert any(p.startswith("fields.yaml: fields[5].colour: unknown key") for p in problems)
    assert "fields.yaml: fields[6].name: 'a' is already used by fields[0]" in problems
    assert any(p.startswith("fields.yaml: fields[7].dec: ") for p in problems)
    assert len(problems) == 5


def test_an_unknown_name_says_positions_are_resolved_offline():
    with pytest.raises(ConfigError) as caught:
        load_fields([{"name": "x", "position": "Betelgeuse Nebula"}])
    message = str(caught.value)
    assert "fields[0].position" in message and "resolved offline" in message
    assert "give ra and dec" in message and "M42" in message


def test_a_field_named_nothing_known_needs_a_position():
    with pytest.raises(ConfigError, match=r"fields\[0\].position: no position"):
        load_fields([{"name": "my target"}])


def test_a_missing_file_and_bad_yaml_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="cannot read it"):
        load_fields(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {name: a, ra: [1\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: line .*not valid YAML"):
        load_fields(bad)


def test_the_catalogue_matches_names_loosely():
    for name in ("M42", "m 42", "Messier 42", "NGC 1976", "orion nebula", "M-42"):
        entry = lookup(name)
        assert entry is not None and entry.name == "M42", name
    assert lookup("M999") is None


def test_catalogue_positions_agree_with_astropy_parsing():
    from astropy.coordinates import SkyCoord

    crab = SkyCoord("05h34m31.94s +22d00m52.2s")
    entry = lookup("Crab Nebula")
    assert entry is not None
    assert (entry.ra_deg, entry.dec_deg) == pytest.approx((crab.ra.deg, crab.dec.deg), abs=1e-9)


def test_demo_fields_suit_a_december_night():
    fields = load_fields(demo_fields_path())
    assert 15 <= len(fields) <= 30
    assert all(-30 <= f.dec_deg <= 70 and 1 <= f.priority <= 5 for f in fields)
    assert all(60 <= t <= 600 for f in fields for t in f.exptimes_s)
    names = {"L", "R", "G", "B", "Ha", "OIII", "SII"}
    assert all(set(f.filters) <= names for f in fields)
    assert all(6 <= f.min_nexp <= 20 and 2 <= f.exp_set_size <= 5 for f in fields)
    assert 100 <= sum(f.total_frames for f in fields) <= 200
    # more planned than a December night's 10.4 dark hours hold: never out of work
    planned_h = sum(f.total_frames * sum(f.exptimes_s) / len(f.exptimes_s)
                    for f in fields) / 3600
    assert 12 <= planned_h <= 18
    hours = sorted(f.ra_deg / 15 for f in fields)
    gaps = [b - a for a, b in zip(hours, [*hours[1:], hours[0] + 24], strict=True)]
    assert max(gaps) < 8  # spread round the sky: the widest gap is the summer sky
