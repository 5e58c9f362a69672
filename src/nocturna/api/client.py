"""A small client of a running unit's API, for the CLI (standard library only).

Errors are one line naming the URL: a unit that does not answer is
:class:`UnitUnreachableError`; an answer other than 2xx is :class:`ApiError` with the
unit's ``detail`` (and ``reason`` for a refused command).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from nocturna.core.errors import NocturnaError

TOKEN_VARIABLE = "NOCTURNA_TOKEN"
TIMEOUT_S = 10.0


class UnitUnreachableError(NocturnaError):
    """No unit answers at the URL."""


class ApiError(NocturnaError):
    """The unit answered with an error (``status``; ``reason`` for a refused command)."""

    def __init__(self, status: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


@dataclass
class UnitClient:
    """The API of the unit at ``url`` (``http://host:port``), with an optional token."""

    url: str
    token: str | None = None
    timeout_s: float = TIMEOUT_S

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")
        if self.token is None:
            self.token = os.environ.get(TOKEN_VARIABLE) or None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer of ``method path``."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise self._error(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            why = getattr(exc, "reason", exc)
            raise UnitUnreachableError(f"no unit answers at {self.url} ({why}): is "
                                       "'nocturna run' running with its API on, and is the "
                                       "URL right (--url)?") from None

    def _error(self, exc: urllib.error.HTTPError) -> ApiError:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        detail = body.get("detail") if isinstance(body, dict) else None
        if not isinstance(detail, str):
            detail = json.dumps(detail) if detail is not None else exc.reason
        if exc.code == 401:
            detail += f" (give a token with --token or {TOKEN_VARIABLE})"
        return ApiError(exc.code, f"{self.url}: HTTP {exc.code}: {detail}",
                        body.get("reason") if isinstance(body, dict) else None)

    def status(self) -> dict[str, Any]:
        return self.request("GET", "/api/status")

    def command(self, name: str, body: Any = None) -> dict[str, Any]:
        """Send an operator command (``park``, ``pause``, ...); its result."""
        return self.request("POST", f"/api/{name}", body)
