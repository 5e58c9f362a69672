"""The FastAPI application of a running unit.

``/api/...``: the endpoints (:mod:`.reads`, :mod:`.frames`, :mod:`.commands`, and
``/api/events`` here); ``/openapi.json`` and ``/docs`` (Swagger UI served from the
package's own files, so it works with no internet); ``/`` the dashboard page and
``/static/...`` its files (``nocturna/api/static``). CORS headers only for the
configured origins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from nocturna import __version__
from nocturna.api import commands, frames, reads
from nocturna.api.access import Viewer
from nocturna.api.auth import TokenBook
from nocturna.api.encoding import json_response
from nocturna.api.events import Broadcaster
from nocturna.api.fastpath import StatusFastPath
from nocturna.api.link import UnitGoneError, UnitLink, UnitTimeoutError
from nocturna.api.sky import SkyCharts
from nocturna.core.config.local_only import LocalOnlyKeyError
from nocturna.core.errors import (
    CommandRefused,
    ConfigError,
    ConfigKeyError,
    InvalidValueError,
    StorageError,
)

STATIC = Path(__file__).parent / "static"
PLACEHOLDER = ("<!doctype html><title>nocturna</title><h1>nocturna</h1>"
               "<p>The dashboard is not installed. The API: <a href='/docs'>/docs</a>.</p>")

DESCRIPTION = """The running unit's API. Read with a viewer (or operator) token, command
with an operator token: `Authorization: Bearer <token>` (tokens are made with
`nocturna api token`). 401: missing or wrong token; 403: the wrong role (or a
local-only configuration key). Commands answer 202 when accepted and 409
`{detail, reason}` when the unit refuses them (reason: unsafe, daylight, fault, state,
invalid)."""


def _errors(app: FastAPI) -> None:
    """Typed nocturna errors → HTTP answers ``{detail[, reason]}``."""

    def answer(status: int, **body: Any) -> Any:
        return lambda request, exc: json_response({"detail": str(exc), **body}, status)

    def refused(request: Request, exc: Exception) -> Response:
        return json_response({"detail": str(exc), "reason": exc.category}, 409)  # type: ignore[attr-defined]

    app.add_exception_handler(CommandRefused, refused)
    app.add_exception_handler(UnitGoneError, refused)
    app.add_exception_handler(LocalOnlyKeyError, answer(403))
    app.add_exception_handler(ConfigKeyError, answer(404))
    app.add_exception_handler(ConfigError, answer(422))
    app.add_exception_handler(InvalidValueError, answer(400))
    app.add_exception_handler(UnitTimeoutError, answer(504))
    app.add_exception_handler(StorageError, answer(503))


def create_app(link: UnitLink, tokens: TokenBook, *, broadcaster: Broadcaster | None = None,
               cors_origins: list[str] | None = None) -> FastAPI:
    """The app serving ``link``'s unit to the holders of ``tokens``."""
    app = FastAPIOffline(title=f"nocturna unit {link.unit.name}", version=__version__,
                         description=DESCRIPTION, redoc_url=None,
                         static_url="/docs-files")
    app.state.link = link
    app.state.tokens = tokens
    app.state.broadcaster = broadcaster or Broadcaster()
    app.state.charts = SkyCharts(link.unit, link.started)
    _errors(app)
    app.add_middleware(StatusFastPath, tokens=tokens, link=link)  # inside CORS
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=cors_origins,
                           allow_methods=["GET", "POST", "PUT"],
                           allow_headers=["Authorization", "Content-Type"])
    app.include_router(reads.router)
    app.include_router(frames.router)
    app.include_router(commands.router)

    @app.get("/api/events", tags=["read"], response_class=StreamingResponse,
             summary="Live events (Server-Sent Events): transitions, frames, safety, ...",
             responses={200: {"content": {"text/event-stream": {}}}})
    async def events(who: Viewer, request: Request) -> StreamingResponse:
        stream = request.app.state.broadcaster.stream()
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    @app.get("/", include_in_schema=False)
    async def dashboard() -> Response:
        page = STATIC / "index.html"
        return FileResponse(page) if page.is_file() else HTMLResponse(PLACEHOLDER)

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    return app
