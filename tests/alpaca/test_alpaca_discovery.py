"""Alpaca discovery: alpyca's own search finds nocturna's server; the responder answers
only discovery requests and shares its port with other Alpaca devices."""

from __future__ import annotations

import asyncio
import json
import socket

import alpaca.discovery
import pytest
from alpaca_server_helpers import fast_mount, free_udp_port, unit

from nocturna.alpaca.discovery import DiscoveryResponder
from nocturna.alpaca.runner import start_in_thread


def test_alpyca_search_ipv4_finds_the_server(monkeypatch):
    port = free_udp_port()
    monkeypatch.setattr(alpaca.discovery, "port", port)
    with start_in_thread(unit(mount=fast_mount()), discovery_port=port) as running:
        assert running.discovery_port == port
        found = alpaca.discovery.search_ipv4(numquery=1, timeout=0.4)
    assert f"127.0.0.1:{running.port}" in found


def _ask(port: int, message: bytes, address: str = "127.0.0.1",
         wait_s: float = 1.0) -> list[tuple[dict, str]]:
    """Send ``message`` to ``address:port``; the replies received within ``wait_s``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(wait_s)
        sock.sendto(message, (address, port))
        replies = []
        try:
            while True:
                data, sender = sock.recvfrom(1024)
                replies.append((json.loads(data), sender[0]))
        except TimeoutError:
            return replies


async def test_the_responder_answers_discovery_requests_only():
    responder = DiscoveryResponder(4321, port=0)
    await responder.start()
    try:
        replies = await asyncio.to_thread(_ask, responder.port, b"alpacadiscovery1")
        assert replies == [({"AlpacaPort": 4321}, "127.0.0.1")]
        assert await asyncio.to_thread(_ask, responder.port, b"hello", wait_s=0.3) == []
        assert await asyncio.to_thread(_ask, responder.port, b"alpacadiscovery", wait_s=0.3) \
            == []
    finally:
        await responder.stop()


async def test_servers_share_the_discovery_port_and_answer_loopback_broadcasts():
    first = DiscoveryResponder(1111, port=0)
    await first.start()
    second = DiscoveryResponder(2222, port=first.port)
    try:
        await second.start()
        replies = await asyncio.to_thread(_ask, first.port, b"alpacadiscovery1",
                                          "127.255.255.255")
        assert sorted(reply["AlpacaPort"] for reply, _ in replies) == [1111, 2222]
        assert {sender for _, sender in replies} == {"127.0.0.1"}
    finally:
        await second.stop()
        await first.stop()


async def test_a_responder_for_another_address_listens_on_every_interface():
    responder = DiscoveryResponder(5555, port=0, loopback=False)
    await responder.start()
    try:
        replies = await asyncio.to_thread(_ask, responder.port, b"alpacadiscovery1")
        assert [reply for reply, _ in replies] == [{"AlpacaPort": 5555}]
    finally:
        await responder.stop()


def test_a_discovery_port_that_cannot_be_opened_stops_the_start():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))  # no SO_REUSEADDR: nobody can share it
        port = holder.getsockname()[1]
        with pytest.raises(Exception, match=f"UDP port {port}"):
            start_in_thread(unit(mount=fast_mount()), discovery_port=port)
