"""The Astrohaven PLC simulator byte for byte: commands in, echoes, limits and status out,
on a clock moved by hand (SimClock at speed 0) or on virtual time."""

from __future__ import annotations

import asyncio

import pytest

from nocturna.core.clock import SimClock, VirtualClock
from nocturna.core.errors import ConfigError, InvalidValueError
from nocturna.devices.astrohaven.simulator import AstrohavenSimulator

NIGHT = "2026-12-15T22:00:00Z"


def plc(**options) -> tuple[AstrohavenSimulator, SimClock, bytearray]:
    clock = SimClock(NIGHT, speed=0)
    sim = AstrohavenSimulator(clock=clock, **options)
    out = bytearray()
    sim.attach(out.extend)
    return sim, clock, out


def hold(sim: AstrohavenSimulator, clock: SimClock, command: bytes, seconds: float,
         every_s: float = 0.25) -> bytes:
    """Send ``command`` every ``every_s`` for ``seconds``, as a driver does; the replies."""
    replies = bytearray()
    sim.attach(replies.extend)
    for _ in range(round(seconds / every_s)):
        sim.deliver(command)
        clock.advance(every_s)
    return bytes(replies)


def test_a_leaf_opens_while_its_command_keeps_coming_then_answers_its_limit():
    sim, clock, _ = plc(travel_s=10)
    assert sim.status() == b"0"
    replies = hold(sim, clock, b"a", 5.0)
    assert set(replies) == {ord("a")}  # echoed while moving
    assert sim.positions[0] == pytest.approx(0.5, abs=0.03)
    assert sim.positions[1] == 0.0
    assert sim.status() == b"2"  # POCS's meaning: only B is closed
    replies = hold(sim, clock, b"a", 6.0)
    assert replies.rstrip(b"x").strip(b"a") == b"" and replies.endswith(b"xx")
    assert sim.positions[0] == 1.0


def test_a_motor_stops_when_the_command_stops():
    sim, clock, _ = plc(travel_s=10, hold_s=0.5)
    hold(sim, clock, b"b", 2.0)
    where = sim.positions[1]
    clock.advance(30)
    assert sim.positions[1] == pytest.approx(where, abs=0.051)
    assert sim.positions[1] < 0.3


def test_closing_both_leaves_gives_each_close_limit_and_status_0():
    sim, clock, _ = plc(travel_s=4)
    hold(sim, clock, b"a", 5)
    hold(sim, clock, b"b", 5)
    assert sim.status() == b"3"
    assert hold(sim, clock, b"A", 5).endswith(b"XX")
    assert sim.status() == b"1"  # only A closed
    assert hold(sim, clock, b"B", 5).endswith(b"YY")
    assert sim.status() == b"0"


def test_a_leaf_already_at_its_end_answers_the_limit_at_once():
    sim, _clock, out = plc()
    sim.deliver(b"A")
    assert bytes(out) == b"X"


def test_input_while_acting_is_dropped_like_the_plc():
    sim, clock, out = plc(busy_s=0.2)
    sim.deliver(b"aaaa")  # one chunk: the first acts, the rest come while busy
    assert bytes(out) == b"a"
    clock.advance(0.1)
    sim.deliver(b"a")
    assert bytes(out) == b"a"
    clock.advance(0.1)
    sim.deliver(b"a")
    assert bytes(out) == b"aa"


def test_open_and_close_both_drive_both_leaves():
    sim, clock, _ = plc(travel_s=4)
    replies = hold(sim, clock, b"O", 5)
    assert replies.endswith(b"y") and set(replies) <= set(b"Oy")
    assert sim.positions == (1.0, 1.0)
    assert hold(sim, clock, b"C", 5).endswith(b"Y")
    assert sim.positions == (0.0, 0.0)


def test_reset_and_unknown_bytes_are_ignored():
    sim, _clock, out = plc()
    sim.deliver(b"R?\x00\xff")
    assert bytes(out) == b""


def test_a_stuck_leaf_echoes_for_ever_and_never_reaches_its_limit():
    sim, clock, _ = plc(travel_s=4)
    sim.stick("a")
    replies = hold(sim, clock, b"a", 20)
    assert set(replies) == {ord("a")}
    assert sim.positions[0] == 0.0
    assert hold(sim, clock, b"b", 5).endswith(b"y")  # the other leaf still works
    sim.stick("a", False)
    assert hold(sim, clock, b"a", 5).endswith(b"x")
    with pytest.raises(InvalidValueError, match="leaves 'a' and 'b'"):
        sim.stick("c")


def test_silent_and_garbled():
    sim, clock, out = plc()
    sim.go_silent()
    sim.deliver(b"a")
    assert bytes(out) == b""
    sim.go_silent(False)
    sim.garble_next()
    sim.deliver(b"A")
    assert bytes(out) == bytes([ord("X") ^ 0x80])
    clock.advance(1)
    sim.deliver(b"A")
    assert bytes(out).endswith(b"X")


def test_options_from_a_url_are_text():
    sim = AstrohavenSimulator(clock=SimClock(NIGHT, speed=0), travel_s="12.5", busy_s="0")
    assert sim.travel_s == 12.5 and sim.busy_s == 0.0
    with pytest.raises(ConfigError, match=r"nocturna-sim://astrohaven: travel_s must be a "
                                          r"number > 0, got 'fast'"):
        AstrohavenSimulator(travel_s="fast")


@pytest.mark.virtual_time
async def test_the_status_byte_comes_once_a_second_but_not_while_answering():
    clock = VirtualClock(NIGHT)
    sim = AstrohavenSimulator(clock=clock)
    out = bytearray()
    sim.attach(out.extend)
    task = asyncio.create_task(sim.run())
    try:
        await clock.sleep(3.5)
        assert bytes(out) == b"0000"  # at 0, 1, 2 and 3 s
        sim.deliver(b"a")
        await clock.sleep(0.9)
        assert bytes(out) == b"0000a"  # the next status waits a second after a reply
        await clock.sleep(0.2)
        assert bytes(out) == b"0000a2"
    finally:
        task.cancel()
