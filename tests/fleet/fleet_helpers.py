"""Helpers for the fleet tests and the benchmark: a fake unit that publishes version 1
envelopes (and acknowledges commands), a fresh PostgreSQL schema per test, and a TCP
relay in front of PostgreSQL that can be cut (the database "goes away" for the ingest
without disturbing anyone else's server)."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import create_engine

from nocturna.fleet.envelope import envelope_bytes, new_id

PG_URL = os.environ.get("NOCTURNA_TEST_PG", "").strip()
WAIT_S = 20.0


def need_postgres() -> str:
    """The test server's URL; fail (not skip) without it: CI starts it (.ci/postgres.sh)."""
    if not PG_URL:
        pytest.fail("NOCTURNA_TEST_PG is not set: export NOCTURNA_TEST_PG=$(bash "
                    ".ci/postgres.sh | tail -n1)")
    return PG_URL


def with_schema(url: str, schema: str) -> str:
    """``url`` with every table in ``schema`` (psycopg's ``options``)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema(base_url: str | None = None) -> Iterator[str]:
    """A new empty schema on the test server: yields a URL into it, drops it after."""
    base = base_url or need_postgres()
    admin = create_engine(need_postgres(), isolation_level="AUTOCOMMIT")
    schema = f"fleet_{uuid.uuid4().hex[:16]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_schema(base, schema)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
    """Poll ``condition`` until it is truthy (returns it); fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what} (last: {value!r})")
        time.sleep(0.05)


class FakeUnit:
    """A unit reduced to its MQTT side: publishes envelopes under ``nocturna/<name>/``,
    its birth and last will, and answers commands with ``command/ack``."""

    def __init__(self, host: str, port: int, name: str, password: str, *,
                 accept: bool = True, answer: bool = True, user: str | None = None) -> None:
        self.name = name
        self.accept = accept
        self.answer = answer
        self.commands: list[dict[str, Any]] = []
        self.published: list[str] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"unit-{name}",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user or name, password)
        self.client.will_set(self.topic("online"), self.envelope("online", {"online": False}),
                             qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = lambda *_args: self._ready.clear()
        self.client.reconnect_delay_set(0.1, 1)
        self._ready = threading.Event()
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._ready.wait(WAIT_S):
            raise RuntimeError(f"fake unit {name} could not connect")

    def wait_connected(self) -> None:
        """Wait until the unit is (re)connected (after a broker restart)."""
        if not self._ready.wait(WAIT_S):
            raise RuntimeError(f"fake unit {self.name} did not reconnect")

    def topic(self, kind: str) -> str:
        return f"nocturna/{self.name}/{kind}"

    def envelope(self, kind: str, data: dict[str, Any], *, when: datetime | None = None,
                 message_id: str | None = None) -> bytes:
        return envelope_bytes(self.name, kind, data, when=when, message_id=message_id)

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(self.topic("command"), qos=1)
        self.publish("online", {"online": True}, retain=True, wait=False)  # paho's thread
        self._ready.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any,
                    message: mqtt.MQTTMessage) -> None:
        command = json.loads(message.payload)
        self.commands.append(command)
        if self.answer:
            self.publish("command/ack", wait=False, data={
                "command_id": command["id"], "accepted": self.accept,
                "category": None if self.accept else "state",
                "message": "parking" if self.accept else "refused: the unit is busy"})

    def publish(self, kind: str, data: dict[str, Any], *, retain: bool = False,
                when: datetime | None = None, message_id: str | None = None,
                wait: bool = True) -> str:
        """Publish one envelope at QoS 1 (waits for the PUBACK); returns its id."""
        message_id = message_id or new_id()
        info = self.client.publish(self.topic(kind), self.envelope(
            kind, data, when=when, message_id=message_id), qos=1, retain=retain)
        if wait:
            info.wait_for_publish(WAIT_S)
        self.published.append(message_id)
        return message_id

    def raw(self, topic_kind: str, payload: bytes) -> None:
        """Publish anything (garbled payloads) on ``nocturna/<name>/<topic_kind>``."""
        self.client.publish(self.topic(topic_kind), payload, qos=1).wait_for_publish(WAIT_S)

    def frame(self, number: int, night: str = "2026-12-15", **extra: Any) -> str:
        return self.publish("frame", frame_data(self.name, number, night) | extra)

    def close(self, *, clean: bool = True) -> None:
        """Go offline; ``clean=False`` drops the connection as a killed process would
        (no DISCONNECT: the broker publishes the last will)."""
        if clean:
            self.publish("online", {"online": False}, retain=True)
            self.client.disconnect()
        self.client.loop_stop()
        if not clean and (sock := self.client.socket()) is not None:
            sock.close()


def frame_data(unit: str, number: int, night: str = "2026-12-15") -> dict[str, Any]:
    return {"image_id": f"{unit}-{number}", "exposure_id": f"{night.replace('-', '')}"
            f"{number:05d}", "camera": "cam00", "path": f"/data/{unit}/{number}.fits",
            "sha256": f"{number:064x}", "image_type": "OBJECT", "object": "M42",
            "exposure_s": 30.0, "start_time": datetime.now(UTC).isoformat(),
            "observation_id": "obs-1", "night": night}


class TcpRelay:
    """Forwards 127.0.0.1:<port> to ``target``; :meth:`cut` closes every connection and
    refuses new ones until :meth:`restore`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for s in sockets:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self.cut()
        self._server.close()
