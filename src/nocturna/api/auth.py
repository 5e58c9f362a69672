"""Bearer tokens and roles: who may read (viewer) and who may command (operator).

Tokens are stored as ``sha256:<hex>`` of the token in the site or local file
(``api.tokens``), never the token itself; :func:`new_token` makes one. A request's
token is hashed and compared with every stored hash in constant time. On loopback
``api.open_viewer`` lets requests without a token read (as ``anonymous``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from nocturna.core.errors import ConfigError
from nocturna.core.listen import is_loopback

ROLES = ("viewer", "operator")
"""Roles from least to most allowed: an operator may do everything a viewer may."""

TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    """The stored form of ``token``: ``sha256:<64 hex digits>``."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A new random token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(frozen=True)
class Principal:
    """Who sent a request: a token's name and role, or ``anonymous`` (open viewer)."""

    name: str
    role: str

    def may(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class AuthError(Exception):
    """A request without the right credentials: ``status`` 401 or 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class TokenBook:
    """The configured tokens (hashes) and whether viewers may go without one."""

    def __init__(self, tokens: list[Any], *, open_viewer: bool = False) -> None:
        self._entries = [(token.hash.encode(), Principal(token.name, token.role))
                         for token in tokens]
        self.open_viewer = open_viewer

    def __len__(self) -> int:
        return len(self._entries)

    def identify(self, token: str | None) -> Principal | None:
        """The principal of ``token`` (None: no token); AuthError(401) if unknown."""
        if not token:
            return None
        given = hash_token(token).encode()
        found = None
        for stored, principal in self._entries:  # every entry: the time does not tell
            if hmac.compare_digest(given, stored):
                found = principal
        if found is None:
            raise AuthError(401, "wrong token")
        return found

    def authorize(self, token: str | None, role: str) -> Principal:
        """The principal allowed to act as ``role``; AuthError 401/403 otherwise."""
        principal = self.identify(token)
        if principal is None:
            if role == "viewer" and self.open_viewer:
                return Principal("anonymous", "viewer")
            raise AuthError(401, "missing token (Authorization: Bearer <token>)")
        if not principal.may(role):
            raise AuthError(403, f"token {principal.name!r} has the role {principal.role}; "
                                 f"this needs {role}")
        return principal


def check_exposure(host: str, tokens: list[Any], open_viewer: bool) -> None:
    """Refuse settings that would open the unit beyond this machine (ConfigError)."""
    if is_loopback(host):
        return
    if not tokens:
        raise ConfigError(f"api.host = {host!r}: the API beyond this machine needs tokens "
                          "(api.tokens; make one with 'nocturna api token'), or keep "
                          "127.0.0.1, or run with --no-api")
    if open_viewer:
        raise ConfigError(f"api.open_viewer is allowed only on loopback, not on {host!r}: "
                          "set it to false or keep api.host 127.0.0.1")
