"""The azcam telescope tool over a simulated mount and telescope focuser."""

from __future__ import annotations

import math

import pytest

from nocturna.azcam.remote import remote_methods
from nocturna.azcam.tools.telescope import TelescopeTool, parse_dec_deg, parse_ra_hours
from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    InvalidWhileParkedError,
)
from nocturna.core.skyoffsets import sky_offset_arcsec
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.mount import SimMount

NIGHT = "2026-12-15T10:00Z"  # midnight in Hawaii: Orion is high
PERFECT = {"pointing_error_ra_arcsec": 0.0, "pointing_error_dec_arcsec": 0.0,
           "pointing_scatter_arcsec": 0.0, "drift_ra_arcsec_per_min": 0.0,
           "drift_dec_arcsec_per_min": 0.0}


pytestmark = pytest.mark.virtual_time  # time moves only when nothing can run


@pytest.fixture
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


@pytest.fixture
async def mount(clock):
    mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400, **PERFECT)
    await mount.connect()
    return mount


@pytest.fixture
async def ready(mount):
    await mount.unpark()
    await mount.set_tracking(True)
    await mount.slew_and_wait(84.0 / 15.0, -2.0)
    return mount


@pytest.fixture
async def focuser(clock):
    focuser = SimFocuser("tfoc", position=20_000, temp_comp_steps_per_c=None)
    await focuser.connect()
    return focuser


async def test_the_azcam_methods_are_remote(mount):
    tool = TelescopeTool(mount)
    assert {"get_coordinates", "offset", "move", "get_focus", "set_focus"} <= \
        set(remote_methods(tool))
    assert tool.name == "telescope"


async def test_get_coordinates(ready):
    c = await TelescopeTool(ready).get_coordinates()
    assert c["ra_deg"] == pytest.approx(84.0, abs=1e-3)
    assert c["dec_deg"] == pytest.approx(-2.0, abs=1e-3)
    assert c["ra"] == "05:36:00.000"
    assert c["dec"] == "-02:00:00.00"
    assert -12 < c["ha_hours"] < 12
    assert c["ha"][0] in "+-" and c["ha"].count(":") == 2
    assert 0 < c["alt"] <= 90 and 0 <= c["az"] < 360
    assert c["airmass"] == pytest.approx(1 / math.sin(math.radians(c["alt"])))
    assert c["epoch"] == 2000.0
    assert c["tracking"] is True and c["slewing"] is False and c["parked"] is False
    assert c["pier_side"] in ("east", "west")


async def test_offset_moves_the_telescope_by_arcseconds_on_the_sky(ready):
    tool = TelescopeTool(ready)
    before = await tool.get_coordinates()
    await tool.offset(30.0, -20.0)
    after = await tool.get_coordinates()
    east, north = sky_offset_arcsec(before["ra_deg"], before["dec_deg"], after["ra_deg"],
                                    after["dec_deg"])
    assert east == pytest.approx(30.0, abs=0.5)
    assert north == pytest.approx(-20.0, abs=0.5)


async def test_offsets_are_checked(ready):
    tool = TelescopeTool(ready, max_offset_arcsec=600)
    with pytest.raises(InvalidValueError, match=r"ra offset 700.0 arcsec .*±600"):
        await tool.offset(700.0, 0.0)
    with pytest.raises(InvalidValueError, match="dec offset nan"):
        await tool.offset(0.0, float("nan"))


async def test_move_slews_to_sexagesimal_or_decimal_coordinates(ready):
    tool = TelescopeTool(ready)
    await tool.move("05:40:00", "+01:30:00")
    c = await tool.get_coordinates()
    assert (c["ra_deg"], c["dec_deg"]) == (pytest.approx(85.0, abs=1e-3),
                                           pytest.approx(1.5, abs=1e-3))
    await tool.move("5.5", "-3.25")
    c = await tool.get_coordinates()
    assert (c["ra_deg"], c["dec_deg"]) == (pytest.approx(82.5, abs=1e-3),
                                           pytest.approx(-3.25, abs=1e-3))


async def test_a_parked_mount_refuses_to_move(mount):
    with pytest.raises(InvalidWhileParkedError):
        await TelescopeTool(mount).offset(10.0, 10.0)


@pytest.mark.parametrize(("ra", "dec", "match"), [
    ("24.5", "0", "ra '24.5' is outside 0..24 h"),
    ("-01:00:00", "0", "ra '-01:00:00' is outside 0..24 h"),
    ("noon", "0", "ra 'noon' is not sexagesimal"),
    ("05:00:00", "95", "dec '95' is outside -90..90"),
    ("05:00:00", "north", "dec 'north' is not sexagesimal"),
])
async def test_bad_coordinates_are_refused_before_moving(ready, ra, dec, match):
    tool = TelescopeTool(ready)
    before = await tool.get_coordinates()
    with pytest.raises(InvalidValueError, match=match):
        await tool.move(ra, dec)
    assert (await tool.get_coordinates())["ra"] == before["ra"]


def test_coordinate_parsing():
    assert parse_ra_hours("12:30:00") == pytest.approx(12.5)
    assert parse_ra_hours(3.25) == 3.25
    assert parse_dec_deg("-45:30:00") == pytest.approx(-45.5)
    assert parse_dec_deg("+10 15 00") == pytest.approx(10.25)


async def test_telescope_focus(mount, focuser):
    tool = TelescopeTool(mount, focuser)
    assert await tool.get_focus() == 20_000
    await tool.set_focus(20_500)
    assert await tool.get_focus() == 20_500
    await tool.set_focus(-100, focus_type="step")
    assert await tool.get_focus() == 20_400
    with pytest.raises(InvalidValueError, match="focus_id 1"):
        await tool.set_focus(0, focus_id=1)


async def test_no_mount_or_focuser_is_a_clear_error():
    tool = TelescopeTool(None)
    with pytest.raises(InvalidOperationError, match="no telescope mount is configured"):
        await tool.get_coordinates()
    with pytest.raises(InvalidOperationError, match="no telescope mount is configured"):
        await tool.offset(1.0, 1.0)
    with pytest.raises(InvalidOperationError, match="no telescope focuser is configured"):
        await tool.get_focus()
    assert await tool.header_cards() == {}


async def test_header_cards(ready, focuser):
    cards = await TelescopeTool(ready, focuser).header_cards()
    assert cards["RA"][0] == pytest.approx(84.0, abs=1e-3)
    assert cards["DEC"][0] == pytest.approx(-2.0, abs=1e-3)
    assert cards["TELRA"][0] == "05:36:00.000"
    assert cards["TELDEC"][0] == "-02:00:00.00"
    assert {"HA", "AIRMASS", "EQUINOX"} <= set(cards)
    assert cards["TELFOCUS"][0] == 20_000
