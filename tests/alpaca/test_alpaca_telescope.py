"""Telescope over nocturna's Alpaca server: park and home after the reply, parked
refusals, the target set one coordinate at a time, rates, site and capabilities."""

from __future__ import annotations

import re

import httpx
import pytest
from alpaca_server_helpers import error_number, fast_mount, ok, unit, wait_for

from nocturna.alpaca.runner import start_in_thread

BASE = "/api/v1/telescope/0"


@pytest.fixture
def http():
    """A fresh server with a parked, fast simulated mount."""
    with start_in_thread(unit(mount=fast_mount())) as running, \
            httpx.Client(base_url=f"{running.url}{BASE}", timeout=10) as client:
        yield client


def unpark_and_track(http: httpx.Client) -> None:
    ok(http.put("/unpark"))
    ok(http.put("/tracking", data={"Tracking": "true"}))


def slew(http: httpx.Client, ra: float, dec: float) -> None:
    ok(http.put("/slewtocoordinatesasync",
                data={"RightAscension": str(ra), "Declination": str(dec)}))


def test_park_runs_after_the_reply_with_slewing_true_meanwhile(http):
    unpark_and_track(http)
    sidereal = ok(http.get("/siderealtime"))
    slew(http, (sidereal + 1) % 24, 30.0)
    wait_for(lambda: not ok(http.get("/slewing")))
    assert ok(http.get("/atpark")) is False
    ok(http.put("/park"))
    assert ok(http.get("/slewing")) is True and ok(http.get("/atpark")) is False
    wait_for(lambda: ok(http.get("/atpark")))
    assert ok(http.get("/slewing")) is False and ok(http.get("/tracking")) is False
    ok(http.put("/park"))  # parking a parked mount does nothing
    assert ok(http.get("/atpark")) is True


def test_a_parked_mount_refuses_motion_with_0x408(http):
    assert ok(http.get("/atpark")) is True
    for member, data in (
            ("slewtocoordinatesasync", {"RightAscension": "1", "Declination": "10"}),
            ("synctocoordinates", {"RightAscension": "1", "Declination": "10"}),
            ("slewtoaltazasync", {"Azimuth": "100", "Altitude": "40"}),
            ("synctoaltaz", {"Azimuth": "100", "Altitude": "40"}),
            ("moveaxis", {"Axis": "0", "Rate": "1"}),
            ("pulseguide", {"Direction": "0", "Duration": "100"}),
            ("findhome", {}),
            ("abortslew", {})):
        assert error_number(http.put(f"/{member}", data=data)) == 0x408, member
    assert error_number(http.put("/tracking", data={"Tracking": "true"})) == 0x408


def test_find_home_runs_after_the_reply(http):
    ok(http.put("/unpark"))
    ok(http.put("/moveaxis", data={"Axis": "1", "Rate": "-5"}))
    ok(http.put("/moveaxis", data={"Axis": "1", "Rate": "0"}))
    assert ok(http.get("/athome")) is False
    ok(http.put("/findhome"))
    wait_for(lambda: ok(http.get("/athome")))
    assert ok(http.get("/slewing")) is False


def test_abort_slew_stops_a_park_under_way(http):
    unpark_and_track(http)
    slew(http, (ok(http.get("/siderealtime")) + 2) % 24, -10.0)
    wait_for(lambda: not ok(http.get("/slewing")))
    ok(http.put("/park"))
    assert ok(http.get("/slewing")) is True
    ok(http.put("/abortslew"))
    assert ok(http.get("/slewing")) is False and ok(http.get("/atpark")) is False


def test_the_target_is_set_one_coordinate_at_a_time(http):
    assert error_number(http.get("/targetrightascension")) == 0x402
    assert error_number(http.get("/targetdeclination")) == 0x402
    unpark_and_track(http)
    assert error_number(http.put("/slewtotargetasync")) == 0x40B
    ra = (ok(http.get("/siderealtime")) + 0.5) % 24
    ok(http.put("/targetrightascension", data={"TargetRightAscension": str(ra)}))
    assert ok(http.get("/targetrightascension")) == pytest.approx(ra)
    assert error_number(http.get("/targetdeclination")) == 0x402
    ok(http.put("/targetdeclination", data={"TargetDeclination": "20"}))
    assert ok(http.get("/targetdeclination")) == 20.0
    ok(http.put("/slewtotargetasync"))
    wait_for(lambda: not ok(http.get("/slewing")))
    assert ok(http.get("/rightascension")) == pytest.approx(ra, abs=1e-3)
    assert ok(http.get("/declination")) == pytest.approx(20.0, abs=1e-2)
    assert error_number(http.put("/targetdeclination",
                                 data={"TargetDeclination": "91"})) == 0x401
    assert error_number(http.put("/targetrightascension",
                                 data={"TargetRightAscension": "24"})) == 0x401


