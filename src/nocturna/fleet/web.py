"""The fleet page: every unit at a glance, read from the central database.

A small Starlette app (``nocturna fleet serve``), read-only: the ingest is the only
writer of the central tables, and commands go through ``nocturna fleet park``.

* ``/``: the page (``fleet/static/``); it polls ``/api/fleet`` every few seconds.
* ``/api/fleet``: every unit (online, state, weather verdict, the frames of its newest
  night, when it was last heard, the address of its own dashboard when its status
  carries one) and every ingest's lag and backlog (:func:`nocturna.fleet.read.overview`).
* ``/api/units/{unit}``: one unit with its recent transitions and frames (404 unknown).
* ``/static/``: the page's files; ``/common/``: the unit dashboard's files it shares
  (``nocturna/api/static``: the stylesheet, DOM and formatting helpers).

The page is served with no authentication, hence only on loopback unless the operator
passes ``--allow-remote`` (:func:`nocturna.core.listen.check_host`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from nocturna.api.encoding import json_bytes
from nocturna.core.errors import NocturnaError
from nocturna.core.listen import bind
from nocturna.core.storage.engine import mask_url
from nocturna.fleet import read

STATIC = Path(__file__).parent / "static"
COMMON = Path(__file__).parent.parent / "api" / "static"
REQUIRED_TABLES = ("fleet_units", "fleet_transitions", "fleet_exposures", "fleet_ingest")


def _json(value: Any, status: int = 200) -> Response:
    return Response(json_bytes(value), status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def check_database(engine: Engine) -> None:
    """Fail with one line unless ``engine`` reaches a database with the fleet tables."""
    where = mask_url(engine.url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise NocturnaError(f"cannot read the fleet database {where}: {reason}") from None
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing:
        raise NocturnaError(f"{where} has no fleet tables ({', '.join(missing)} missing): "
                            "start `nocturna fleet ingest --db` on it first")


def create_app(engine: Engine) -> Starlette:
    """The fleet page's app, reading ``engine``'s central tables."""

    def fleet(request: Request) -> Response:  # sync: Starlette runs it in a thread
        return _json(read.overview(engine, datetime.now(UTC)))

    def unit(request: Request) -> Response:
        name = request.path_params["unit"]
        detail = read.unit_detail(engine, name, datetime.now(UTC))
        if detail is None:
            return _json({"detail": f"no unit {name!r} in the fleet database"}, 404)
        return _json(detail)

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def unreadable(request: Request, exc: Exception) -> Response:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return _json({"detail": f"the fleet database cannot be read: {reason}"}, 503)

    return Starlette(
        routes=[Route("/", page), Route("/api/fleet", fleet),
                Route("/api/units/{unit}", unit),
                Mount("/static", StaticFiles(directory=STATIC), name="static"),
                Mount("/common", StaticFiles(directory=COMMON), name="common")],
        exception_handlers={SQLAlchemyError: unreadable})


class FleetPage:
    """The page's server: the socket is bound when it is made (a busy port fails at
    once); :meth:`serve` serves until :meth:`stop` (from any thread) or cancellation."""

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 8090) -> None:
        self.host = host
        self._sock: socket.socket = bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(create_app(engine), loop="none", http="auto", ws="none",
                                lifespan="off", access_log=False, log_level="warning",
                                server_header=False, headers=[("server", "nocturna-fleet")])
        self._server = _QuietServer(config)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    async def serve(self) -> None:
        try:
            await self._server.serve(sockets=[self._sock])
        finally:
            self._sock.close()

    def stop(self) -> None:
        self._server.should_exit = True


class _QuietServer(uvicorn.Server):
    """uvicorn's server without its own signal handling (the caller decides when to
    stop: ``nocturna fleet serve`` on SIGINT/SIGTERM, tests when they are done)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_until_stopped(page: FleetPage, stopped: Any) -> None:
    """Serve ``page`` until the awaitable ``stopped`` completes (e.g. a signal)."""
    serving = asyncio.ensure_future(page.serve())
    waiting = asyncio.ensure_future(stopped)
    try:
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        page.stop()
        waiting.cancel()
        await serving
