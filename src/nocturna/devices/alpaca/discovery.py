"""Finding Alpaca servers on the network and what they serve.

:func:`discover` broadcasts ``alpacadiscovery1`` (UDP, port 32227 by default) to the
broadcast address of every IPv4 interface, loopback included (link-local 169.254/16
networks are skipped), and collects the ``{"AlpacaPort": N}`` replies as de-duplicated
``"host:port"`` addresses. The management API then says what a server is
(:func:`server_description`, :func:`api_versions`) and which devices it serves
(:func:`configured_devices`), and :func:`site_fragment` writes what was found as the
entries a site file takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ifaddr

from nocturna.core.errors import NocturnaError
from nocturna.devices.alpaca import (
    DISCOVERY_MESSAGE,
    DISCOVERY_PORT,
    LOOPBACK_BROADCAST,
    SITE_KEYS,
)
from nocturna.devices.alpaca.transport import lease
from nocturna.devices.site_entries import flow_entry, unique_name
from nocturna.devices.site_entries import site_fragment as entries_fragment

log = logging.getLogger(__name__)

_LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")



@dataclass(frozen=True)
class ServerDescription:
    """``/management/v1/description``: the server as a whole."""

    server_name: str
    manufacturer: str
    manufacturer_version: str
    location: str


@dataclass(frozen=True)
class ConfiguredDevice:
    """One entry of ``/management/v1/configureddevices``."""

    name: str
    device_type: str  # lower case, as in the device API's URLs ("telescope")
    device_number: int
    unique_id: str


def broadcast_addresses() -> list[str]:
    """The IPv4 broadcast address of every interface, loopback's included."""
    found = {LOOPBACK_BROADCAST}
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):  # IPv6 entries are tuples
                continue
            network = ipaddress.IPv4Network(f"{ip.ip}/{ip.network_prefix}", strict=False)
            if network.subnet_of(_LINK_LOCAL):
                continue
            found.add(str(network.broadcast_address))
    return sorted(found)


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.found: dict[str, None] = {}  # ordered set of "host:port"

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            port = json.loads(data)["AlpacaPort"]
        except (ValueError, TypeError, KeyError):
            log.debug("ignoring a discovery reply from %s: %r", addr[0], data[:100])
            return
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            log.debug("ignoring a discovery reply from %s: AlpacaPort %r", addr[0], port)
            return
        self.found.setdefault(f"{addr[0]}:{port}", None)

    def error_received(self, exc: Exception) -> None:
        log.debug("alpaca discovery: %s", exc)


async def discover(port: int = DISCOVERY_PORT, timeout_s: float = 2.0, *,
                   targets: Iterable[str] | None = None, attempts: int = 2) -> list[str]:
    """The ``"host:port"`` of every Alpaca server answering within ``timeout_s``.

    ``targets``: where to send the query (default: :func:`broadcast_addresses`; a
    unicast address works too). The query is sent ``attempts`` times, spread over
    the first half of the wait, as UDP may lose a datagram.
    """
    addresses = list(targets) if targets is not None else broadcast_addresses()
    loop = asyncio.get_running_loop()
    transport, collector = await loop.create_datagram_endpoint(
        _Collector, local_addr=("0.0.0.0", 0), allow_broadcast=True)
    try:
        gap = timeout_s / 2 / max(1, attempts)
        for attempt in range(max(1, attempts)):
            for address in addresses:
                try:
                    transport.sendto(DISCOVERY_MESSAGE, (address, port))
                except OSError as exc:  # e.g. an interface that went away
                    log.debug("alpaca discovery: cannot send to %s: %s", address, exc)
            await asyncio.sleep(gap if attempt + 1 < attempts else timeout_s - gap * attempt)
    finally:
        transport.close()
    return list(collector.found)


async def api_versions(address: str, *, timeout_s: float = 5.0) -> list[int]:
    """``/management/apiversions``: the Alpaca API versions the server supports."""
    async with lease(address) as client:
        value = await client.get("/management/apiversions", timeout_s=timeout_s)
    if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
        raise NocturnaError(f"Alpaca server {address}: apiversions answered {value!r}")
    return value


async def server_description(address: str, *, timeout_s: float = 5.0) -> ServerDescription:
    """``/management/v1/description``."""
    async with lease(address) as client:
        value = await client.get("/management/v1/description", timeout_s=timeout_s)
    if not isinstance(value, dict):
        raise NocturnaError(f"Alpaca server {address}: description answered {value!r}")
    return ServerDescription(str(value.get("ServerName", "")),
                             str(value.get("Manufacturer", "")),
                             str(value.get("ManufacturerVersion", "")),
                             str(value.get("Location", "")))


async def configured_devices(address: str, *,
                             timeout_s: float = 5.0) -> list[ConfiguredDevice]:
    """``/management/v1/configureddevices``: every device the server serves."""
    async with lease(address) as client:
        value = await client.get("/management/v1/configureddevices", timeout_s=timeout_s)
    if not isinstance(value, list):
        raise NocturnaError(f"Alpaca server {address}: configureddevices answered {value!r}")
    devices = []
    for entry in value:
        try:
            devices.append(ConfiguredDevice(
                name=str(entry["DeviceName"]), device_type=str(entry["DeviceType"]).lower(),
                device_number=int(entry["DeviceNumber"]), unique_id=str(entry["UniqueID"])))
        except (KeyError, TypeError, ValueError):
            raise NocturnaError(f"Alpaca server {address}: malformed configured device "
                                f"{entry!r}") from None
    return devices


async def find_devices(port: int = DISCOVERY_PORT, timeout_s: float = 2.0,
                       ) -> dict[str, list[ConfiguredDevice]]:
    """Discover servers and list each one's devices (servers that fail are left out)."""
    result: dict[str, list[ConfiguredDevice]] = {}
    for address in await discover(port, timeout_s):
        with contextlib.suppress(NocturnaError):
            result[address] = await configured_devices(address)
    return result


def site_fragment(found: dict[str, list[ConfiguredDevice]]) -> str:
    """The devices of every server as site file entries (YAML: paste it into a site
    file). Names are made unique across servers (``cam0``, ``cam0-2``); a second
    telescope or dome is left commented out, since a unit has one of each."""
    names: set[str] = set()
    groups: dict[str, list[str]] = {key: [] for key in SITE_KEYS.values()}
    for address, devices in found.items():
        for device in devices:
            key = SITE_KEYS.get(device.device_type)
            if key is None:
                continue
            name = unique_name(device.name or device.device_type, names)
            groups[key].append(flow_entry(
                {"name": name, "driver": "alpaca", "address": address,
                 "device_number": device.device_number}, f"UniqueID {device.unique_id}"))
    comments = [f"Alpaca server {address}: {len(devices)} device(s)"
                for address, devices in found.items()]
    return entries_fragment(comments, groups)
