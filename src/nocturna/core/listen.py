"""Listening for network clients: loopback checks, listening sockets, the event loop.

Shared by nocturna's servers (configuration service, Alpaca, azcam, image server).
The listening socket is created with ``IPPROTO_TCP`` explicitly: asyncio only sets
TCP_NODELAY on sockets whose protocol says TCP, and without it every response stalls
~40 ms (Nagle and delayed ACKs).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import socket
from collections.abc import Callable

from nocturna.core.errors import InvalidValueError, NocturnaError


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool, protocol: str,
               risk: str = "command the hardware") -> None:
    """Refuse to listen beyond this machine unless explicitly allowed: ``protocol`` has
    no authentication, so anyone who reaches the address could do ``risk``."""
    if not is_loopback(host) and not allow_remote:
        raise InvalidValueError(
            f"--host {host}: {protocol} has no authentication, so anyone who reaches this "
            f"address could {risk}; pass --allow-remote to accept that, or keep the "
            "default 127.0.0.1")


def bind(host: str, port: int) -> socket.socket:
    """A listening, non-blocking TCP socket (port 0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NocturnaError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop when installed (faster), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


async def until_stopped() -> None:
    """Wait for SIGINT or SIGTERM (Ctrl-C, a service manager stopping the process)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
