"""Starting the configuration service: blocking (CLI) or in a background thread."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from nocturna.configserver.app import ConfigService, create_app
from nocturna.core.config import Config
from nocturna.core.errors import ConfigError, NocturnaError
from nocturna.core.listen import bind, is_loopback, loop_factory

log = logging.getLogger(__name__)


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"config_server.host = {host!r}: listening beyond this machine requires a token "
            "(--token or config_server.token), since a set changes the live configuration"
        )


def _uvicorn_server(service: ConfigService):  # type: ignore[no-untyped-def]
    import uvicorn

    config = uvicorn.Config(
        create_app(service), loop="none", http="auto", log_level="warning",
        access_log=False, lifespan="on", timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


def serve(
    config: Config, *, host: str = "127.0.0.1", port: int = 6563, save: bool = True,
    token: str | None = None,
) -> None:
    """Run the service in the foreground until interrupted (Ctrl-C / SIGTERM)."""
    check_exposure(host, token)
    sock = bind(host, port)
    service = ConfigService(config, save=save, token=token)
    server = _uvicorn_server(service)
    log.warning("config service listening", extra={"url": f"http://{host}:{port}"})
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(server.serve(sockets=[sock]))


@dataclass
class ServiceThread:
    """A config service running in a background thread; ``stop()`` ends it."""

    service: ConfigService
    host: str
    port: int
    _server: object = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout)

    def __enter__(self) -> ServiceThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(
    config: Config, *, host: str = "127.0.0.1", port: int = 0, save: bool = True,
    token: str | None = None, save_delay: float = 0.2, startup_timeout: float = 10.0,
    new_loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> ServiceThread:
    """Start the service on ``host:port`` (0 = a free port) and wait until it is up.

    ``new_loop`` makes its event loop: by default the one ``nocturna config serve``
    runs on (uvloop when installed).
    """
    check_exposure(host, token)
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    service = ConfigService(config, save=save, token=token, save_delay=save_delay)
    server = _uvicorn_server(service)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with asyncio.Runner(loop_factory=new_loop or loop_factory()) as loop_runner:
                loop_runner.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"config-service:{actual_port}", daemon=True)
    thread.start()
    deadline = threading.Event()
    for _ in range(int(startup_timeout / 0.01)):
        if server.started or failure or not thread.is_alive():
            break
        deadline.wait(0.01)
    if not server.started:
        server.should_exit = True
        raise NocturnaError(f"config service did not start: {failure[0] if failure else 'timeout'}")
    return ServiceThread(service, host, actual_port, server, thread)