def test_a_slew_sets_the_target_and_a_sync_moves_the_reported_position(http):
    unpark_and_track(http)
    ra = (ok(http.get("/siderealtime")) + 1) % 24
    slew(http, ra, 10.0)
    assert ok(http.get("/targetrightascension")) == pytest.approx(ra)
    wait_for(lambda: not ok(http.get("/slewing")))
    ok(http.put("/synctocoordinates",
                data={"RightAscension": str(ra), "Declination": "10.5"}))
    assert ok(http.get("/declination")) == pytest.approx(10.5, abs=1e-6)


def test_invalid_coordinates_are_0x401(http):
    unpark_and_track(http)
    for ra, dec in (("24", "0"), ("-1", "0"), ("1", "95")):
        assert error_number(http.put("/slewtocoordinatesasync",
                                     data={"RightAscension": ra, "Declination": dec})) == 0x401
    assert error_number(http.get("/destinationsideofpier",
                                 params={"RightAscension": "25", "Declination": "0"})) == 0x401


def test_capabilities_and_false_can_flags(http):
    assert ok(http.get("/canslew")) is False and ok(http.get("/canslewasync")) is True
    assert error_number(http.put("/slewtocoordinates",
                                 data={"RightAscension": "1", "Declination": "1"})) == 0x400
    assert error_number(http.put("/slewtotarget")) == 0x400
    assert ok(http.get("/canslewaltaz")) is False
    assert error_number(http.put("/slewtoaltaz",
                                 data={"Azimuth": "1", "Altitude": "40"})) == 0x400
    assert ok(http.get("/cansetpierside")) is False
    assert error_number(http.put("/sideofpier", data={"SideOfPier": "0"})) == 0x400
    assert ok(http.get("/canmoveaxis", params={"Axis": 2})) is False
    assert error_number(http.put("/moveaxis", data={"Axis": "2", "Rate": "1"})) == 0x400
    assert error_number(http.put("/moveaxis", data={"Axis": "5", "Rate": "1"})) == 0x401
    assert error_number(http.get("/axisrates", params={"Axis": 3})) == 0x401
    assert ok(http.get("/axisrates", params={"Axis": 1})) == [{"Minimum": 0.0,
                                                                "Maximum": 90.0}]
    assert ok(http.get("/trackingrates")) == [0, 1, 2, 3]
    assert ok(http.get("/alignmentmode")) == 2 and ok(http.get("/equatorialsystem")) == 2
    assert error_number(http.put("/utcdate", data={"UTCDate": "2026-01-01T00:00:00Z"})) \
        == 0x400


def test_rates_and_settings_round_trip(http):
    ok(http.put("/trackingrate", data={"TrackingRate": "1"}))
    assert ok(http.get("/trackingrate")) == 1
    assert error_number(http.put("/trackingrate", data={"TrackingRate": "7"})) == 0x401
    ok(http.put("/rightascensionrate", data={"RightAscensionRate": "0.01"}))
    assert ok(http.get("/rightascensionrate")) == 0.01
    ok(http.put("/declinationrate", data={"DeclinationRate": "-0.5"}))
    assert ok(http.get("/declinationrate")) == -0.5
    ok(http.put("/guideratedeclination", data={"GuideRateDeclination": "0.002"}))
    ok(http.put("/guideraterightascension", data={"GuideRateRightAscension": "0.003"}))
    assert ok(http.get("/guideratedeclination")) == 0.002
    assert ok(http.get("/guideraterightascension")) == 0.003
    ok(http.put("/slewsettletime", data={"SlewSettleTime": "3"}))
    assert ok(http.get("/slewsettletime")) == 3
    assert error_number(http.put("/slewsettletime", data={"SlewSettleTime": "-1"})) == 0x401


def test_the_site_is_set_one_value_at_a_time(http):
    ok(http.put("/sitelatitude", data={"SiteLatitude": "-30.25"}))
    ok(http.put("/sitelongitude", data={"SiteLongitude": "-70.75"}))
    ok(http.put("/siteelevation", data={"SiteElevation": "2200"}))
    assert (ok(http.get("/sitelatitude")), ok(http.get("/sitelongitude")),
            ok(http.get("/siteelevation"))) == (-30.25, -70.75, 2200.0)
    assert error_number(http.put("/sitelatitude", data={"SiteLatitude": "91"})) == 0x401
    assert error_number(http.put("/sitelongitude", data={"SiteLongitude": "181"})) == 0x401


def test_utc_date_is_iso_8601_with_z(http):
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ok(http.get("/utcdate")))


def test_pulse_guiding_reports_and_validates(http):
    unpark_and_track(http)
    ok(http.put("/pulseguide", data={"Direction": "0", "Duration": "400"}))
    assert ok(http.get("/ispulseguiding")) is True
    assert error_number(http.put("/pulseguide",
                                 data={"Direction": "4", "Duration": "10"})) == 0x401
    wait_for(lambda: not ok(http.get("/ispulseguiding")))
