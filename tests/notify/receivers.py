"""Real receivers on 127.0.0.1 for the notification tests: an HTTP server taking
webhooks (that can fail or hang on purpose) and an SMTP server (aiosmtpd).

Each runs on threads of its own, so it answers whatever the test's event loop does
(a simulated night runs on virtual time in the test's thread)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

WAIT_S = 60.0
"""The longest a test waits for something to arrive (a guard against hanging)."""
HOLD_S = 600.0
"""The longest a hanging receiver holds a request (it is released when the test ends)."""


class _Collected:
    """Things received, and a way to wait for them."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = threading.Condition()

    def add(self, item: Any) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout_s: float = WAIT_S) -> list[Any]:
        """The items once there are ``count`` of them (or after the guard time)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.items) >= count, timeout_s)
            return list(self.items)


class WebhookReceiver(_Collected):
    """An HTTP server recording every POST's path and JSON body.

    ``fail_first``: answer HTTP 500 to that many requests first. ``hang``: hold every
    request unanswered until :meth:`release` (it counts in :attr:`held` meanwhile).
    """

    def __init__(self, *, fail_first: int = 0, hang: bool = False) -> None:
        super().__init__()
        self.fail_first = fail_first
        self.hang = hang
        self.requests = 0
        self.held = 0
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests += 1
                if receiver.hang:
                    receiver.held += 1
                    receiver._released.wait(HOLD_S)
                    receiver.held -= 1
                if receiver.requests <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.add({"path": self.path, "json": json.loads(body),
                              "content_type": self.headers.get("Content-Type")})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def release(self) -> None:
        self._released.set()

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def notifications(self) -> list[dict[str, Any]]:
        """Every notification in every payload received (webhook kind)."""
        return [n for item in self.items for n in item["json"]["notifications"]]


class _Handler:
    def __init__(self, received: _Collected) -> None:
        self.received = received

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        self.received.add({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                           "message": message})
        return "250 OK"


class _BoundController(Controller):
    """aiosmtpd's controller on a socket already bound to a free port."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)
        self._sock = sock

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock,
                                       ssl=self.ssl_context)


class MailReceiver(_Collected):
    """An SMTP server (aiosmtpd) on a free port of 127.0.0.1, keeping every e-mail.

    ``auth``: require a login with this (user, password). ``tls``: a server SSL
    context; with ``security`` ``"starttls"`` the server requires STARTTLS (and the
    login only after it), with ``"ssl"`` it speaks TLS from the start.
    """

    def __init__(self, auth: tuple[str, str] | None = None, *, tls: ssl.SSLContext | None = None,
                 security: str = "plain") -> None:
        super().__init__()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.logins: list[str] = []
        options: dict[str, Any] = {}
        if auth is not None:
            def check(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> Any:
                from aiosmtpd.smtp import AuthResult, LoginPassword

                ok = isinstance(data, LoginPassword) and \
                    (data.login.decode(), data.password.decode()) == auth
                if ok:
                    self.logins.append(data.login.decode())
                return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535

            options = {"authenticator": check, "auth_required": True,
                       "auth_require_tls": security == "starttls"}
        if security == "starttls":
            options.update(tls_context=tls, require_starttls=True)
        elif security == "ssl":
            options["ssl_context"] = tls
        self.controller = _BoundController(_Handler(self), sock, **options)

    def __enter__(self) -> MailReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def messages(self) -> list[EmailMessage]:
        return [item["message"] for item in self.items]


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port of 127.0.0.1 that refuses connections (bound, never listening)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def kinds(notifications: list[dict[str, Any]]) -> list[str]:
    return [n["kind"] for n in notifications]

