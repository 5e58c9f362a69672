"""The v3 formats: INDI's worked examples, round trips, and garbage → SerialProtocolError."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nocturna.devices.ioptron import protocol as iop
from nocturna.devices.serial.line import SerialProtocolError
from nocturna.devices.types import PierSide


def test_the_examples_of_the_protocol_notes():
    status = iop.parse_status(b"-4410000045810000000911#")
    assert (status.longitude_deg, status.latitude_deg) == (-122.5, 37.25)
    assert status.system == iop.SystemState.STOPPED and status.slew_speed == 9
    assert status.time_source == iop.TimeSource.HAND_CONTROLLER and status.northern
    position = iop.parse_position(b"-0450000002970000011#")
    assert (position.ra_hours, position.dec_deg, position.pier_side) == \
        (5.5, -12.5, PierSide.WEST)
    assert iop.set_ra(5.5) == b":SRA029700000#" and iop.set_dec(-12.5) == b":Sd-04500000#"
    assert iop.guide_pulse("east", 500) == b":ZS00500#"
    assert iop.set_custom_rate(1.0) == b":RR10000#" and iop.set_guide_rates(0.5, 0.5) == \
        b":RG5050#"
    assert iop.set_utc(iop.J2000) == b":SUT0000000000000#"
    assert iop.set_longitude(237.5) == b":SLO-44100000#"  # east 0..360 goes to -180..180
    assert iop.parse_model(b"0120") == "0120" and iop.model_name("0120") == "CEM120"
    assert iop.model_name("0030") == "iEQ30 Pro" and iop.model_name("0060") == "CEM60"
    assert iop.parse_guide_rates(b"2540#") == (0.25, 0.40)
    assert iop.parse_meridian(b"103#") == (True, 3)
    assert iop.parse_ok(b":ST1#", b"1") and not iop.parse_ok(b":MS1#", b"0")


@pytest.mark.parametrize(("parse", "raw", "message"), [
    (iop.parse_status, b"-441000004581000000091#", r":GLS#: expected 23 characters"),
    (iop.parse_status, b"-4410000045810000000011#", r"slew speed 0 is not in 1\.\.9"),
    (iop.parse_status, b"-4410000045810000080911#", r"system state '8' is not one of"),
    (iop.parse_status, b"-4410000045810000000911", r"does not end with '#'"),
    (iop.parse_position, b"+0450000002970000031#", r"pier side 3"),
    (iop.parse_position, b"-0450000012970000011#", r"off the sky"),
    (iop.parse_time, b"+060X0000000000000#", r"DST flag 'X'"),
    (iop.parse_model, b"CEM4", r"expected a 4-digit model code"),
])
def test_bad_replies_name_the_command_and_the_bytes(parse, raw, message):
    with pytest.raises(SerialProtocolError, match=message) as caught:
        parse(raw)
    assert repr(raw) in str(caught.value) and str(caught.value).startswith("iOptron :")


def test_commands_refuse_values_out_of_range():
    for build, value in ((iop.set_dec, 91.0), (iop.set_custom_rate, 2.0),
                         (iop.set_slew_speed, 0), (iop.set_ra, float("nan"))):
        with pytest.raises(ValueError, match="is not in"):
            build(value)
    with pytest.raises(ValueError, match="before J2000"):
        iop.set_utc(datetime(1999, 1, 1, tzinfo=UTC))


PARSERS = (iop.parse_status, iop.parse_position, iop.parse_time, iop.parse_model,
           iop.parse_guide_rates, iop.parse_meridian,
           lambda raw: iop.parse_ok(b":ST1#", raw),
           lambda raw: iop.parse_firmware(raw, raw))


@given(st.binary(max_size=40), st.sampled_from(PARSERS))
def test_garbage_raises_only_serial_protocol_errors(raw, parse):
    try:
        parse(raw)
    except SerialProtocolError as exc:
        assert "iOptron :" in str(exc)


@given(st.text(alphabet="0123456789+- ?\u00e9", max_size=24), st.sampled_from(PARSERS))
def test_near_miss_text_raises_only_serial_protocol_errors(text, parse):
    """Replies of about the right length and alphabet, framed with '#'."""
    with contextlib.suppress(SerialProtocolError):
        parse(text.encode() + b"#")


@given(lon=st.floats(-180, 180), lat=st.floats(-90, 90),
       gps=st.sampled_from(iop.Gps), system=st.sampled_from(iop.SystemState),
       rate=st.sampled_from(iop.TrackingRate), speed=st.integers(1, 9),
       source=st.sampled_from(iop.TimeSource), north=st.booleans())
def test_status_round_trips(lon, lat, gps, system, rate, speed, source, north):
    status = iop.Status(lon, lat, gps, system, rate, speed, source, north)
    back = iop.parse_status(iop.format_status(status))
    assert back.longitude_deg == pytest.approx(lon, abs=1e-5)
    assert back.latitude_deg == pytest.approx(lat, abs=1e-5)
    assert (back.gps, back.system, back.tracking_rate, back.slew_speed, back.time_source,
            back.northern) == (gps, system, rate, speed, source, north)


@given(ra=st.floats(0, 24, exclude_max=True), dec=st.floats(-90, 90),
       side=st.sampled_from(PierSide), up=st.booleans())
def test_position_and_target_round_trip(ra, dec, side, up):
    back = iop.parse_position(iop.format_position(iop.Position(ra, dec, side, up)))
    assert min(abs(back.ra_hours - ra), 24 - abs(back.ra_hours - ra)) < 1e-6
    assert back.dec_deg == pytest.approx(dec, abs=1e-5)
    assert (back.pier_side, back.counterweight_up) == (side, up)
    assert len(iop.set_ra(ra)) == 14 and len(iop.set_dec(dec)) == 13
