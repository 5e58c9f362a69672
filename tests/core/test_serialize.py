"""JSON and YAML round-trips of quantities, datetimes, dates and astropy Times."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time

from nocturna.core.serialize import from_json, from_yaml, to_json, to_yaml

SAMPLE = {
    "horizon": 30 * u.deg,
    "speeds": [1.5, 2.0] * u.deg / u.s,
    "when": datetime(2026, 12, 15, 4, 0, tzinfo=UTC),
    "night": date(2026, 12, 15),
    "t": Time("2026-12-15T04:00:00.123", scale="utc"),
    "name": "Mauna Loa",
    "tz": "US/Hawaii",
    "list": [1, 2.5, None, True, "x"],
}


@pytest.mark.parametrize(("dump", "load"), [(to_json, from_json), (to_yaml, from_yaml)])
def test_round_trip_keeps_types_and_values(dump, load):
    back = load(dump(SAMPLE))
    assert back["horizon"] == 30 * u.deg
    assert np.allclose(back["speeds"].to_value(u.deg / u.s), [1.5, 2.0])
    assert back["when"] == SAMPLE["when"] and back["when"].tzinfo is not None
    assert back["night"] == SAMPLE["night"]
    assert isinstance(back["t"], Time) and abs((back["t"] - SAMPLE["t"]).sec) < 1e-6
    assert back["name"] == "Mauna Loa" and back["tz"] == "US/Hawaii"
    assert back["list"] == [1, 2.5, None, True, "x"]


def test_time_scale_survives_the_round_trip():
    tai = Time("2026-12-15T04:00:37", scale="tai")
    back = from_json(to_json(tai))
    assert back.scale == "tai" and abs((back - tai).sec) < 1e-6


def test_non_utc_datetime_keeps_its_offset():
    hst = datetime(2026, 12, 14, 18, 0, tzinfo=timezone(timedelta(hours=-10)))
    back = from_json(to_json(hst))
    assert back == hst and back.utcoffset() == timedelta(hours=-10)


def test_json_quantity_form_matches_the_value_unit_convention():
    assert json.loads(to_json(42 * u.deg)) == {"value": 42.0, "unit": "deg"}


def test_yaml_writes_scalar_quantities_as_text():
    assert to_yaml({"h": 30 * u.deg}).strip() == "h: 30 deg"


def test_numpy_values_serialize_as_plain_numbers():
    encoded = to_json({"a": np.float32(1.5), "b": np.arange(3)})
    assert json.loads(encoded) == {"a": 1.5, "b": [0, 1, 2]}


def test_unknown_objects_are_refused_with_the_type_named():
    with pytest.raises(TypeError, match="cannot serialize object"):
        to_json({"x": object()})


def test_json_strings_that_look_like_quantities_stay_strings():
    assert from_json(to_json({"object": "10 s", "filter": "5 deg"})) == {
        "object": "10 s", "filter": "5 deg"}


def test_yaml_reads_quantity_text_like_configuration():
    assert from_yaml("exptime: 10 s\n") == {"exptime": 10 * u.s}
