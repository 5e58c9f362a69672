"""FastAPI dependencies: the unit link, and who the request is from (viewer/operator)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nocturna.api.auth import AuthError, Principal, TokenBook
from nocturna.api.link import UnitLink

bearer = HTTPBearer(auto_error=False, description="a token made with 'nocturna api token'")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _authorize(request: Request, credentials: HTTPAuthorizationCredentials | None,
               role: str) -> Principal:
    book: TokenBook = request.app.state.tokens
    header = request.headers.get("authorization")
    if header is not None and credentials is None:  # present, but not "Bearer <token>"
        raise HTTPException(401, "the Authorization header must be 'Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        return book.authorize(credentials.credentials if credentials else None, role)
    except AuthError as exc:
        raise HTTPException(exc.status, str(exc),
                            headers={"WWW-Authenticate": "Bearer"} if exc.status == 401
                            else None) from None


def as_viewer(request: Request, credentials: Credentials) -> Principal:
    return _authorize(request, credentials, "viewer")


def as_operator(request: Request, credentials: Credentials) -> Principal:
    return _authorize(request, credentials, "operator")


def unit_link(request: Request) -> UnitLink:
    return request.app.state.link


Viewer = Annotated[Principal, Depends(as_viewer)]
Operator = Annotated[Principal, Depends(as_operator)]
Link = Annotated[UnitLink, Depends(unit_link)]


def client_address(request: Request) -> str | None:
    client: Any = request.client
    return None if client is None else f"{client.host}:{client.port}"
