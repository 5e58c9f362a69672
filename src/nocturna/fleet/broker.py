"""Broker URLs (``mqtt://user:password@host:1883``, ``mqtts://…:8883``) and paho clients
made from them.

The fleet commands use paho-mqtt's client directly rather than aiomqtt (the unit side's
client): the ingest needs manual acknowledgements (``manual_ack=True`` and
``client.ack(mid, qos)``), which aiomqtt does not expose, and paho is aiomqtt's base, so
this adds no dependency.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from nocturna.core.errors import InvalidValueError

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where the broker is and who we are to it."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt[s]://[user[:password]@]host[:port]``; InvalidValueError if it is not."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InvalidValueError(f"broker URL {_masked(url)!r}: {exc}") from exc
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise InvalidValueError(f"broker URL {_masked(url)!r}: use "
                                    "mqtt://USER:PASSWORD@HOST:1883 or mqtts://…:8883")
        return cls(parts.hostname, port or DEFAULT_PORTS[parts.scheme],
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None,
                   parts.scheme == "mqtts")

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def _masked(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, sep, credentials = head.partition("://")
    user = credentials.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{tail}"


def make_client(address: BrokerAddress, client_id: str, *, ca_file: Path | None = None,
                **options: object) -> mqtt.Client:
    """A paho client (MQTT 5, callback API 2) with the address's credentials and TLS."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5, **options)  # type: ignore[arg-type]
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        client.tls_set_context(context)
    return client
