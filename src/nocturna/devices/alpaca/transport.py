"""HTTP transport of the Alpaca client: one keep-alive connection pool per server.

Every device configured on the same server (``host:port``) shares one
:class:`AlpacaClient` and its connection pool (:func:`lease`,
:mod:`~nocturna.devices.alpaca.connections`); an ImageArray is downloaded on a
connection of its own straight into one buffer
(:mod:`~nocturna.devices.alpaca.download`). Each request carries the process's
``ClientID`` and the next process-wide ``ClientTransactionID``; GET parameters go in
the query, PUT parameters form-encoded in the body, names cased as the specification
writes them (``Duration``, ``Light``), booleans as ``True``/``False``.

A reply is checked in the order of the Alpaca client guidance: HTTP status (400 →
:class:`InvalidValueError` with the server's text, other non-200 → :class:`NocturnaError`
naming status and URL), content type, the echoed ``ClientTransactionID`` (a reply to
another request is refused; 0 or absent means the server did not echo it, which the
robustness principle tolerates), ``ErrorNumber`` (the typed error of
:func:`~nocturna.core.errors.error_for_number`), then ``Value``. Network failures
become :class:`NotConnectedError` (unreachable, connection lost) or
:class:`DeviceTimeoutError`, never a raw socket error.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import random
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np

from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    InvalidValueError,
    NocturnaError,
    NotConnectedError,
    error_for_number,
)
from nocturna.devices.alpaca import download, imagebytes
from nocturna.devices.alpaca.connections import BadReply, ConnectionLost, ConnectionPool, HttpReply

log = logging.getLogger(__name__)

JSON_MIME = "application/json"
FORM_MIME = "application/x-www-form-urlencoded"
IMAGE_ACCEPT = f"{imagebytes.MIME}, {JSON_MIME}"
USER_AGENT = "nocturna-alpaca-client"
IMAGE_HEADERS = {"Accept": IMAGE_ACCEPT, "User-Agent": USER_AGENT}
KEEPALIVE_S = 4.0
"""Idle connections are dropped after this long: below common server keep-alive
times (uvicorn's default is 5 s), so requests seldom meet a socket the server is
closing (the pool re-sends once on a fresh connection when one does)."""
CONNECTIONS_PER_SERVER = 8
"""Concurrent connections to one server: snapshots read their members in parallel, yet
small embedded servers are not flooded (4 to 16 measured alike on loopback)."""
LARGE_JSON_BYTES = 1 << 20  # JSON bodies above this are parsed off the event loop

CLIENT_ID = random.randint(1, 65535)
"""This process's ClientID (the specification recommends 1..65535)."""
_transactions = itertools.count(1)


def next_transaction_id() -> int:
    """The next ClientTransactionID: 1, 2, ... 4294967295, then 1 again."""
    return (next(_transactions) - 1) % 0xFFFF_FFFF + 1


def parse_address(address: Any, *, owner: str = "alpaca") -> tuple[str, int]:
    """(host, port) from ``"host:port"`` (``"[v6]:port"`` for IPv6); ConfigError if bad."""
    if not isinstance(address, str) or ":" not in address:
        raise ConfigError(f"{owner}.address: expected 'host:port', got {address!r}")
    host, _, port_text = address.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        port = 0
    if not host or not 0 < port < 65536 or any(c in host for c in "/?#@ "):
        raise ConfigError(f"{owner}.address: expected 'host:port' with a port in 1..65535, "
                          f"got {address!r}")
    return host, port


def encode_value(value: Any) -> str:
    """A parameter value as Alpaca wants it on the wire (invariant culture)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValueError(f"cannot send the non-finite number {value!r}")
        return repr(value)
    return str(value)


def encode_params(params: Mapping[str, Any]) -> str:
    return urlencode({name: encode_value(value) for name, value in params.items()},
                     quote_via=quote)


@dataclass(frozen=True, slots=True)
class Image:
    """An ImageArray reply: pixels in nocturna's (y, x[, plane]) order."""

    data: np.ndarray
    image_type: int  # ImageArrayElementTypes of the source image
    transmission_type: int  # as sent (Int32 for the JSON form)
    imagebytes: bool  # received as ImageBytes (False: the JSON fallback)


class AlpacaClient:
    """The HTTP client of one Alpaca server (``host:port``), shared by its devices."""

    def __init__(self, address: str, *, connections: int = CONNECTIONS_PER_SERVER) -> None:
        self.host, self.port = parse_address(address)
        self.address = address
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{self.port}"
        self._connections = connections
        self._pool: ConnectionPool | None = None
        authority = f"[{self.host}]:{self.port}" if ":" in self.host else address
        self._head = (f" HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n")
        self.users = 0

    # ----------------------------------------------------------------- session
    def _open(self) -> ConnectionPool:
        if self._pool is None:
            self._pool = ConnectionPool(self.host, self.port, limit=self._connections,
                                        keepalive_s=KEEPALIVE_S)
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self._pool = None

    # ---------------------------------------------------------------- requests
    async def get(self, path: str, params: Mapping[str, Any] | None = None, *,
                  timeout_s: float = 10.0, value: bool = True) -> Any:
        """GET ``path`` (below the server root); the reply's ``Value``."""
        return await self._call("GET", path, params, timeout_s, value)

    async def put(self, path: str, params: Mapping[str, Any] | None = None, *,
                  timeout_s: float = 10.0, value: bool = False) -> Any:
        """PUT ``path`` with form parameters; the reply's ``Value`` if ``value``."""
        return await self._call("PUT", path, params, timeout_s, value)

    async def _call(self, method: str, path: str, params: Mapping[str, Any] | None,
                    timeout_s: float, want_value: bool) -> Any:
        tid = next_transaction_id()
        ids = f"ClientID={CLIENT_ID}&ClientTransactionID={tid}"
        extra = encode_params(params) if params else ""
        if method == "GET":
            request = (f"GET {path}?{ids}&{extra}" if extra else f"GET {path}?{ids}"
                       ) + self._head + "\r\n"
        else:
            form = f"{extra}&{ids}" if extra else ids
            request = (f"PUT {path}{self._head}Content-Type: {FORM_MIME}\r\n"
                       f"Content-Length: {len(form)}\r\n\r\n{form}")
        reply = await self._send(method, path, request.encode(), timeout_s)
        url = self.base_url + path
        doc = self._document(method, url, reply.status, reply.content_type, reply.body)
        return self._outcome(method, url, tid, doc, want_value)

    async def _send(self, method: str, path: str, request: bytes,
                    timeout_s: float) -> HttpReply:
        what = f"{method} {path}"
        try:
            async with asyncio.timeout(timeout_s):
                return await self._open().request(request)
        except TimeoutError:
            raise DeviceTimeoutError(f"Alpaca server {self.address}: no answer to {what} "
                                     f"within {timeout_s:g} s") from None
        except BadReply as exc:
            raise NocturnaError(f"Alpaca server {self.address}: {what} failed: {exc}"
                                ) from None
        except ConnectionLost as exc:
            raise NotConnectedError(f"Alpaca server {self.address}: connection lost during "
                                    f"{what}: {exc}") from None
        except OSError as exc:
            raise NotConnectedError(f"cannot reach Alpaca server {self.address}: "
                                    f"{exc.strerror or exc}") from None

    def _document(self, method: str, url: str, status: int, ctype: str,
                  raw: bytes | bytearray) -> dict[str, Any]:
        """The JSON reply after the HTTP status and content-type checks."""
        if status != 200:
            raise self._status_error(method, url, status, raw)
        if ctype not in (JSON_MIME, "", "text/json", "text/plain"):
            raise NocturnaError(f"Alpaca server {self.address}: {method} {url} answered "
                                f"{ctype!r}, not {JSON_MIME}")
        try:
            doc = json.loads(raw)
        except ValueError:
            raise NocturnaError(f"Alpaca server {self.address}: {method} {url} answered "
                                f"malformed JSON: {bytes(raw[:200])!r}") from None
        if not isinstance(doc, dict):
            raise NocturnaError(f"Alpaca server {self.address}: {method} {url} answered a "
                                f"JSON {type(doc).__name__}, not an object")
        return doc

    def _status_error(self, method: str, url: str, status: int,
                      raw: bytes | bytearray) -> NocturnaError:
        text = bytes(raw[:500]).decode("utf-8", errors="replace").strip()
        if status == 400:
            return InvalidValueError(f"Alpaca server {self.address} rejected {method} {url}: "
                                     f"{text or 'HTTP 400'}")
        return NocturnaError(f"Alpaca server {self.address}: HTTP {status} for {method} "
                             f"{url}{': ' + text if text else ''}")

    def _check_ids(self, method: str, url: str, sent: int, echoed: Any,
                   server_id: Any) -> None:
        if echoed not in (None, 0, sent):
            raise NocturnaError(f"Alpaca server {self.address}: {method} {url} answered "
                                f"ClientTransactionID {echoed!r} to request {sent}")
        if log.isEnabledFor(logging.DEBUG):
            log.debug("alpaca %s %s%s: client transaction %d, server transaction %s",
                      method, self.address, url[len(self.base_url):], sent, server_id)

    def _outcome(self, method: str, url: str, tid: int, doc: dict[str, Any],
                 want_value: bool) -> Any:
        self._check_ids(method, url, tid, doc.get("ClientTransactionID"),
                        doc.get("ServerTransactionID"))
        number = doc.get("ErrorNumber", 0) or 0
        message = doc.get("ErrorMessage") or ""
        if number or message:
            raise self._device_error(number, message, url, doc.get("ServerTransactionID"))
        if not want_value:
            return None
        if "Value" not in doc:
            raise NocturnaError(f"Alpaca server {self.address}: {method} {url} answered "
                                "no Value")
        return doc["Value"]

    def _device_error(self, number: Any, message: str, url: str,
                      server_id: Any) -> NocturnaError:
        where = url[len(self.base_url):]
        if not isinstance(number, int) or isinstance(number, bool):
            return NocturnaError(f"Alpaca server {self.address}: {where}: malformed "
                                 f"ErrorNumber {number!r}")
        text = (f"{message or 'device error'} (Alpaca error 0x{number:X} from "
                f"{self.address}{where}, server transaction {server_id})")
        return error_for_number(number, text) if number else NocturnaError(text)

    # ------------------------------------------------------------------ images
    async def get_image(self, path: str, *, timeout_s: float = 60.0) -> Image:
        """GET an ImageArray: ImageBytes if the server offers it, else the JSON form."""
        tid = next_transaction_id()
        url = self.base_url + path
        target = f"{path}?ClientID={CLIENT_ID}&ClientTransactionID={tid}"
        try:
            async with asyncio.timeout(timeout_s):
                reply = await download.get(self.host, self.port, target, IMAGE_HEADERS)
        except TimeoutError:
            raise DeviceTimeoutError(f"Alpaca server {self.address}: no answer to GET {path} "
                                     f"within {timeout_s:g} s") from None
        except download.BadReply as exc:
            raise NocturnaError(f"Alpaca server {self.address}: GET {path} failed: {exc}"
                                ) from None
        except download.ConnectionLost as exc:
            raise NotConnectedError(f"Alpaca server {self.address}: connection lost during "
                                    f"GET {path}: {exc}") from None
        except OSError as exc:
            raise NotConnectedError(f"cannot reach Alpaca server {self.address}: "
                                    f"{exc.strerror or exc}") from None
        status, ctype, raw = reply.status, reply.content_type, reply.body
        if status != 200:
            raise self._status_error("GET", url, status, raw)
        if ctype == imagebytes.MIME:
            return self._from_imagebytes(url, tid, raw)
        if len(raw) > LARGE_JSON_BYTES:
            doc = await asyncio.to_thread(self._document, "GET", url, status, ctype, raw)
        else:
            doc = self._document("GET", url, status, ctype, raw)
        value = self._outcome("GET", url, tid, doc, True)
        rank, kind = doc.get("Rank"), doc.get("Type")
        if rank not in (2, 3) or not isinstance(kind, int):
            raise NocturnaError(f"Alpaca server {self.address}: {url} answered an image with "
                                f"Rank {rank!r} and Type {kind!r}")
        data = await asyncio.to_thread(imagebytes.from_json_value, value, rank, kind)
        return Image(data, kind, int(imagebytes.ElementType.INT32), False)

    def _from_imagebytes(self, url: str, tid: int, raw: bytearray) -> Image:
        meta = imagebytes.parse_header(raw)
        self._check_ids("GET", url, tid, meta.client_transaction_id,
                        meta.server_transaction_id)
        try:
            meta, data = imagebytes.decode(raw)
        except NocturnaError as exc:
            if type(exc) is NocturnaError and meta.error_number == 0:
                raise NocturnaError(f"Alpaca server {self.address}: {url}: {exc}") from None
            raise
        return Image(data, int(meta.image_type), int(meta.transmission_type), True)


# ------------------------------------------------------------------- registry
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AlpacaClient]] = (
    weakref.WeakKeyDictionary())


def acquire(address: str) -> AlpacaClient:
    """The shared client of ``address`` in the running event loop (counted: release it)."""
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    client = clients.get(address)
    if client is None:
        client = clients[address] = AlpacaClient(address)
    client.users += 1
    return client


async def release(client: AlpacaClient) -> None:
    """Give back a client from :func:`acquire`; the last user closes its session."""
    client.users -= 1
    if client.users > 0:
        return
    clients = _clients.get(asyncio.get_running_loop(), {})
    if clients.get(client.address) is client:
        del clients[client.address]
    await client.close()


@asynccontextmanager
async def lease(address: str) -> AsyncIterator[AlpacaClient]:
    """``async with lease("host:port") as client``: the shared client for a while."""
    client = acquire(address)
    try:
        yield client
    finally:
        await release(client)
