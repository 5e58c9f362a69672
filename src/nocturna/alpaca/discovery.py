"""The Alpaca discovery responder (UDP, IPv4).

A datagram starting with ``alpacadiscovery1`` is answered, to its sender, with
``{"AlpacaPort": N}``; anything else is ignored. Sockets are opened with
SO_REUSEADDR and SO_REUSEPORT so several Alpaca devices on one machine share the
discovery port, and no privileges are needed (the default port 32227 is above 1024).

Bound to loopback, the server answers only this machine: on Linux a socket bound to
127.0.0.1 receives unicast but not the broadcast to 127.255.255.255 that clients
(alpyca's ``search_ipv4``) send on the loopback interface, so a second socket bound
to 127.255.255.255 receives those, and every reply leaves from the 127.0.0.1 socket.
Bound to any other address, one socket on all interfaces receives both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from nocturna.devices.alpaca import DISCOVERY_MESSAGE, DISCOVERY_PORT, LOOPBACK_BROADCAST

log = logging.getLogger(__name__)



def _udp_socket(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, reply: bytes, via: list[asyncio.DatagramTransport]) -> None:
        self.reply = reply
        self.via = via  # the transport replies leave from (set once it exists)
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.startswith(DISCOVERY_MESSAGE):
            return
        transport = self.via[0] if self.via else self.transport
        if transport is not None:
            transport.sendto(self.reply, addr)
            log.debug("discovery request from %s:%d answered", *addr[:2])

    def error_received(self, exc: Exception) -> None:
        log.debug("discovery socket error: %s", exc)


class DiscoveryResponder:
    """Answers Alpaca discovery requests for an Alpaca server on ``alpaca_port``."""

    def __init__(self, alpaca_port: int, *, port: int = DISCOVERY_PORT,
                 loopback: bool = True) -> None:
        self.alpaca_port = alpaca_port
        self.port = port
        self.loopback = loopback
        self._transports: list[asyncio.DatagramTransport] = []

    async def start(self) -> None:
        """Open the sockets (``port`` 0 picks a free one, then :attr:`port` says which)."""
        loop = asyncio.get_running_loop()
        reply = b'{"AlpacaPort":%d}' % self.alpaca_port
        via: list[asyncio.DatagramTransport] = []
        try:
            if self.loopback:
                unicast = _udp_socket("127.0.0.1", self.port)
                self.port = unicast.getsockname()[1]
                sockets = [unicast, _udp_socket(LOOPBACK_BROADCAST, self.port)]
            else:
                sockets = [_udp_socket("", self.port)]
                self.port = sockets[0].getsockname()[1]
        except OSError as exc:
            raise OSError(f"cannot listen for Alpaca discovery on UDP port {self.port}: "
                          f"{exc.strerror or exc}") from None
        for sock in sockets:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Responder(reply, via), sock=sock)
            self._transports.append(transport)
        via.append(self._transports[0])
        log.info("Alpaca discovery listening on UDP port %d", self.port)

    async def stop(self) -> None:
        for transport in self._transports:
            with contextlib.suppress(Exception):
                transport.close()
        self._transports.clear()
