"""The HTTP application of the configuration service (Starlette).

Endpoints (JSON; values use the encoding of :mod:`nocturna.core.serialize`):

* ``GET  /heartbeat`` → ``{"ok": true, "service": "nocturna-config", ...}``
* ``GET  /config?key=site.horizon.default`` → ``{"key": ..., "value": ...}``
  (no key: the whole tree); unknown key → 404, malformed key → 400.
* ``POST /config`` ``{"key": K, "value": V, "save": true}`` → ``{"key": K, "value": new}``;
  an invalid value → 422 naming key, value and what was expected.
* ``POST /config/reset`` ``{"key": K, "forget_saved": false}`` → ``{"reset": K}``.

Compatibility with POCS/panoptes-utils clients: ``POST /get-config`` ``{"key": K}``,
``POST /set-config`` ``{K: V}``, ``POST /reset-config`` and ``POST /heartbeat``.

Limits (see :mod:`.request_body`): a body over 1 MiB answers 413, one nesting arrays
and objects deeper than 32 levels or not valid JSON 400. Local-only keys (the
service's own settings, ``data_dir``, ``storage.url``... see
:mod:`nocturna.core.config.local_only`) cannot be set, nor their saved values
forgotten, over the network: 403 naming the key and why. A reset of everything
leaves their run-time values alone.

Saved values are written to the local override file shortly after the set (sets
within ``save_delay`` seconds share one atomic write) and at shutdown, in a worker
thread so the event loop never blocks on the disk. Errors answer
``{"error": message}``. When a token is configured every endpoint but the heartbeat
requires ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nocturna import __version__
from nocturna.configserver.request_body import RequestTooLargeError, read_json_object
from nocturna.core.config import Config, parse_key
from nocturna.core.config.local_only import (
    LocalOnlyKeyError,
    local_only_at,
    refuse_remote_change,
)
from nocturna.core.errors import ConfigError, ConfigKeyError, InvalidValueError
from nocturna.core.serialize import from_plain, to_plain

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(to_plain(body)), status, media_type="application/json")


def _error(message: str, status: int) -> Response:
    response = _json({"error": message}, status)
    if status == 413:  # the rest of the body is not wanted: end the connection
        response.headers["connection"] = "close"
    return response


class ConfigService:
    """The state behind the app: the Config, pending saves and statistics."""

    def __init__(
        self, config: Config, *, save: bool = True, token: str | None = None,
        save_delay: float = 0.2,
    ) -> None:
        self.config = config
        self.save = save and config.local_path is not None
        self.token = token
        self.save_delay = save_delay
        self.started = time.monotonic()
        self.requests = 0
        self._pending: set[str] = set()
        self._flush_task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- saving
    def schedule_save(self, key: str) -> None:
        self._pending.add(key)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        """At most one write per ``save_delay``, however fast sets arrive."""
        while self._pending:
            await asyncio.sleep(self.save_delay)
            await self._write_pending()

    async def _write_pending(self) -> None:
        if not self._pending:
            return
        keys, self._pending = sorted(self._pending), set()
        try:
            path = await asyncio.to_thread(self.config.persist, keys)
        except Exception:
            log.exception("saving configuration failed", extra={"keys": keys})
            return
        log.info("configuration saved", extra={"keys": keys, "path": str(path)})

    async def flush(self) -> None:
        """Write every pending key now (at shutdown)."""
        await self._write_pending()
        if self._flush_task is not None:
            self._flush_task.cancel()

    @property
    def pending_saves(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------ operations
    def get(self, key: str) -> Any:
        return self.config.peek(key)

    def set(self, key: str, value: Any, save: bool | None) -> Any:
        refuse_remote_change(parse_key(key))
        new = self.config.set(key, from_plain(value))
        if self.save and save is not False:
            self.schedule_save(key)
        return new

    def reset(self, key: str, forget_saved: bool) -> None:
        path = parse_key(key)
        if forget_saved or local_only_at(path):
            refuse_remote_change(path, "forget the saved value of" if forget_saved else "reset")
        self.config.reset(key, forget_saved=forget_saved, keep_local_only=True)
        # A reset value must not be saved by a write still pending from its set.
        self._pending = {k for k in self._pending if parse_key(k)[: len(path)] != path}


def _guarded(service: ConfigService, handler: Handler, *, public: bool = False) -> Handler:
    """Count, authenticate, and turn typed errors into JSON error responses."""

    async def endpoint(request: Request) -> Response:
        service.requests += 1
        if service.token and not public:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {service.token}".encode()):
                return _error("missing or wrong token (Authorization: Bearer <token>)", 401)
        try:
            return await handler(request)
        except ConfigKeyError as exc:
            return _error(str(exc), 404)
        except LocalOnlyKeyError as exc:
            return _error(str(exc), 403)
        except RequestTooLargeError as exc:
            return _error(str(exc), 413)
        except ConfigError as exc:
            return _error(str(exc), 422)
        except InvalidValueError as exc:
            return _error(str(exc), 400)

    return endpoint


def create_app(service: ConfigService) -> Starlette:
    """The Starlette application serving ``service``."""

    async def heartbeat(request: Request) -> Response:
        return _json({
            "ok": True,
            "service": "nocturna-config",
            "version": __version__,
            "pid": os.getpid(),
            "uptime_s": round(time.monotonic() - service.started, 3),
            "requests": service.requests,
            "pending_saves": service.pending_saves,
            "local_file": str(service.config.local_path) if service.save else None,
        })

    async def get_config(request: Request) -> Response:
        key = request.query_params.get("key", "")
        return _json({"key": key, "value": service.get(key)})

    async def set_config(request: Request) -> Response:
        body = await read_json_object(request)
        if "key" not in body or "value" not in body:
            raise InvalidValueError('request body needs "key" and "value"')
        if not isinstance(body["key"], str) or not body["key"]:
            raise InvalidValueError('"key" must be a non-empty string')
        save = body.get("save")
        if save is not None and not isinstance(save, bool):
            raise InvalidValueError('"save" must be true or false')
        value = service.set(body["key"], body["value"], save)
        return _json({"key": body["key"], "value": value})

    async def reset_config(request: Request) -> Response:
        body = await read_json_object(request)
        key = body.get("key") or ""
        if not isinstance(key, str):
            raise InvalidValueError('"key" must be a string')
        service.reset(key, bool(body.get("forget_saved", False)))
        return _json({"reset": key})

    # --- POCS / panoptes-utils compatible forms
    async def compat_get(request: Request) -> Response:
        body = await read_json_object(request)
        return _json(service.get(body.get("key") or ""))

    async def compat_set(request: Request) -> Response:
        body = await read_json_object(request)
        if len(body) != 1:
            raise InvalidValueError("set-config expects one {key: value} pair")
        ((key, value),) = body.items()
        return _json({key: service.set(key, value, None)})

    async def compat_reset(request: Request) -> Response:
        service.reset("", False)
        return _json({"reset": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await service.flush()

    def route(path: str, handler: Handler, methods: list[str], public: bool = False) -> Route:
        return Route(path, _guarded(service, handler, public=public), methods=methods)

    return Starlette(
        routes=[
            route("/heartbeat", heartbeat, ["GET", "POST"], public=True),
            route("/config", get_config, ["GET"]),
            route("/config", set_config, ["POST", "PUT"]),
            route("/config/reset", reset_config, ["POST"]),
            route("/get-config", compat_get, ["GET", "POST"]),
            route("/set-config", compat_set, ["POST"]),
            route("/reset-config", compat_reset, ["POST"]),
        ],
        lifespan=lifespan,
    )
