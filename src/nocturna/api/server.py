"""The API server: uvicorn in a thread of its own, on its own real-time event loop.

:class:`ApiServer` checks the settings and binds its socket when it is made (a
refused setting or a busy port fails before the night starts), serves once
:meth:`ApiServer.attach` gives it the running unit (called on the unit's loop), and
:meth:`ApiServer.stop` ends it after the night. The night's loop is never the API's:
its time may be virtual, and HTTP parsing would slow the night.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from nocturna.api.auth import TokenBook, check_exposure
from nocturna.api.events import Broadcaster, EventBridge, LogForwarder
from nocturna.api.link import UnitLink
from nocturna.core.errors import NocturnaError
from nocturna.core.listen import bind, loop_factory

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 30.0
GRACEFUL_SHUTDOWN_S = 2.0


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ApiServer:
    """The unit's API, bound but not yet serving (see the module docstring)."""

    def __init__(self, settings: Any, *, host: str | None = None, port: int | None = None,
                 new_loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
                 keep_alive_s: float | None = None) -> None:
        self.settings = settings
        self.host = host or settings.host
        check_exposure(self.host, settings.tokens, settings.open_viewer)
        self.tokens = TokenBook(settings.tokens, open_viewer=settings.open_viewer)
        self._sock: socket.socket | None = bind(self.host, settings.port if port is None
                                                else port)
        self.port: int = self._sock.getsockname()[1]
        self._new_loop = new_loop or loop_factory()
        self.broadcaster = Broadcaster() if keep_alive_s is None else Broadcaster(keep_alive_s)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.link: UnitLink | None = None
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None
        self._bridge = EventBridge(self.broadcaster)
        self._log_forwarder = LogForwarder(self._bridge)

    @property
    def url(self) -> str:
        return url_of(self.host, self.port)

    def attach(self, unit: Any, control: Any) -> None:
        """Serve ``unit`` (call on the unit's loop, before the night runs)."""
        self.link = UnitLink(control, unit, asyncio.get_running_loop(), unit.clock.now())
        control.board.api_url = self.url  # a fleet page links the unit's dashboard
        self._serve(self.link)
        self._bridge.tap(unit.events)

    def _serve(self, link: UnitLink) -> None:
        import uvicorn

        from nocturna.api.app import create_app

        app = create_app(link, self.tokens, broadcaster=self.broadcaster,
                         cors_origins=list(self.settings.cors_origins))
        config = uvicorn.Config(app, loop="none", http="auto", ws="none", lifespan="off",
                                access_log=False, log_level="warning", timeout_keep_alive=30,
                                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
                                server_header=False, headers=[("server", "nocturna")])
        server = uvicorn.Server(config)
        sock = self._sock
        assert sock is not None
        failure: list[BaseException] = []
        ready = threading.Event()

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self._bridge.start()
            ready.set()
            await server.serve(sockets=[sock])

        def run() -> None:
            try:
                with asyncio.Runner(loop_factory=self._new_loop) as runner:
                    runner.run(main())
            except BaseException as exc:  # reported to the thread that started it
                failure.append(exc)
            finally:
                sock.close()
                ready.set()

        self._uvicorn = server
        self._thread = threading.Thread(target=run, name=f"nocturna-api:{self.port}",
                                        daemon=True)
        self._thread.start()
        waiter = threading.Event()
        for _ in range(int(STARTUP_TIMEOUT_S / 0.01)):
            if failure or not self._thread.is_alive() or server.started:
                break
            waiter.wait(0.01)
        if not server.started:
            server.should_exit = True
            self._thread.join(5.0)
            reason = failure[0] if failure else "timeout"
            raise NocturnaError(f"the API server did not start: {reason}")
        self._sock = None
        logging.getLogger("nocturna").addHandler(self._log_forwarder)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (any thread); the socket is closed even if it never served."""
        logging.getLogger("nocturna").removeHandler(self._log_forwarder)
        self._bridge.stop()
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
