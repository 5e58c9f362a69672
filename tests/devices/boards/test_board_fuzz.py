"""Garbage on the wire, through the real drivers and transport: the boards' line reader and
the Astrohaven dome's byte reader raise only SerialProtocolError/SerialTimeoutError,
never die, and read good input that follows."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.virtualtime import VirtualTimeLoop
from nocturna.devices.astrohaven.dome import AstrohavenDome
from nocturna.devices.boards.weather import WeatherBoard
from nocturna.devices.serial.line import SerialProtocolError, SerialTimeoutError
from nocturna.devices.serial.simulator import (
    ProtocolSimulator,
    register_simulator,
    unregister_simulator,
)

NIGHT = "2026-12-15T22:00:00Z"
GOOD_WEATHER = b'{"name":"weather_board","ambient_temp":5,"sky_temp":-25}\n'
EXPECTED = (SerialProtocolError, SerialTimeoutError)


class Replay(ProtocolSimulator):
    """Sends ``chunks`` when first opened, then ``then`` every second."""

    kind = "weather_board"

    def __init__(self, chunks: list[bytes], then: bytes, **kwargs) -> None:
        super().__init__(**kwargs)
        self.chunks, self.then = chunks, then

    def receive(self, data: bytes) -> None:
        """Commands are ignored."""

    async def run(self) -> None:
        chunks, self.chunks = self.chunks, []
        for chunk in chunks:
            self.send(chunk)
            await self.clock.sleep(0.01)
        while True:
            await self.clock.sleep(1)
            self.send(self.then)


def on_virtual_time(body: Callable[[VirtualClock], Awaitable[None]]) -> None:
    loop = VirtualTimeLoop()
    try:
        async def main() -> None:
            with use_clock(VirtualClock(NIGHT)) as clock:
                await body(clock)

        loop.run_until_complete(main())
    finally:
        loop.close()


FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=6))
def test_garbage_lines_never_kill_the_board_reader(chunks):
    async def body(clock: VirtualClock) -> None:
        replay = Replay(chunks, GOOD_WEATHER, clock=clock)  # the registry holds it weakly
        url = register_simulator("fuzz-wx", replay)
        station = WeatherBoard("wx", port=url, connect_timeout_s=3)
        try:
            try:
                await station.connect()
            except EXPECTED:
                await station.connect()  # garbage only at the start: the next lines are good
            await clock.sleep(2.5)
            status = await station.state()
            assert status.sky_temperature_c == -25 and status.time_since_last_update_s < 1
        finally:
            await station.disconnect()
            unregister_simulator("fuzz-wx")

    on_virtual_time(body)


@FUZZ
@given(st.lists(st.binary(min_size=1, max_size=20), max_size=6))
def test_garbage_bytes_never_kill_the_dome_reader(chunks):
    async def body(clock: VirtualClock) -> None:
        replay = Replay(chunks, b"0", clock=clock)
        replay.kind = "astrohaven"
        url = register_simulator("fuzz-dome", replay)
        dome = AstrohavenDome("dome", port=url, connect_timeout_s=3)
        try:
            try:
                await dome.connect()
            except EXPECTED:
                await dome.connect()
            with contextlib.suppress(EXPECTED):
                await dome.state()
            await clock.sleep(1.5)
            assert (await dome.state()).shutter_status.name == "CLOSED"
        finally:
            await dome.disconnect()
            unregister_simulator("fuzz-dome")

    on_virtual_time(body)

