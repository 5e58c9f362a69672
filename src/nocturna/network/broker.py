"""Where the broker is and how to talk to it: the URL, TLS, the MQTT client's settings.

The client is **aiomqtt** (asyncio over paho-mqtt): the publisher already runs its own
asyncio loop, and a QoS 1 ``publish`` returns only on the broker's PUBACK, which is
exactly when an outbox row may be marked sent. ``mqtts://`` turns TLS on (the system's
CAs, or ``network.ca_file``; a client certificate with ``cert_file``/``key_file``).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from nocturna.core.config.network import SCHEMES, NetworkConfig
from nocturna.core.errors import ConfigError, InvalidValueError

CONNECT_TIMEOUT_S = 10.0
"""How long a connection attempt or one acknowledgement may take (real seconds)."""


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
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise InvalidValueError(f"broker URL {_masked(url)!r}: use "
                                    "mqtt://USER:PASSWORD@HOST:1883 or mqtts://…:8883")
        return cls(parts.hostname, port or SCHEMES[parts.scheme],
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


@dataclass(frozen=True)
class Broker:
    """The broker's address and the unit's credentials, from ``network.broker``."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: ssl.SSLContext | None
    keepalive_s: int

    @classmethod
    def from_settings(cls, settings: NetworkConfig) -> Broker:
        """The broker of ``settings`` (ConfigError naming the key for a TLS file that
        cannot be read)."""
        if settings.broker is None:
            raise ConfigError("network.broker: no broker is configured")
        where = BrokerAddress.parse(settings.broker)
        tls = _tls_context(settings) if where.tls else None
        return cls(host=where.host, port=where.port, username=where.username,
                   password=where.password, tls=tls,
                   keepalive_s=round(float(settings.keepalive.to_value("s"))))

    @property
    def address(self) -> str:
        """``mqtts://host:port`` without the credentials (for logs)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def client(self, *, identifier: str, will: Any | None = None) -> Any:
        """A new aiomqtt client (not yet connected)."""
        import aiomqtt

        return aiomqtt.Client(self.host, self.port, username=self.username,
                              password=self.password, identifier=identifier, will=will,
                              clean_session=True, keepalive=self.keepalive_s,
                              timeout=CONNECT_TIMEOUT_S, tls_context=self.tls)


def _tls_context(settings: NetworkConfig) -> ssl.SSLContext:
    for key in ("ca_file", "cert_file", "key_file"):
        value = getattr(settings, key)
        if value is not None and not Path(value).expanduser().is_file():
            raise ConfigError(f"network.{key}: no such file: {value}")
    try:
        context = ssl.create_default_context(
            cafile=str(Path(settings.ca_file).expanduser()) if settings.ca_file else None)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"network.ca_file: not a CA certificate file: {exc}") from None
    if settings.cert_file and settings.key_file:
        try:
            context.load_cert_chain(str(Path(settings.cert_file).expanduser()),
                                    str(Path(settings.key_file).expanduser()))
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"network.cert_file/key_file: cannot load the client "
                              f"certificate: {exc}") from None
    return context
