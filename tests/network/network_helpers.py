"""For the unit's network tests: a watcher of everything a broker carries, and nights."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema

from mqtt_helpers import Mosquitto
from nocturna.core.storage import Storage
from nocturna.network.messages import json_schema
from nocturna.runtime.runner import run
from unit_helpers import unit_config

UNIT = "u1"
USERS = {UNIT: "pw1", "u2": "pw2", "operator": "pw0", "ingest": "pwi"}


@dataclass(frozen=True)
class Received:
    topic: str
    body: dict[str, Any]
    retain: bool

    @property
    def kind(self) -> str:
        return self.topic.rsplit("/", 1)[-1]


def validate(body: dict[str, Any]) -> None:
    """Fails unless ``body`` is valid under ``schema.json``."""
    jsonschema.Draft202012Validator(json_schema()).validate(body)


class Watcher:
    """Everything under ``nocturna/#``, as the operator sees it, in order of arrival; a
    persistent session (QoS 1) so nothing is lost while the broker restarts."""

    def __init__(self, broker: Mosquitto, pattern: str = "nocturna/#",
                 identifier: str = "watcher") -> None:
        self.broker = broker
        self.pattern = pattern
        self.identifier = identifier
        self.received: list[Received] = []
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        assert self.subscribed.wait(15), "the watcher did not subscribe"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    async def _main(self) -> None:
        stop = asyncio.ensure_future(asyncio.to_thread(self._stop.wait))
        while not self._stop.is_set():
            try:
                async with aiomqtt.Client("127.0.0.1", self.broker.port, username="operator",
                                          password=self.broker.users["operator"],
                                          identifier=self.identifier,
                                          clean_session=False) as client:
                    await client.subscribe(self.pattern, qos=1)
                    self.subscribed.set()
                    reader = asyncio.ensure_future(self._read(client))
                    await asyncio.wait({reader, stop}, return_when=asyncio.FIRST_COMPLETED)
                    if reader.done():
                        reader.result()
                    reader.cancel()  # only when the test is done with the watcher
            except aiomqtt.MqttError:
                await asyncio.sleep(0.1)

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self.received.append(Received(str(message.topic), json.loads(message.payload),
                                          bool(message.retain)))

    def of(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.kind == kind]

    def wait_for(self, condition, timeout_s: float = 30.0, what: str = "a message") -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout_s:g} s")
            time.sleep(0.02)


def unique(received: list[Received]) -> list[Received]:
    """First arrival of each message id (a message may be delivered twice)."""
    seen: set[str] = set()
    firsts = []
    for item in received:
        if item.body["id"] not in seen:
            seen.add(item.body["id"])
            firsts.append(item)
    return firsts


def retained(broker: Mosquitto, topic: str, timeout_s: float = 5.0) -> Received:
    """The retained message on ``topic``, as a newcomer gets it."""

    async def main() -> Received:
        async with aiomqtt.Client("127.0.0.1", broker.port, username="operator",
                                  password=broker.users["operator"]) as client:
            await client.subscribe(topic, qos=1)
            async with asyncio.timeout(timeout_s):
                async for message in client.messages:
                    return Received(str(message.topic), json.loads(message.payload),
                                    bool(message.retain))
        raise AssertionError("unreachable")

    return asyncio.run(main())


def command(broker: Mosquitto, unit: str, name: str, command_id: str, *, by: str = "alice",
            raw: bytes | None = None, timeout_s: float = 30.0) -> dict[str, Any]:
    """Publish a command as the operator and wait for its acknowledgement's data."""

    async def main() -> dict[str, Any]:
        async with aiomqtt.Client("127.0.0.1", broker.port, username="operator",
                                  password=broker.users["operator"]) as client:
            await client.subscribe(f"nocturna/{unit}/command/ack", qos=1)
            payload = raw if raw is not None else json.dumps(
                {"v": 1, "id": command_id, "command": name, "by": by,
                 "time": "2026-12-15T09:00:00Z"}).encode()
            if raw is None:
                validate(json.loads(payload))
            await client.publish(f"nocturna/{unit}/command", payload, qos=1)
            async with asyncio.timeout(timeout_s):
                async for message in client.messages:
                    body = json.loads(message.payload)
                    validate(body)
                    if body["data"]["command_id"] == command_id:
                        return body["data"]
        raise AssertionError("unreachable")

    return asyncio.run(main())


START = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)  # 22:00 in Hawaii: dark, fields up
UNTIL = START + timedelta(minutes=40)


def night(root: Path, *, broker: str | None, script=None, **network: Any) -> dict:
    """A 40-minute night of unit ``u1``: its summary, transitions, frames and outbox.

    ``script(control)`` runs beside the night on the unit's loop; it must finish."""
    root.mkdir()
    settings = {"broker": broker, **network} if broker else {}
    config = unit_config(root, name=UNIT, network=settings)
    tasks: list[asyncio.Task[None]] = []

    def on_control(control: Any) -> None:
        tasks.append(asyncio.ensure_future(script(control)))

    summary = run(config, simulate=True, start=START, until=UNTIL, seed=1, signals=False,
                  on_control=on_control if script else None).summary
    for task in tasks:
        assert task.done() and not task.cancelled(), "the script did not finish"
        task.result()  # its failures are the test's
    with Storage.open(data_dir=config.data_dir) as storage:
        transitions = [(t.time, t.from_state, t.to_state, t.reason)
                       for t in reversed(storage.list_transitions())]
        frames = {r.image_id: r for r in storage.list_exposures()}
        outbox = storage.list_outbox()
    return {"summary": summary, "transitions": transitions, "frames": frames,
            "outbox": outbox, "data": Path(config.data_dir)}


def as_transitions(received) -> list[tuple]:
    return [(datetime.fromisoformat(r.body["time"]), r.body["data"]["from"],
             r.body["data"]["to"], r.body["data"]["reason"]) for r in received]
