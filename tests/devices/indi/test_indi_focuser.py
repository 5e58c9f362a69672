"""The INDI focuser driver against Debian's focuser simulator (a real indiserver)."""

from __future__ import annotations

import pytest

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import ConfigError, InvalidValueError
from nocturna.devices.indi.focuser import IndiFocuser


def focuser_of(server) -> IndiFocuser:
    return IndiFocuser("focus0", address=server.address, device=server.device("focuser"))


async def test_moves_to_a_position_and_reports_it(indi_server):
    focuser = focuser_of(indi_server)
    await focuser.connect()
    try:
        info = await focuser.info()
        assert info.absolute and info.max_step == 100000
        start = (await focuser.state()).position
        target = 42000 if start != 42000 else 43000
        await focuser.move_to(target)
        final = await focuser.wait_until(lambda s: not s.is_moving, timeout_s=60, poll_s=0.1)
        assert final.position == target
        with pytest.raises(InvalidValueError, match=r"outside 0\.\.100000"):
            await focuser.move_to(200000)
    finally:
        await focuser.disconnect()


def test_an_entry_needs_the_device_name_and_refuses_unknown_keys():
    entry = DeviceConfig(name="f", driver="indi", address="127.0.0.1:7624", colour="red")
    with pytest.raises(ConfigError) as raised:
        IndiFocuser.from_config(entry)
    text = str(raised.value)
    assert "f.device" in text and "f.colour: not an option" in text
    made = IndiFocuser.from_config(DeviceConfig(name="f", driver="indi", address="host",
                                                device="Focuser Simulator"))
    assert (made.address, made.indi_device) == ("host", "Focuser Simulator")
