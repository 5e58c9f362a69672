"""The bridge from the unit's event bus to SSE clients: the unit's thread only appends
to a buffer; the API's loop hands the events over on its tick, encoded once."""

from __future__ import annotations

import asyncio
import json
import logging

from nocturna.api.events import Broadcaster, EventBridge, LogForwarder
from nocturna.core.events import EventBus


def messages(raw: list[bytes]) -> list[dict]:
    return [json.loads(m.split(b"\ndata: ", 1)[1]) for m in raw if m.startswith(b"event: ")]


async def read(stream, count: int) -> list[bytes]:
    got = []
    async for message in stream:
        got.append(message)
        if len(messages(got)) >= count:
            return got
    return got


def test_events_reach_a_client_on_the_tick_and_heartbeats_are_left_out():
    async def main() -> list[bytes]:
        bus, broadcaster = EventBus(), Broadcaster()
        bridge = EventBridge(broadcaster, tick_s=0.01)
        bridge.tap(bus)
        bridge.start()
        stream = broadcaster.stream()
        assert await anext(stream) == b": connected\n\n"
        bus.publish("component.heartbeat", "mount")
        bus.publish("unit.state", "unit", from_state="ready", to_state="scheduling")
        bus.publish("unit.frame", "unit", image_id="N001")
        got = await asyncio.wait_for(read(stream, 2), 5)
        bridge.stop()
        await stream.aclose()
        return got

    got = messages(asyncio.run(main()))
    assert [m["topic"] for m in got] == ["unit.state", "unit.frame"]
    assert got[0]["data"] == {"from_state": "ready", "to_state": "scheduling"}
    assert got[1]["source"] == "unit"


def test_nothing_is_kept_while_no_client_listens_and_stop_detaches():
    bus, broadcaster = EventBus(), Broadcaster()
    bridge = EventBridge(broadcaster)
    bridge.tap(bus)
    bus.publish("unit.state", "unit", to_state="ready")
    assert not bridge._buffer
    bridge.stop()
    assert bus._subscriptions == []


def test_log_records_become_log_events():
    async def main() -> list[bytes]:
        broadcaster = Broadcaster()
        bridge = EventBridge(broadcaster, tick_s=0.01)
        bridge.start()
        stream = broadcaster.stream()
        await anext(stream)
        logger = logging.getLogger("nocturna.test-bridge")
        handler = LogForwarder(bridge)
        logger.addHandler(handler)
        try:
            logger.debug("not forwarded")
            logger.warning("dome %s", "stuck")
            got = await asyncio.wait_for(read(stream, 1), 5)
        finally:
            logger.removeHandler(handler)
            bridge.stop()
            await stream.aclose()
        return got

    [message] = messages(asyncio.run(main()))
    assert message["topic"] == "log"
    assert message["data"] == {"level": "warning", "logger": "nocturna.test-bridge",
                               "message": "dome stuck"}
