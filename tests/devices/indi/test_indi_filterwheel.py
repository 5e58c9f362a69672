"""The INDI filter wheel driver against Debian's wheel simulator (a real indiserver)."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from nocturna.core.errors import InvalidValueError
from nocturna.devices.indi.filterwheel import IndiFilterWheel


def wheel_of(server) -> IndiFilterWheel:
    return IndiFilterWheel("wheel0", address=server.address, device=server.device("wheel"))


async def test_names_come_from_filter_name_and_slots_count_from_zero(indi_server):
    wheel = wheel_of(indi_server)
    await wheel.connect()
    try:
        info = await wheel.info()
        assert info.names == ["Red", "Green", "Blue", "H_Alpha", "SII", "OIII", "LPR",
                              "Luminance"]
        assert info.focus_offsets == [0] * 8 and info.dark_position is None
        slot = wheel.vector("FILTER_SLOT")["FILTER_SLOT_VALUE"]
        status = await wheel.wait_until(lambda s: s.position >= 0, timeout_s=30, poll_s=0.1)
        assert status.position == round(slot) - 1
        assert status.name == info.names[status.position]
    finally:
        await wheel.disconnect()


async def test_changes_filter_by_name_and_by_number(indi_server):
    wheel = wheel_of(indi_server)
    await wheel.connect()
    try:
        start = await wheel.wait_until(lambda s: s.position >= 0, timeout_s=30, poll_s=0.1)
        by_number = (start.position + 3) % 8
        reached = await wheel.move_to(by_number, timeout_s=30)
        assert (reached.position, reached.name) == (by_number, (await wheel.info()).names[
            by_number])
        assert wheel.vector("FILTER_SLOT")["FILTER_SLOT_VALUE"] == by_number + 1
        name = "OIII" if by_number != 5 else "Blue"
        reached = await wheel.move_to(name.lower(), timeout_s=30)
        assert reached.name == name
        assert wheel.vector("FILTER_SLOT")["FILTER_SLOT_VALUE"] == \
            (await wheel.info()).names.index(name) + 1
    finally:
        await wheel.disconnect()


async def test_a_wrong_name_or_position_is_refused_and_the_wheel_stays(indi_server):
    wheel = wheel_of(indi_server)
    await wheel.connect()
    try:
        start = await wheel.wait_until(lambda s: s.position >= 0, timeout_s=30, poll_s=0.1)
        updates = wheel.vector("FILTER_SLOT").updates
        with pytest.raises(InvalidValueError, match="no filter named 'Sulphur'"):
            await wheel.move_to("Sulphur")
        with pytest.raises(InvalidValueError, match=r"8 is not in 0\.\.7"):
            await wheel.move_to(8)
        with pytest.raises(InvalidValueError, match=r"-1 is not in 0\.\.7"):
            await wheel.set_position(-1)
        assert wheel.vector("FILTER_SLOT").updates == updates
        assert (await wheel.state()).position == start.position
    finally:
        await wheel.disconnect()


def test_changes_filter_under_uvloop(indi_server):
    async def change() -> tuple[int, int]:
        wheel = wheel_of(indi_server)
        await wheel.connect()
        try:
            start = await wheel.wait_until(lambda s: s.position >= 0, timeout_s=30,
                                           poll_s=0.1)
            target = (start.position + 1) % 8
            return target, (await wheel.move_to(target, timeout_s=30)).position
        finally:
            await wheel.disconnect()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        target, reached = runner.run(change())
    assert reached == target
