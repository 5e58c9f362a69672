"""How the drivers read members: optional ones, DeviceState, conversions (scripted server)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from nocturna.core.errors import NocturnaError, NotImplementedByDeviceError
from nocturna.devices.alpaca.device import as_bool, as_int, parse_time
from nocturna.devices.alpaca.focuser import AlpacaFocuser

NOT_IMPLEMENTED = object()


def scripted_focuser(fake, members: dict[str, Any]) -> list[str]:
    """Answer focuser 0's members from ``members``; the member names asked, in order."""
    asked: list[str] = []

    def reply(seen):
        member = seen.path.rsplit("/", 1)[1]
        asked.append(member)
        if seen.method == "PUT" and member == "action":
            return fake.ok(seen, f"did {seen.form['Action']}({seen.form['Parameters']})")
        if seen.method == "PUT":
            return fake.ok(seen, None)
        value = members.get(member, NOT_IMPLEMENTED)
        if value is NOT_IMPLEMENTED:
            return fake.ok(seen, None, ErrorNumber=0x400, ErrorMessage=f"no {member}")
        if isinstance(value, web.StreamResponse):
            return value
        return fake.ok(seen, value)

    fake.reply = reply
    return asked


FOCUSER = {"name": "F", "description": "", "driverinfo": "", "driverversion": "1",
           "interfaceversion": 3, "absolute": True, "maxstep": 5000, "maxincrement": 500,
           "position": 1200, "ismoving": False, "tempcomp": False}


async def test_optional_members_that_are_not_implemented_are_asked_once(fake_alpaca):
    asked = scripted_focuser(fake_alpaca, FOCUSER)  # no stepsize, temperature...
    focuser = AlpacaFocuser("foc", address=fake_alpaca.address)
    await focuser.connect()
    info = await focuser.info()
    assert (info.step_size_um, info.temp_comp_available) == (None, False)
    first = await focuser.state()
    asked.clear()
    second = await focuser.state()
    assert first.temperature_c is None and second == first
    assert sorted(asked) == ["ismoving", "position", "tempcomp"]  # not "temperature"
    await focuser.disconnect()


async def test_a_required_member_that_is_not_implemented_fails_connect(fake_alpaca):
    scripted_focuser(fake_alpaca, {k: v for k, v in FOCUSER.items() if k != "maxstep"})
    focuser = AlpacaFocuser("foc", address=fake_alpaca.address)
    with pytest.raises(NotImplementedByDeviceError, match="no maxstep"):
        await focuser.connect()
    assert not focuser.connected
    last = fake_alpaca.requests[-1]  # the server's device is not left connected
    assert (last.path, last.form["Connected"]) == ("/api/v1/focuser/0/connected", "False")


async def test_device_state_is_used_and_completed_by_single_reads(fake_alpaca):
    state = [{"Name": "Position", "Value": 1500}, {"Name": "IsMoving", "Value": True},
             {"Name": "Temperature", "Value": 3.5},
             {"Name": "TimeStamp", "Value": "2026-01-01T00:00:00Z"}]
    asked = scripted_focuser(fake_alpaca, {**FOCUSER, "interfaceversion": 4,
                                           "devicestate": state})
    focuser = AlpacaFocuser("foc", address=fake_alpaca.address)
    await focuser.connect()
    asked.clear()
    status = await focuser.state()
    await focuser.disconnect()
    assert (status.position, status.is_moving, status.temperature_c) == (1500, True, 3.5)
    assert sorted(asked[:2]) == ["devicestate", "tempcomp"]


async def test_a_server_without_device_state_is_read_member_by_member(fake_alpaca):
    asked = scripted_focuser(fake_alpaca, {
        **FOCUSER, "interfaceversion": 4,
        "devicestate": web.Response(status=400, text="no such member")})
    focuser = AlpacaFocuser("foc", address=fake_alpaca.address)
    await focuser.connect()
    assert (await focuser.state()).position == 1200
    asked.clear()
    assert (await focuser.state()).position == 1200
    await focuser.disconnect()
    assert "devicestate" not in asked  # not asked again while connected


async def test_a_malformed_value_is_an_error_naming_it(fake_alpaca):
    scripted_focuser(fake_alpaca, {**FOCUSER, "position": "far"})
    focuser = AlpacaFocuser("foc", address=fake_alpaca.address)
    await focuser.connect()
    try:
        with pytest.raises(NocturnaError, match="'far' where an integer"):
            await focuser.state()
    finally:
        await focuser.disconnect()


def test_alpaca_times_parse_to_utc():
    assert parse_time("2026-03-04T05:06:07.1234567Z") == datetime(
        2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    assert parse_time("2026-03-04T05:06:07") == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert parse_time("2026-03-04T07:06:07+02:00") == datetime(2026, 3, 4, 5, 6, 7,
                                                               tzinfo=UTC)
    assert parse_time("") is None
    with pytest.raises(NocturnaError):
        parse_time("yesterday")


def test_conversions_accept_what_json_gives_and_refuse_the_rest():
    assert as_int(3.0) == 3
    assert as_bool("True") is True
    for bad, convert in ((3.5, as_int), (True, as_int), (1, as_bool), ("yes", as_bool)):
        with pytest.raises(NocturnaError):
            convert(bad)


async def test_custom_actions_go_to_the_server(fake_alpaca):
    scripted_focuser(fake_alpaca, {**FOCUSER, "supportedactions": ["Frobnicate"]})
    focuser = AlpacaFocuser("foc", address=fake_alpaca.address)
    await focuser.connect()
    try:
        assert focuser.supported_actions == ["Frobnicate"]
        assert await focuser.action("Frobnicate", "x=1") == "did Frobnicate(x=1)"
    finally:
        await focuser.disconnect()


def test_options_may_come_as_keywords_the_entrys_winning():
    from nocturna.core.config.models import DeviceConfig

    entry = DeviceConfig(name="foc", driver="alpaca", address="127.0.0.1:1")
    focuser = AlpacaFocuser.from_config(entry, timeout_s=60.0, site=object(), mount=None)
    assert focuser.timeout_s == 60.0
    entry = DeviceConfig(name="foc", driver="alpaca", address="127.0.0.1:1", timeout_s=5)
    assert AlpacaFocuser.from_config(entry, timeout_s=60.0).timeout_s == 5


async def test_one_member_can_be_read_raw(fake_alpaca):
    asked = scripted_focuser(fake_alpaca, FOCUSER)
    focuser = AlpacaFocuser("foc", address=fake_alpaca.address)
    await focuser.connect()
    try:
        asked.clear()
        assert await focuser.get_member("maxstep") == 5000
        assert asked == ["maxstep"]
    finally:
        await focuser.disconnect()
