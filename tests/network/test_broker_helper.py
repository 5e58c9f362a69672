"""The test broker itself: users, the fleet ACL, persistence across a restart, TLS."""

from __future__ import annotations

import asyncio
import ssl

import aiomqtt
import pytest

from mqtt_helpers import Mosquitto

USERS = {"pan001": "pw1", "pan002": "pw2", "operator": "pw0", "ingest": "pwi"}


def client(broker: Mosquitto, user: str, **options) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, username=user,
                          password=broker.users[user], **options)


async def received(messages, count: int, timeout_s: float = 5.0) -> list:
    got = []
    async with asyncio.timeout(timeout_s):
        async for message in messages:
            got.append(message)
            if len(got) == count:
                return got
    return got


async def test_units_publish_only_under_their_own_id(tmp_path):
    with Mosquitto(tmp_path, users=USERS) as broker:
        async with client(broker, "operator") as watcher:
            await watcher.subscribe("nocturna/#", qos=1)
            async with client(broker, "pan001") as unit:
                await unit.publish("nocturna/pan001/status", b"mine", qos=1)
                await unit.publish("nocturna/pan002/status", b"forged", qos=1)
                await unit.publish("nocturna/pan001/status", b"mine again", qos=1)
            got = await received(watcher.messages, 2)
        assert [m.payload for m in got] == [b"mine", b"mine again"]
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", broker.port, username="pan001",
                                      password="wrong", timeout=2):
                pass


async def test_retained_messages_survive_a_restart(tmp_path):
    with Mosquitto(tmp_path, users=USERS) as broker:
        async with client(broker, "pan001") as unit:
            await unit.publish("nocturna/pan001/status", b"parked", qos=1, retain=True)
        await asyncio.to_thread(broker.restart)
        async with client(broker, "ingest") as reader:
            await reader.subscribe("nocturna/+/status", qos=1)
            [message] = await received(reader.messages, 1)
        assert message.payload == b"parked" and message.retain


async def test_the_tls_listener_speaks_tls_with_the_test_ca(tmp_path):
    with Mosquitto(tmp_path, users=USERS, tls=True) as broker:
        context = ssl.create_default_context(cafile=str(broker.ca_file))
        async with aiomqtt.Client("127.0.0.1", broker.tls_port, username="pan001",
                                  password="pw1", tls_context=context) as unit:
            await unit.publish("nocturna/pan001/online", b"{}", qos=1)
        assert broker.url("pan001", tls=True).startswith("mqtts://pan001:pw1@127.0.0.1:")
