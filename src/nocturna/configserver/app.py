"""The configuration service's endpoints, served by :mod:`.httpserver`.

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
import hmac
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from nocturna import __version__
from nocturna.configserver.httpserver import Handler, Request, Response, error_response
from nocturna.configserver.request_body import json_object
from nocturna.core.config import Config, parse_key
from nocturna.core.config.local_only import (
    LocalOnlyKeyError,
    local_only_at,
    refuse_remote_change,
)
from nocturna.core.errors import ConfigError, ConfigKeyError, InvalidValueError
from nocturna.core.serialize import from_plain, to_plain

log = logging.getLogger(__name__)

MAX_CACHED_ANSWERS = 1024

Endpoint = Callable[[Request], Any]  # the JSON answer (or a Response); raises typed errors


def _json(body: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(to_plain(body)).encode())


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
        self._answers: dict[str, Response] = {}  # encoded gets, valid for one version
        self._answers_version = -1

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

    def get_answer(self, key: str) -> Response:
        """The encoded answer to ``GET /config?key=``, cached until the values change."""
        if self._answers_version != self.config.version:
            self._answers.clear()
            self._answers_version = self.config.version
        answer = self._answers.get(key)
        if answer is None:
            answer = _json({"key": key, "value": self.config.peek(key)})
            if len(self._answers) < MAX_CACHED_ANSWERS:
                self._answers[key] = answer
        return answer

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


def _guarded(service: ConfigService, endpoint: Endpoint, public: bool = False) -> Handler:
    """Count, authenticate, and turn typed errors into JSON error responses."""
    expected = f"Bearer {service.token}".encode() if service.token else b""

    def handler(request: Request) -> Response:
        service.requests += 1
        if expected and not public:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return error_response("missing or wrong token (Authorization: Bearer <token>)",
                                      401)
        try:
            answer = endpoint(request)
            return answer if isinstance(answer, Response) else _json(answer)
        except ConfigKeyError as exc:
            return error_response(str(exc), 404)
        except LocalOnlyKeyError as exc:
            return error_response(str(exc), 403)
        except ConfigError as exc:
            return error_response(str(exc), 422)
        except InvalidValueError as exc:
            return error_response(str(exc), 400)
        except Exception:
            log.exception("config service request failed", extra={"path": request.path})
            return error_response("internal error (see the service's log)", 500)

    return handler


def create_app(service: ConfigService) -> Handler:
    """The request handler serving ``service``: routes by path and method."""

    def heartbeat(request: Request) -> Any:
        return {
            "ok": True,
            "service": "nocturna-config",
            "version": __version__,
            "pid": os.getpid(),
            "uptime_s": round(time.monotonic() - service.started, 3),
            "requests": service.requests,
            "pending_saves": service.pending_saves,
            "local_file": str(service.config.local_path) if service.save else None,
        }

    def get_config(request: Request) -> Any:
        return service.get_answer(request.query.get("key", ""))

    def set_config(request: Request) -> Any:
        body = json_object(request.body)
        if "key" not in body or "value" not in body:
            raise InvalidValueError('request body needs "key" and "value"')
        if not isinstance(body["key"], str) or not body["key"]:
            raise InvalidValueError('"key" must be a non-empty string')
        save = body.get("save")
        if save is not None and not isinstance(save, bool):
            raise InvalidValueError('"save" must be true or false')
        value = service.set(body["key"], body["value"], save)
        return {"key": body["key"], "value": value}

    def reset_config(request: Request) -> Any:
        body = json_object(request.body)
        key = body.get("key") or ""
        if not isinstance(key, str):
            raise InvalidValueError('"key" must be a string')
        service.reset(key, bool(body.get("forget_saved", False)))
        return {"reset": key}

    # --- POCS / panoptes-utils compatible forms
    def compat_get(request: Request) -> Any:
        key = json_object(request.body).get("key") or ""
        if not isinstance(key, str):
            raise InvalidValueError('"key" must be a string')
        return service.get(key)

    def compat_set(request: Request) -> Any:
        body = json_object(request.body)
        if len(body) != 1:
            raise InvalidValueError("set-config expects one {key: value} pair")
        ((key, value),) = body.items()
        return {key: service.set(key, value, None)}

    def compat_reset(request: Request) -> Any:
        service.reset("", False)
        return {"reset": True}

    routes: dict[tuple[str, str], Handler] = {}

    def route(path: str, endpoint: Endpoint, methods: list[str], public: bool = False) -> None:
        for method in methods:
            routes[(method, path)] = _guarded(service, endpoint, public)

    route("/heartbeat", heartbeat, ["GET", "POST"], public=True)
    route("/config", get_config, ["GET"])
    route("/config", set_config, ["POST", "PUT"])
    route("/config/reset", reset_config, ["POST"])
    route("/get-config", compat_get, ["GET", "POST"])
    route("/set-config", compat_set, ["POST"])
    route("/reset-config", compat_reset, ["POST"])
    paths = {path for _, path in routes}

    def dispatch(request: Request) -> Response:
        handler = routes.get((request.method, request.path))
        if handler is not None:
            return handler(request)
        if request.path in paths:
            allowed = ", ".join(sorted(m for m, p in routes if p == request.path))
            return error_response(f"{request.method} is not allowed here (use {allowed})", 405)
        return error_response(f"no endpoint {request.path[:100]!r}", 404)

    return dispatch
