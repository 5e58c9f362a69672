"""The documented Mosquitto configuration (``docs/mosquitto/``) does what it says.

A real ``mosquitto`` runs ``docs/mosquitto/nocturna.conf`` and ``docs/mosquitto/acl`` as
written, with only the paths and ports moved into the test's directory, and a password
file made with ``mosquitto_passwd`` as the README there shows. Whether a message was
refused is told by order, not by waiting: each client's forbidden messages are
acknowledged (so routed or dropped) before a permitted marker is sent, so a forbidden
message that got through would arrive before the marker.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from mqtt_helpers import _program, free_port, need_mosquitto

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mosquitto"
USERS = {"pan001": "pw1", "pan002": "pw2", "operator": "pw0", "ingest": "pwi"}


class DocumentedBroker:
    """mosquitto on the documented files (paths and ports adapted), listening."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port, self.tls_port = free_port(), free_port()
        self.ca_file = home / "ca.pem"

    def write(self) -> Path:
        import trustme

        passwords = self.home / "passwords"
        for index, (user, password) in enumerate(USERS.items()):
            create = ["-c"] if index == 0 else []  # as the README: -c for the first user
            subprocess.run([_program("mosquitto_passwd"), *create, "-b", str(passwords),
                            user, password], check=True, capture_output=True)
        (self.home / "acl").write_text((DOCS / "acl").read_text())
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert.private_key_pem.write_to_path(str(self.home / "server.key"))
        cert.cert_chain_pems[0].write_to_path(str(self.home / "server.crt"))
        text = (DOCS / "nocturna.conf").read_text()
        for documented, here in (("/etc/mosquitto/nocturna/", f"{self.home}/"),
                                 ("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1"),
                                 ("listener 8883\n", f"listener {self.tls_port} 127.0.0.1\n")):
            assert documented in text, f"the documented config no longer has {documented!r}"
            text = text.replace(documented, here)
        me = pwd.getpwuid(os.geteuid()).pw_name  # as root it would drop to "mosquitto"
        config = self.home / "mosquitto.conf"
        config.write_text(f"user {me}\n{text}")
        return config

    def run(self) -> Iterator[DocumentedBroker]:
        config = self.write()
        log = (self.home / "mosquitto.log").open("wb")
        process = subprocess.Popen([_program("mosquitto"), "-c", str(config)], stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_listening(process)
            yield self
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()

    def _wait_listening(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError("mosquitto refused the documented configuration: "
                                     + (self.home / "mosquitto.log").read_text())
            try:
                for port in (self.port, self.tls_port):
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not listen")

    def client(self, user: str, *, tls: bool = False) -> aiomqtt.Client:
        if tls:
            context = ssl.create_default_context(cafile=str(self.ca_file))
            return aiomqtt.Client("127.0.0.1", self.tls_port, username=user,
                                  password=USERS[user], tls_context=context)
        return aiomqtt.Client("127.0.0.1", self.port, username=user, password=USERS[user])


@pytest.fixture
def broker(tmp_path) -> Iterator[DocumentedBroker]:
    need_mosquitto()
    yield from DocumentedBroker(tmp_path).run()


async def first(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(10):
        async for message in client.messages:
            return message
    raise AssertionError("no message")


async def collect(client: aiomqtt.Client, until: bytes) -> list[tuple[str, bytes]]:
    """(topic, payload) of every message up to and including the one carrying ``until``."""
    got = []
    async with asyncio.timeout(10):
        async for message in client.messages:
            got.append((str(message.topic), message.payload))
            if message.payload == until:
                return got
    return got


async def test_a_unit_cannot_publish_under_another_units_id(broker):
    async with broker.client("ingest") as ingest:
        await ingest.subscribe("nocturna/#", qos=1)
        async with broker.client("pan001", tls=True) as unit:
            for kind in ("status", "frame", "online", "command/ack"):
                await unit.publish(f"nocturna/pan002/{kind}", b"forged", qos=1)
            await unit.publish("elsewhere/pan001", b"forged", qos=1)
            await unit.publish("nocturna/pan001/status", b"mine", qos=1)
        assert await collect(ingest, b"mine") == [("nocturna/pan001/status", b"mine")]


async def test_only_the_operator_publishes_commands(broker):
    async with broker.client("pan002", tls=True) as target:
        await target.subscribe("nocturna/pan002/command", qos=1)
        for sender in ("pan001", "pan002", "ingest"):  # another unit, itself, the ingest
            async with broker.client(sender) as forger:
                await forger.publish("nocturna/pan002/command", b"forged park", qos=1)
        async with broker.client("operator") as operator:
            await operator.publish("nocturna/pan002/command", b"park", qos=1)
        message = await first(target)
        assert (str(message.topic), message.payload) == ("nocturna/pan002/command", b"park")


async def test_a_unit_reads_only_its_own_commands(broker):
    async with broker.client("pan002") as nosy:
        await nosy.subscribe("nocturna/pan001/#", qos=1)
        await nosy.subscribe("nocturna/+/command", qos=1)
        await nosy.subscribe("nocturna/pan002/command", qos=1)
        async with broker.client("pan001") as unit:
            await unit.publish("nocturna/pan001/status", b"private", qos=1)
        async with broker.client("operator") as operator:
            await operator.publish("nocturna/pan001/command", b"not yours", qos=1)
            await operator.publish("nocturna/pan002/command", b"yours", qos=1)
        message = await first(nosy)
        assert (str(message.topic), message.payload) == ("nocturna/pan002/command", b"yours")


async def test_the_ingest_reads_every_unit_and_writes_nothing(broker):
    async with broker.client("ingest") as ingest:
        await ingest.subscribe("nocturna/#", qos=1)
        await ingest.publish("nocturna/pan001/status", b"forged by the ingest", qos=1)
        async with broker.client("pan001", tls=True) as one, broker.client("pan002") as two:
            await one.publish("nocturna/pan001/online", b"1", qos=1)
            await two.publish("nocturna/pan002/transition", b"2", qos=1)
            async with broker.client("operator") as operator:
                await operator.publish("nocturna/pan001/command", b"3", qos=1)
            await one.publish("nocturna/pan001/command/ack", b"4", qos=1)
        assert await collect(ingest, b"4") == [
            ("nocturna/pan001/online", b"1"), ("nocturna/pan002/transition", b"2"),
            ("nocturna/pan001/command", b"3"), ("nocturna/pan001/command/ack", b"4")]


async def test_no_one_gets_in_without_a_password(broker):
    for username, password in ((None, None), ("pan001", "wrong"), ("stranger", "pw1")):
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", broker.port, username=username,
                                      password=password, timeout=5):
                pass
