"""Running the Alpaca server: in the foreground (CLI) or in a background thread (tests).

The server binds 127.0.0.1 by default. Alpaca has no authentication, so binding any
other address needs ``allow_remote=True`` (``--allow-remote``): the user's explicit
acceptance that anyone who reaches the port can move the hardware.

The listening socket is created here with ``IPPROTO_TCP`` so that TCP_NODELAY gets
set on every connection (without it each reply stalls ~40 ms on Nagle and delayed
ACKs), and uvloop runs the event loop when it is installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nocturna.alpaca.app import AlpacaApp
from nocturna.alpaca.discovery import DiscoveryResponder
from nocturna.alpaca.kinds import available_kinds, background
from nocturna.alpaca.management import ServerInfo
from nocturna.alpaca.registry import ServedDevice, serve_list
from nocturna.core import listen
from nocturna.core.errors import NocturnaError
from nocturna.core.listen import bind, is_loopback, loop_factory
from nocturna.devices.alpaca import DISCOVERY_PORT
from nocturna.devices.base import Device
from nocturna.devices.factory import DeviceSet

log = logging.getLogger(__name__)

DEFAULT_HTTP_PORT = 11111


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond this machine unless explicitly allowed."""
    listen.check_host(host, allow_remote, "Alpaca")


def _uvicorn_server(app: AlpacaApp) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """Stops on SIGINT/SIGTERM without re-raising them afterwards (so the caller
        disconnects its devices and exits normally)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            loop = asyncio.get_running_loop()
            signals = (signal.SIGINT, signal.SIGTERM)
            for sig in signals:
                loop.add_signal_handler(sig, self._on_signal)
            try:
                yield
            finally:
                for sig in signals:
                    loop.remove_signal_handler(sig)

        def _on_signal(self) -> None:
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True

    config = uvicorn.Config(app, loop="none", http="auto", ws="none", lifespan="off",
                            access_log=False, log_level="warning", timeout_keep_alive=30,
                            server_header=False, headers=[("server", "nocturna-alpaca")])
    return Server(config)


@dataclass
class AlpacaServer:
    """An Alpaca server for a set of devices, not yet running.

    ``connect``: connect the devices when the server starts and disconnect them when it
    stops (in the server's event loop), for devices nobody else manages.
    ``discovery_port``: None disables the discovery responder; 0 picks a free port.
    """

    devices: DeviceSet | dict[str, list[Device]]
    unit: str = "nocturna"
    location: str = ""
    host: str = "127.0.0.1"
    port: int = DEFAULT_HTTP_PORT
    discovery_port: int | None = DISCOVERY_PORT
    allow_remote: bool = False
    connect: bool = False
    served: list[ServedDevice] = field(init=False)
    app: AlpacaApp = field(init=False)
    discovery: DiscoveryResponder | None = field(init=False, default=None)
    _sock: socket.socket | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        check_host(self.host, self.allow_remote)
        kinds = available_kinds()
        self.served = serve_list(self.devices, self.unit, kinds)
        info = ServerInfo(server_name=self.unit, location=self.location)
        self.app = AlpacaApp(self.served, info, kinds=kinds)

    def listen(self) -> int:
        """Bind the HTTP socket now (fails fast); returns the port."""
        if self._sock is None:
            self._sock = bind(self.host, self.port)
            self.port = self._sock.getsockname()[1]
        return self.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def _start(self) -> None:
        """Connect the devices (with ``connect``) and open the discovery responder."""
        if self.connect:
            for item in self.served:
                await item.device.connect()
        if self.discovery_port is not None:
            self.discovery = DiscoveryResponder(self.port, port=self.discovery_port,
                                                loopback=is_loopback(self.host))
            try:
                await self.discovery.start()
            except OSError as exc:
                raise NocturnaError(str(exc)) from None
            self.discovery_port = self.discovery.port

    async def _stop(self) -> None:
        """Close discovery, cancel the devices' operations, disconnect (``connect``)."""
        if self.discovery is not None:
            await self.discovery.stop()
        for item in self.served:
            await background.cancel(item.device)
        if self.connect:
            for item in reversed(self.served):
                try:
                    await item.device.disconnect()
                except Exception as exc:
                    log.warning("%s did not disconnect cleanly: %s", item.device.name, exc)

    async def run(self, *, ready: Callable[[Any], None] | None = None) -> None:
        """Serve in the running event loop until stopped (SIGINT/SIGTERM in the main
        thread); ``ready(uvicorn_server)`` is called once the server object exists."""
        self.listen()
        sock = self._sock
        assert sock is not None
        server = _uvicorn_server(self.app)
        try:
            await self._start()
            if ready is not None:
                ready(server)
            await server.serve(sockets=[sock])
        finally:
            sock.close()
            self._sock = None
            await self._stop()
        if not server.started:
            raise NocturnaError("the Alpaca server did not start (see the log)")

    def serve(self) -> None:
        """Run in the foreground in a new event loop until interrupted."""
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(self.run())


@dataclass
class ServerThread:
    """An Alpaca server running in a background thread; ``stop()`` ends it."""

    server: AlpacaServer
    loop: asyncio.AbstractEventLoop  # the event loop serving (uvloop's or asyncio's)
    _uvicorn: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def discovery_port(self) -> int | None:
        return self.server.discovery_port

    def stop(self, timeout: float = 10.0) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_thread(devices: DeviceSet | dict[str, list[Device]], *, unit: str = "nocturna",
                    location: str = "", host: str = "127.0.0.1", port: int = 0,
                    discovery_port: int | None = None, allow_remote: bool = False,
                    connect: bool = True, startup_timeout: float = 30.0,
                    new_loop: Callable[[], asyncio.AbstractEventLoop] | None = None,
                    ) -> ServerThread:
    """Serve ``devices`` from a background thread (its own event loop) and wait until
    it answers. With ``connect`` the devices are connected in that loop (they must not
    be used from another loop then). ``new_loop``: the event loop factory (default:
    the one ``nocturna alpaca serve`` uses, uvloop's when installed)."""
    server = AlpacaServer(devices, unit=unit, location=location, host=host, port=port,
                          discovery_port=discovery_port, allow_remote=allow_remote,
                          connect=connect)
    server.listen()
    holder: list[Any] = []
    failure: list[BaseException] = []
    created = threading.Event()

    def ready(uvicorn_server: Any) -> None:
        holder.append((uvicorn_server, asyncio.get_running_loop()))
        created.set()

    def run() -> None:
        try:
            with asyncio.Runner(loop_factory=new_loop or loop_factory()) as runner:
                runner.run(server.run(ready=ready))
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)
        finally:
            created.set()

    thread = threading.Thread(target=run, name=f"alpaca-server:{server.port}", daemon=True)
    thread.start()
    created.wait(startup_timeout)
    waiter = threading.Event()
    for _ in range(int(startup_timeout / 0.01)):
        if failure or not thread.is_alive() or (holder and holder[0][0].started):
            break
        waiter.wait(0.01)
    if not holder or not holder[0][0].started:
        if holder:
            holder[0][0].should_exit = True
        thread.join(5.0)
        reason = failure[0] if failure else "timeout"
        raise NocturnaError(f"the Alpaca server did not start: {reason}")
    uvicorn_server, loop = holder[0]
    return ServerThread(server, loop, uvicorn_server, thread)
