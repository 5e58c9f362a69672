"""The INDI cover calibrator driver against Debian's light panel simulator (a real
indiserver), a flat panel without a dust cap, and the Flip-Flat driver in its
simulation mode for a dust cap."""

from __future__ import annotations

import pytest

from indi_helpers import SIMULATORS, IndiServer
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.devices.indi.connection import acquire, release
from nocturna.devices.indi.covercalibrator import IndiCoverCalibrator
from nocturna.devices.types import CalibratorState, CoverState


def panel_of(server) -> IndiCoverCalibrator:
    return IndiCoverCalibrator("flat0", address=server.address,
                               device=server.device("lightpanel"))


async def test_lights_at_a_brightness_and_goes_off(indi_server):
    panel = panel_of(indi_server)
    await panel.connect()
    try:
        assert (await panel.info()).max_brightness == 255
        before = round(panel.vector("FLAT_LIGHT_INTENSITY")["FLAT_LIGHT_INTENSITY_VALUE"])
        brightness = 120 if before != 120 else 130
        await panel.calibrator_on(brightness)
        lit = await panel.wait_until(lambda s: s.calibrator_state == CalibratorState.READY,
                                     timeout_s=30, poll_s=0.1)
        assert (lit.brightness, lit.calibrator_changing) == (brightness, False)
        assert panel.vector("FLAT_LIGHT_CONTROL").on() == ["FLAT_LIGHT_ON"]
        assert panel.vector("FLAT_LIGHT_INTENSITY")["FLAT_LIGHT_INTENSITY_VALUE"] == \
            brightness

        await panel.calibrator_off()
        dark = await panel.state()
        assert (dark.calibrator_state, dark.brightness) == (CalibratorState.OFF, 0)
        assert panel.vector("FLAT_LIGHT_CONTROL").on() == ["FLAT_LIGHT_OFF"]
    finally:
        await panel.disconnect()


async def test_a_brightness_out_of_range_is_refused_and_the_panel_has_no_cover(indi_server):
    panel = panel_of(indi_server)
    await panel.connect()
    try:
        light = panel.vector("FLAT_LIGHT_CONTROL")
        updates, on = light.updates, light.on()
        for wrong in (256, -1, 2.5, True):
            with pytest.raises(InvalidValueError, match=r"not a whole number in 0..255"):
                await panel.calibrator_on(wrong)
        light = panel.vector("FLAT_LIGHT_CONTROL")  # as it is now (a def replaces it)
        assert (light.updates, light.on()) == (updates, on)
        status = await panel.state()
        assert (status.cover_state, status.cover_moving) == (CoverState.NOT_PRESENT, False)
        for member in (panel.open_cover, panel.close_cover, panel.halt_cover):
            with pytest.raises(NotImplementedByDeviceError, match="has no property CAP_"):
                await member()
    finally:
        await panel.disconnect()


async def test_a_dust_cap_closes_and_opens(tmp_path, monkeypatch):
    """Debian's Flip-Flat driver in its simulation mode: a panel with a cap."""
    monkeypatch.setitem(SIMULATORS, "flipflat", ("indi_flipflat", "Flip Flat"))
    with IndiServer(tmp_path, "flipflat") as server:
        await simulate(server.address, "Flip Flat")
        panel = IndiCoverCalibrator("flat1", address=server.address, device="Flip Flat")
        await panel.connect()
        try:
            start = (await panel.state()).cover_state
            assert start in (CoverState.OPEN, CoverState.CLOSED)
            first, second = (panel.close_cover, panel.open_cover) \
                if start == CoverState.OPEN else (panel.open_cover, panel.close_cover)
            for move, end in ((first, CoverState.CLOSED if start == CoverState.OPEN
                               else CoverState.OPEN), (second, start)):
                await move()
                done = await panel.wait_until(lambda s: not s.cover_moving, timeout_s=30,
                                              poll_s=0.1)
                assert done.cover_state == end
            with pytest.raises(NotImplementedByDeviceError, match="has no property CAP_ABORT"):
                await panel.halt_cover()
        finally:
            await panel.disconnect()


async def simulate(address: str, device: str) -> None:
    """Switch the device's SIMULATION on before anyone connects it."""
    connection = acquire(address)
    try:
        await connection.wait_up(30)
        switch = await connection.wait_for(lambda: connection.store.get(device, "SIMULATION"),
                                           30, f"{device} SIMULATION")
        connection.send_new(switch, {"ENABLE": True, "DISABLE": False})
        await connection.wait_for(
            lambda: switch.on() == ["ENABLE"] and switch.state == "Ok", 30,
            f"{device} simulating")
    finally:
        await release(connection)
