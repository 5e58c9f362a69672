"""The weather and power board lines: parsing, encoding, clear errors, fuzzing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nocturna.devices.boards.power_line import (
    PowerReading,
    encode_command,
    encode_power,
    parse_power,
)
from nocturna.devices.boards.weather_line import WeatherReading, encode_weather, parse_weather
from nocturna.devices.serial.line import SerialProtocolError

FIRMWARE_LINE = (b'{"ac_ok":true,"battery_low":false,"relays":[true,false,true,false,true],'
                 b'"readings":[120,0,80,0,200],"name":"power_board","uptime":1234}')


def test_a_power_board_line_as_the_firmware_prints_it():
    reading = parse_power(FIRMWARE_LINE, 5)
    assert reading == PowerReading(ac_ok=True, battery_low=False,
                                   relays=(True, False, True, False, True),
                                   readings=(120, 0, 80, 0, 200), uptime_s=1234.0)
    assert encode_power(reading) == FIRMWARE_LINE + b"\n"


def test_power_commands_are_the_firmware_s_json():
    assert encode_command(4, 1) == b'{"relay":4,"power":1}\n'


@pytest.mark.parametrize(("line", "message"), [
    (b'{"ac_ok":true', "not a JSON line"),
    (b"[1,2]", "expected a JSON object"),
    (b'{"name":"telemetry_board"}', "a line from 'telemetry_board', not from 'power_board'"),
    (FIRMWARE_LINE.replace(b"[true,false,true,false,true]", b"[]"), "relays is []"),
    (FIRMWARE_LINE.replace(b"[120,0,80,0,200]", b"[120,0]"), "not 5 current readings"),
    (FIRMWARE_LINE.replace(b'"ac_ok":true', b'"ac_ok":"yes"'), "ac_ok is 'yes'"),
    (FIRMWARE_LINE.replace(b'"uptime":1234', b'"uptime":NaN'), "not a JSON line"),
])
def test_bad_power_lines_are_protocol_errors_quoting_the_line(line, message):
    with pytest.raises(SerialProtocolError, match="power_board: ") as caught:
        parse_power(line)
    assert message in str(caught.value)


def test_a_power_line_with_another_relay_count_is_refused():
    with pytest.raises(SerialProtocolError, match="the line has 5 relays, the driver is set "
                                                  "up for 4"):
        parse_power(FIRMWARE_LINE, 4)


def test_a_weather_line_round_trips_and_optional_sensors_may_be_absent():
    full = WeatherReading(ambient_temp_c=5.1, sky_temp_c=-24.9, wind_speed_m_s=3.0,
                          wind_gust_m_s=4.5, rain_frequency=2700, humidity_pct=40.0,
                          pressure_hpa=680.0)
    line = encode_weather(full, "2026-12-15T23:00:00Z")
    assert json.loads(line)["timestamp"] == "2026-12-15T23:00:00Z"
    assert parse_weather(line.rstrip(b"\n")) == full
    assert full.sky_delta_c == pytest.approx(-30.0)
    minimal = parse_weather(b'{"name":"weather_board","ambient_temp":2,"sky_temp":-20,'
                            b'"extra":"ignored"}')
    assert minimal.present() == ["ambient_temp", "sky_temp"]
    assert minimal.wind_speed_m_s is None


@pytest.mark.parametrize(("line", "message"), [
    (b'{"name":"weather_board","ambient_temp":2}', "sky_temp is None, not a number"),
    (b'{"name":"weather_board","ambient_temp":2,"sky_temp":"cold"}', "sky_temp is 'cold'"),
    (b'{"name":"weather_board","ambient_temp":true,"sky_temp":1}', "ambient_temp is True"),
    (b'{"name":"weather_board","ambient_temp":1e999,"sky_temp":1}', "ambient_temp is inf"),
    (b"\xff\xfe", "not a JSON line"),
    (b"x" * 5000, "too long"),
])
def test_bad_weather_lines_are_protocol_errors(line, message):
    with pytest.raises(SerialProtocolError, match="weather_board: ") as caught:
        parse_weather(line)
    assert message in str(caught.value)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.sampled_from(["name", "relays", "readings", "ac_ok", "battery_low",
                                       "uptime", "sky_temp", "ambient_temp", "wind_speed",
                                       "rain_frequency", "x"]), children, max_size=8),
    max_leaves=20)


def _only_protocol_errors(parse, raw: bytes) -> None:
    with contextlib.suppress(SerialProtocolError):
        parse(raw)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_bytes_give_only_protocol_errors(raw):
    _only_protocol_errors(parse_weather, raw)
    _only_protocol_errors(lambda r: parse_power(r, 5), raw)


@settings(max_examples=300, deadline=None)
@given(JSONISH, st.sampled_from(["weather_board", "power_board", None]))
def test_any_json_gives_a_reading_or_a_protocol_error(value, name):
    if isinstance(value, dict) and name is not None:
        value = {**value, "name": name}
    raw = json.dumps(value).encode()
    _only_protocol_errors(parse_weather, raw)
    _only_protocol_errors(lambda r: parse_power(r, 5), raw)
