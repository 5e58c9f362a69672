"""Starting the configuration service: blocking (CLI) or in a background thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from nocturna.configserver.app import ConfigService, create_app
from nocturna.configserver.httpserver import HttpServer
from nocturna.configserver.request_body import MAX_BODY_BYTES
from nocturna.core.config import Config
from nocturna.core.errors import ConfigError, NocturnaError
from nocturna.core.listen import bind, is_loopback, loop_factory, until_stopped

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 30.0  # an idle keep-alive connection is closed after this


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"config_server.host = {host!r}: listening beyond this machine requires a token "
            "(--token or config_server.token), since a set changes the live configuration"
        )


async def run_service(service: ConfigService, sock: socket.socket, until: asyncio.Future[object],
                      started: Callable[[], None] | None = None,
                      idle_timeout: float = IDLE_TIMEOUT_S) -> None:
    """Serve ``service`` on ``sock`` until ``until`` completes; then write pending saves."""
    server = HttpServer(create_app(service), MAX_BODY_BYTES, idle_timeout)
    try:
        await server.serve(sock, until, started)
    finally:
        await service.flush()


def serve(
    config: Config, *, host: str = "127.0.0.1", port: int = 6563, save: bool = True,
    token: str | None = None,
) -> None:
    """Run the service in the foreground until interrupted (Ctrl-C / SIGTERM)."""
    check_exposure(host, token)
    sock = bind(host, port)
    service = ConfigService(config, save=save, token=token)
    log.warning("config service listening", extra={"url": f"http://{host}:{port}"})

    async def main() -> None:
        stopped = asyncio.ensure_future(until_stopped())
        await run_service(service, sock, stopped)

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main())


@dataclass
class ServiceThread:
    """A config service running in a background thread; ``stop()`` ends it."""

    service: ConfigService
    host: str
    port: int
    _stop: Callable[[], None] = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, write pending saves, and wait for the thread to end."""
        self._stop()
        self._thread.join(timeout)

    def __enter__(self) -> ServiceThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    config: Config, *, host: str = "127.0.0.1", port: int = 0, save: bool = True,
    token: str | None = None, save_delay: float = 0.2, startup_timeout: float = 10.0,
    new_loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
    idle_timeout: float = IDLE_TIMEOUT_S,
) -> ServiceThread:
    """Start the service on ``host:port`` (0 = a free port) and wait until it is up.

    ``new_loop`` makes its event loop: by default the one ``nocturna config serve``
    runs on (uvloop when installed).
    """
    check_exposure(host, token)
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    service = ConfigService(config, save=save, token=token, save_delay=save_delay)
    up = threading.Event()
    failure: list[BaseException] = []
    handles: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[object]]] = []

    async def main() -> None:
        until = asyncio.get_running_loop().create_future()
        handles.append((asyncio.get_running_loop(), until))
        await run_service(service, sock, until, up.set, idle_timeout)

    def run() -> None:
        try:
            with asyncio.Runner(loop_factory=new_loop or loop_factory()) as loop_runner:
                loop_runner.run(main())
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)
        finally:
            sock.close()
            up.set()

    def stop() -> None:
        for loop, until in handles:
            if not loop.is_closed():
                loop.call_soon_threadsafe(lambda f=until: f.done() or f.set_result(None))

    thread = threading.Thread(target=run, name=f"config-service:{actual_port}", daemon=True)
    thread.start()
    if not up.wait(startup_timeout) or failure or not thread.is_alive():
        stop()
        reason = failure[0] if failure else "timeout"
        raise NocturnaError(f"config service did not start: {reason}")
    return ServiceThread(service, host, actual_port, stop, thread)
