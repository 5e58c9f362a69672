"""The Alpaca server as a plain ASGI application (own routing, for exact 400 rules).

Paths:

* ``/api/v1/{device_type}/{device_number}/{member}`` (all lower case): the device
  API. A bad root, version, device type, device number (not a non-negative integer,
  or not configured), member or method, a missing required parameter or a value that
  does not parse is HTTP 400 with a plain-text reason. Otherwise the reply is HTTP
  200 JSON and device failures are ``ErrorNumber`` ≠ 0: nocturna's typed errors give
  their ASCOM number, any other exception is 0x500 with its message (and is logged).
  While a device is disconnected every member but the connection and identity ones
  answers 0x407 before its handler runs.
* ``/management/apiversions``, ``/management/v1/description``,
  ``/management/v1/configureddevices``: the management API (GET).
* ``/setup`` and ``/setup/v1/{device_type}/{device_number}/setup``: HTML pages; any
  other path under ``/setup`` is HTTP 403, as the management API specifies.
* ``/openapi.json``: this server's OpenAPI description (:mod:`nocturna.alpaca.openapi`).
* Anything else is HTTP 400 (the reference's "bad path" examples, e.g. ``/apii/...``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nocturna.alpaca import imagearray, management, openapi, setuppages
from nocturna.alpaca.imagearray import ImageReply
from nocturna.alpaca.kinds import common, handlers_for
from nocturna.alpaca.kinds.base import Handler, to_alpaca
from nocturna.alpaca.members import MemberSpec, specs
from nocturna.alpaca.params import (
    BadRequest,
    ParamSpec,
    form_pairs,
    query_pairs,
    transaction_ids,
)
from nocturna.alpaca.registry import DEVICE_TYPES, ServedDevice
from nocturna.alpaca.responses import (
    HTML_TYPE,
    JSON_TYPE,
    encode,
    failure,
    json_headers,
    next_server_id,
    success,
    text_headers,
)
from nocturna.core.errors import NocturnaError, NotConnectedError

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY_BYTES = 1 << 20
UNEXPECTED = 0x500


@dataclass(frozen=True, slots=True)
class Operation:
    """One member of a device type with one HTTP method, ready to run."""

    spec: MemberSpec
    handler: Handler
    params: ParamSpec
    needs_connection: bool

    @property
    def has_value(self) -> bool:
        return self.spec.returns_value


def operations_for(kind: str) -> dict[str, dict[str, Operation]]:
    """member → method → :class:`Operation` for every member of ``kind``.

    ``KeyError`` names a member of the specification with no handler.
    """
    handlers = handlers_for(kind)
    table: dict[str, dict[str, Operation]] = {}
    for spec in specs(kind):
        handler = handlers.get((spec.method, spec.member))
        if handler is None:
            raise KeyError(f"{kind}: no handler for {spec.method} {spec.member}")
        table.setdefault(spec.member, {})[spec.method] = Operation(
            spec, handler, ParamSpec(spec),
            needs_connection=spec.member not in common.DISCONNECTED_MEMBERS)
    return table


class AlpacaApp:
    """ASGI application serving ``served`` devices (the runner starts and stops the
    devices and the discovery responder around it)."""

    def __init__(self, served: list[ServedDevice], info: management.ServerInfo, *,
                 kinds: list[str]) -> None:
        self.served = served
        self.info = info
        self.devices: dict[str, dict[str, ServedDevice]] = {kind: {} for kind in DEVICE_TYPES}
        for item in served:
            if item.kind not in kinds:
                raise ValueError(f"{item.kind} devices cannot be served: no member table")
            self.devices[item.kind][str(item.number)] = item
        self.operations = {kind: operations_for(kind) for kind in kinds}
        self._description: bytes | None = None

    def description(self) -> bytes:
        """The OpenAPI description of what this server serves (JSON, built once)."""
        if self._description is None:
            served = {kind: [int(number) for number in numbers]
                      for kind, numbers in self.devices.items()}
            document = openapi.document(served, title=self.info.server_name)
            self._description = encode(document).encode()
        return self._description

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":  # nothing to start: acknowledge
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        parts = path.split("/")
        root = parts[1] if len(parts) > 1 else ""
        if root == "api":
            await self._device_api(scope, parts, receive, send)
        elif root == "management":
            await self._management(scope, path, send)
        elif root == "setup":
            await self._setup(scope, parts, send)
        elif path == openapi.PATH and scope["method"] == "GET":
            body = self.description()
            await _respond(send, 200, body, text_headers(len(body), JSON_TYPE))
        else:
            await _reject(send, f"{path} is not an Alpaca path (expected /api/v1/..., "
                                f"/management/..., /setup or GET {openapi.PATH})")

    # ------------------------------------------------------------ device API
    def _route(self, method: str, parts: list[str]) -> tuple[ServedDevice, Operation]:
        if len(parts) != 6:
            raise BadRequest("expected /api/v1/{device_type}/{device_number}/{member}, got "
                             + "/".join(parts))
        _, _, version, kind, number, member = parts
        if version != "v1":
            raise BadRequest(f"Alpaca API version {version!r} is not supported (v1 is)")
        devices = self.devices.get(kind)
        if devices is None:
            raise BadRequest(f"{kind!r} is not an ASCOM device type (lower case: "
                             f"{', '.join(DEVICE_TYPES)})")
        item = devices.get(number)
        if item is None:
            if not (number.isascii() and number.isdigit()):
                raise BadRequest(f"device number {number!r} is not a non-negative integer")
            item = devices.get(str(int(number))) if len(number) <= 10 else None
            if item is None:
                count = len(devices)
                known = f"0..{count - 1}" if count else "none"
                raise BadRequest(f"{kind} device number {number} is not configured "
                                 f"(configured: {known})")
        ops = self.operations[kind].get(member)
        if ops is None:
            raise BadRequest(f"{member!r} is not a {kind} member")
        op = ops.get(method)
        if op is None:
            raise BadRequest(f"{method} is not allowed for {kind} {member} "
                             f"(allowed: {', '.join(ops)})")
        return item, op

    async def _device_api(self, scope: Scope, parts: list[str], receive: Receive,
                          send: Send) -> None:
        server_id = next_server_id()
        method = scope["method"]
        try:
            item, op = self._route(method, parts)
            if method == "GET":
                pairs = query_pairs(scope["query_string"])
                client, transaction = transaction_ids(pairs, lowered=True)
            else:
                pairs = form_pairs(await _read_body(receive))
                client, transaction = transaction_ids(pairs, lowered=False)
            args = op.params.parse(pairs)
        except BadRequest as exc:
            await _reject(send, str(exc))
            return
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s client %d transaction %d server %d", method, scope["path"],
                      client, transaction, server_id)
        image = op.spec.is_image and imagearray.accepts_imagebytes(scope["headers"])
        device = item.device
        try:
            if op.needs_connection and not device.connected:
                raise NotConnectedError(f"{item.kind} {item.number} ({device.name}) is not "
                                        "connected")
            value = await op.handler(device, args)
            if isinstance(value, ImageReply):
                await self._send_image(send, value, image, transaction, server_id)
                return
            body = success(to_alpaca(value), transaction, server_id, has_value=op.has_value)
        except NocturnaError as exc:
            body = self._error(exc.ascom_number or UNEXPECTED, str(exc), image, transaction,
                               server_id)
        except Exception as exc:
            log.exception("Alpaca %s %s failed unexpectedly", method, scope["path"])
            body = self._error(UNEXPECTED, f"{type(exc).__name__}: {exc}", image, transaction,
                               server_id)
        if image:
            await _respond(send, 200, body, [(b"content-type", imagearray.IMAGEBYTES_TYPE),
                                             (b"content-length", str(len(body)).encode())])
        else:
            await _respond(send, 200, body, json_headers(len(body)))

    @staticmethod
    def _error(number: int, message: str, image: bool, transaction: int,
               server_id: int) -> bytes:
        if image:
            return imagearray.error_body(number, message, transaction, server_id)
        return failure(number, message, transaction, server_id)

    @staticmethod
    async def _send_image(send: Send, reply: ImageReply, image: bool, transaction: int,
                          server_id: int) -> None:
        try:
            if image:
                await imagearray.send_imagebytes(send, reply, transaction, server_id)
            else:
                await imagearray.send_json_image(send, reply, transaction, server_id)
        except OSError as exc:  # the client went away mid-transfer
            log.info("image transfer ended early: %s", exc)

    # ------------------------------------------------------------ management
    async def _management(self, scope: Scope, path: str, send: Send) -> None:
        server_id = next_server_id()
        value = management.value_for(path, self.info, self.served)
        if value is None:
            await _reject(send, f"{path} is not an Alpaca management path (apiversions, "
                                "v1/description, v1/configureddevices)")
            return
        if scope["method"] != "GET":
            await _reject(send, f"{scope['method']} is not allowed for {path} (GET is)")
            return
        _, transaction = transaction_ids(query_pairs(scope["query_string"]), lowered=True)
        body = success(value, transaction, server_id, has_value=True)
        await _respond(send, 200, body, json_headers(len(body)))

    # ---------------------------------------------------------------- setup
    async def _setup(self, scope: Scope, parts: list[str], send: Send) -> None:
        if scope["method"] != "GET":
            await _reject(send, f"{scope['method']} is not allowed for setup pages (GET is)")
            return
        if len(parts) == 2 or (len(parts) == 3 and parts[2] == ""):
            body = setuppages.server_page(self.info, self.served)
            await _respond(send, 200, body, text_headers(len(body), HTML_TYPE))
            return
        item = None
        if len(parts) == 6 and parts[2] == "v1" and parts[5] == "setup":
            item = self.devices.get(parts[3], {}).get(parts[4])
        if item is None:
            body = setuppages.not_found_page(scope["path"])
            await _respond(send, 403, body, text_headers(len(body), HTML_TYPE))
            return
        body = await setuppages.device_page(self.info, item)
        await _respond(send, 200, body, text_headers(len(body), HTML_TYPE))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest(f"the request body exceeds {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes,
                   headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _reject(send: Send, reason: str) -> None:
    """HTTP 400 with a plain-text reason."""
    body = reason.encode()
    await _respond(send, 400, body, text_headers(len(body)))
