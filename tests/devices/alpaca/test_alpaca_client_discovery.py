"""Discovery of Alpaca servers (UDP broadcast) and the management API."""

from __future__ import annotations

import asyncio
import json
import socket
from types import SimpleNamespace

import pytest

from nocturna.core.errors import NocturnaError
from nocturna.devices.alpaca import discovery
from nocturna.devices.alpaca.discovery import (
    ConfiguredDevice,
    ServerDescription,
    api_versions,
    configured_devices,
    discover,
    find_devices,
    server_description,
)


class Responder(asyncio.DatagramProtocol):
    """An Alpaca discovery responder: answers ``alpacadiscovery1`` with ``reply``."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.queries = 0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        if data.startswith(b"alpacadiscovery1"):
            self.queries += 1
            self.transport.sendto(self.reply, addr)


async def responder(reply: bytes, port: int = 0) -> tuple[asyncio.DatagramTransport, int,
                                                           Responder]:
    """A responder on loopback's broadcast address (it hears broadcasts there only)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((discovery.LOOPBACK_BROADCAST, port))
    transport, protocol = await loop.create_datagram_endpoint(lambda: Responder(reply),
                                                              sock=sock)
    return transport, sock.getsockname()[1], protocol


def alpaca_port(n: int) -> bytes:
    return json.dumps({"AlpacaPort": n}).encode()


async def test_discover_finds_a_server_by_loopback_broadcast_once():
    transport, port, protocol = await responder(alpaca_port(4567))
    try:
        found = await discover(port, timeout_s=0.3)
    finally:
        transport.close()
    assert found == ["127.0.0.1:4567"]
    assert protocol.queries == 2  # asked twice (UDP may lose one), listed once


async def test_discover_lists_every_server_sharing_the_discovery_port():
    first, port, _ = await responder(alpaca_port(1111))
    second, _, _ = await responder(alpaca_port(2222), port)
    try:
        found = await discover(port, timeout_s=0.3)
    finally:
        first.close()
        second.close()
    assert sorted(found) == ["127.0.0.1:1111", "127.0.0.1:2222"]


@pytest.mark.parametrize("reply", [b"not json", b'{"port": 1}', b'{"AlpacaPort": "x"}',
                                   b'{"AlpacaPort": 0}', b"[1]"])
async def test_malformed_discovery_replies_are_ignored(reply):
    transport, port, _ = await responder(reply)
    try:
        assert await discover(port, timeout_s=0.2, attempts=1) == []
    finally:
        transport.close()


async def test_discover_without_servers_is_empty():
    transport, port, _ = await responder(b"")
    transport.close()  # nobody listens on that port now
    assert await discover(port, timeout_s=0.1, attempts=1) == []


def test_broadcast_goes_to_every_ipv4_interface_but_link_local(monkeypatch):
    def ip(address, prefix):
        return SimpleNamespace(ip=address, network_prefix=prefix)

    adapters = [
        SimpleNamespace(ips=[ip("127.0.0.1", 8), ip(("::1", 0, 0), 128)]),
        SimpleNamespace(ips=[ip("192.168.1.20", 24), ip("10.1.2.3", 8)]),
        SimpleNamespace(ips=[ip("169.254.7.9", 16)]),
    ]
    monkeypatch.setattr(discovery.ifaddr, "get_adapters", lambda: adapters)
    assert discovery.broadcast_addresses() == ["10.255.255.255", "127.255.255.255",
                                               "192.168.1.255"]


def management(fake):
    def reply(seen):
        values = {
            "/management/apiversions": [1],
            "/management/v1/description": {
                "ServerName": "Rooftop", "Manufacturer": "Acme",
                "ManufacturerVersion": "2.1", "Location": "Mauna Kea"},
            "/management/v1/configureddevices": [
                {"DeviceName": "Main camera", "DeviceType": "Camera", "DeviceNumber": 0,
                 "UniqueID": "7f1e-aa"},
                {"DeviceName": "Mount", "DeviceType": "Telescope", "DeviceNumber": 2,
                 "UniqueID": "c0ffee"}],
        }
        return fake.ok(seen, values[seen.path])

    fake.reply = reply


async def test_the_management_api_describes_the_server(fake_alpaca):
    management(fake_alpaca)
    assert await api_versions(fake_alpaca.address) == [1]
    assert await server_description(fake_alpaca.address) == ServerDescription(
        "Rooftop", "Acme", "2.1", "Mauna Kea")
    assert await configured_devices(fake_alpaca.address) == [
        ConfiguredDevice("Main camera", "camera", 0, "7f1e-aa"),
        ConfiguredDevice("Mount", "telescope", 2, "c0ffee")]
    assert all("ClientTransactionID" in r.query for r in fake_alpaca.requests)


async def test_a_malformed_device_list_is_an_error(fake_alpaca):
    fake_alpaca.reply = lambda seen: fake_alpaca.ok(seen, [{"DeviceName": "x"}])
    with pytest.raises(NocturnaError, match="malformed configured device"):
        await configured_devices(fake_alpaca.address)


async def test_find_devices_discovers_servers_and_lists_their_devices(fake_alpaca):
    management(fake_alpaca)
    http_port = int(fake_alpaca.address.rsplit(":", 1)[1])
    transport, port, _ = await responder(alpaca_port(http_port))
    try:
        found = await find_devices(port, timeout_s=0.3)
    finally:
        transport.close()
    assert list(found) == [fake_alpaca.address]
    assert [d.device_type for d in found[fake_alpaca.address]] == ["camera", "telescope"]
