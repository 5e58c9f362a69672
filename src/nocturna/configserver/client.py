"""Python client of the configuration service.

>>> from nocturna.configserver.client import get_config, set_config
>>> get_config("site.horizon.default")          # doctest: +SKIP
<Quantity 30. deg>
>>> set_config("site.horizon.default", "35 deg")  # doctest: +SKIP
<Quantity 35. deg>

The client keeps one persistent HTTP/1.1 connection per thread (see
:mod:`.connection`), so a read costs one round trip on an open socket. The service
URL defaults to ``$NOCTURNA_CONFIG_URL`` or ``http://127.0.0.1:6563``; the token to
``$NOCTURNA_CONFIG_TOKEN``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any
from urllib.parse import quote, urlsplit

from nocturna.configserver.connection import HttpConnection
from nocturna.core.config.local_only import LocalOnlyKeyError
from nocturna.core.errors import (
    ConfigError,
    ConfigKeyError,
    InvalidValueError,
    NocturnaError,
)
from nocturna.core.serialize import from_plain, to_plain

DEFAULT_URL = "http://127.0.0.1:6563"
_MISSING = object()


class ConfigServiceError(NocturnaError):
    """The configuration service could not be reached or refused the request."""


class ConfigClient:
    """A connection to one configuration service."""

    def __init__(self, url: str | None = None, *, token: str | None = None,
                 timeout: float = 5.0) -> None:
        self.url = (url or os.environ.get("NOCTURNA_CONFIG_URL") or DEFAULT_URL).rstrip("/")
        parts = urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname:
            raise InvalidValueError(f"config service URL {self.url!r} must look like {DEFAULT_URL}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._base = parts.path
        self.token = token if token is not None else os.environ.get("NOCTURNA_CONFIG_TOKEN")
        self.timeout = timeout
        self._local = threading.local()
        self._headers = b"Accept: application/json\r\n" + (
            f"Authorization: Bearer {self.token}\r\n".encode() if self.token else b"")

    # ------------------------------------------------------------- transport
    def _connection(self) -> HttpConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = HttpConnection(self._host, self._port, self.timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = self._headers
        payload = None
        if body is not None:
            payload = json.dumps(to_plain(body)).encode()
            headers += b"Content-Type: application/json\r\n"
        for attempt in (1, 2):  # one retry: the server may have closed an idle socket
            conn = self._connection()
            reused = conn.is_open
            try:
                status, data = conn.request(method, self._base + path, headers, payload)
                break
            except (ConnectionError, TimeoutError, OSError) as exc:
                self.close()
                if attempt == 2 or not reused or isinstance(exc, TimeoutError):
                    raise ConfigServiceError(
                        f"config service at {self.url} is not reachable: {exc}"
                    ) from None
        try:
            decoded = json.loads(data) if data else None
        except ValueError:
            raise ConfigServiceError(
                f"config service at {self.url} sent a non-JSON answer (HTTP {status})"
            ) from None
        return status, decoded

    def _checked(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self._request(method, path, body)
        if status == 200:
            return data
        message = data.get("error") if isinstance(data, dict) else None
        message = message or f"HTTP {status}"
        if status == 404:
            raise ConfigKeyError(message)
        if status == 422:
            raise ConfigError(message.removeprefix("invalid configuration: ").split("; "))
        if status == 403:
            raise LocalOnlyKeyError(message)
        if status in (400, 413):
            raise InvalidValueError(message)
        raise ConfigServiceError(f"config service at {self.url}: {message}")

    # --------------------------------------------------------------- the API
    def get(self, key: str = "", default: Any = _MISSING) -> Any:
        """The value at ``key`` (whole tree if empty); ``default`` if the key is missing."""
        try:
            data = self._checked("GET", "/config?key=" + quote(key, safe=".[]_-"))
        except ConfigKeyError:
            if default is _MISSING:
                raise
            return default
        return from_plain(data["value"])

    def set(self, key: str, value: Any, *, save: bool | None = None) -> Any:
        """Set ``key``; returns the new (parsed) value. ``save=False`` skips the file."""
        body: dict[str, Any] = {"key": key, "value": value}
        if save is not None:
            body["save"] = save
        return from_plain(self._checked("POST", "/config", body)["value"])

    def reset(self, key: str = "", *, forget_saved: bool = False) -> None:
        """Undo run-time sets (of ``key`` or all); optionally forget the saved value."""
        self._checked("POST", "/config/reset", {"key": key, "forget_saved": forget_saved})

    def heartbeat(self) -> dict[str, Any]:
        """The service's heartbeat (raises ConfigServiceError if it does not answer)."""
        return self._checked("GET", "/heartbeat")

    def is_running(self) -> bool:
        try:
            return bool(self.heartbeat().get("ok"))
        except NocturnaError:
            return False


_clients: dict[tuple[str, str | None], ConfigClient] = {}
_clients_lock = threading.Lock()


def client_for(url: str | None = None, token: str | None = None) -> ConfigClient:
    """A shared client per (URL, token)."""
    resolved = (url or os.environ.get("NOCTURNA_CONFIG_URL") or DEFAULT_URL).rstrip("/")
    with _clients_lock:
        client = _clients.get((resolved, token))
        if client is None:
            client = _clients[(resolved, token)] = ConfigClient(resolved, token=token)
        return client


def get_config(key: str = "", default: Any = _MISSING, *, url: str | None = None) -> Any:
    """Read ``key`` from the configuration service (see :meth:`ConfigClient.get`)."""
    return client_for(url).get(key, default)


def set_config(key: str, value: Any, *, save: bool | None = None, url: str | None = None) -> Any:
    """Set ``key`` on the configuration service (see :meth:`ConfigClient.set`)."""
    return client_for(url).set(key, value, save=save)
