"""``GET /api/status`` without FastAPI's routing: the board's bytes, straight out.

The status is polled often (dashboards, ``nocturna status --watch``, scripts), and
its answer is already JSON bytes made by the unit's loop. An authorized request is
answered here, in plain ASGI; anything else (no or a wrong token, another path or
method) goes on to the app, which answers as usual (401, 403, ...). The route stays
in the app for the OpenAPI description.
"""

from __future__ import annotations

from typing import Any

from nocturna.api.auth import AuthError, TokenBook

PATH = "/api/status"
BEARER = b"bearer "


class StatusFastPath:
    """ASGI middleware answering authorized ``GET /api/status`` requests itself."""

    def __init__(self, app: Any, *, tokens: TokenBook, link: Any) -> None:
        self.app = app
        self.tokens = tokens
        self.link = link

    def _allowed(self, headers: list[tuple[bytes, bytes]]) -> bool:
        token = None
        for name, value in headers:
            if name == b"authorization":
                if value[:7].lower() != BEARER:
                    return False
                token = value[7:].decode("latin-1").strip()
        try:
            self.tokens.authorize(token, "viewer")
        except AuthError:
            return False
        return True

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "GET" \
                or not self._allowed(scope["headers"]):
            await self.app(scope, receive, send)
            return
        body = self.link.status_bytes
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
