"""What an INDI server serves, written as site-file entries (``nocturna indi list``).

Every INDI device defines ``DRIVER_INFO`` without being connected; its
``DRIVER_INTERFACE`` element is a bit mask of the kinds it is (libindi's
``DeviceInterface``). :func:`list_devices` asks a server for its properties and reads
them; :func:`site_fragment` maps the kinds to site keys (a light box or dust cap is a
cover calibrator; a weather station is both a ``weather`` and a ``safety_monitors``
entry) and writes one ``driver: indi`` entry per device and kind.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass

from nocturna.devices.indi.connection import acquire, parse_indi_address, release
from nocturna.devices.indi.properties import Vector
from nocturna.devices.indi.wire import Message
from nocturna.devices.site_entries import flow_entry, unique_name
from nocturna.devices.site_entries import site_fragment as entries_fragment

INTERFACES = {
    1: "TELESCOPE", 2: "CCD", 4: "GUIDER", 8: "FOCUSER", 16: "FILTER", 32: "DOME",
    64: "GPS", 128: "WEATHER", 256: "AO", 512: "DUSTCAP", 1024: "LIGHTBOX",
    2048: "DETECTOR", 4096: "ROTATOR", 8192: "SPECTROGRAPH", 16384: "CORRELATOR",
    32768: "AUX",
}
"""DRIVER_INTERFACE bit → libindi's name for it."""
SITE_KEYS = {
    "TELESCOPE": ("mount",), "CCD": ("cameras",), "FOCUSER": ("focusers",),
    "FILTER": ("filterwheels",), "DOME": ("dome",),
    "WEATHER": ("weather", "safety_monitors"), "DUSTCAP": ("cover_calibrators",),
    "LIGHTBOX": ("cover_calibrators",), "ROTATOR": ("rotators",),
}
"""INDI interface → the site keys of the nocturna drivers that serve it."""
KEY_ORDER = ("mount", "dome", "cameras", "focusers", "filterwheels", "rotators", "weather",
             "safety_monitors", "cover_calibrators")
SUFFIXES = {"mount": "mount", "dome": "dome", "cameras": "camera", "focusers": "focuser",
            "filterwheels": "wheel", "rotators": "rotator", "weather": "weather",
            "safety_monitors": "safety", "cover_calibrators": "calibrator"}
"""What a device's second and further entries add to its name (``ccd-simulator-wheel``)."""
QUIET_S = 0.5
"""The listing is complete once every device has DRIVER_INFO and no property has been
defined for this long."""


@dataclass(frozen=True)
class IndiDeviceKinds:
    """One device of an INDI server and the interfaces its DRIVER_INFO declares."""

    name: str
    interfaces: tuple[str, ...] | None
    """libindi's interface names; None when the device has no DRIVER_INFO."""
    program: str = ""

    @property
    def site_keys(self) -> tuple[str, ...]:
        """The site keys it can be entered under, most specific kind first."""
        keys = [key for interface in self.interfaces or () for key in SITE_KEYS.get(interface, ())]
        return tuple(dict.fromkeys(keys))


def interfaces(mask: int) -> tuple[str, ...]:
    """The interface names of a DRIVER_INTERFACE bit mask (unknown bits as numbers)."""
    return tuple(INTERFACES.get(bit, str(bit)) for bit in (1 << n for n in range(32))
                 if mask & bit)


def display_address(address: str) -> str:
    """``host:port`` with the default port filled in (``[v6]:port`` for IPv6)."""
    host, port = parse_indi_address(address, owner="--address")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def list_devices(address: str, timeout_s: float = 5.0) -> list[IndiDeviceKinds]:
    """The devices of the INDI server at ``address`` with their interfaces.

    :class:`~nocturna.devices.indi.connection.IndiConnectionError` if it does not answer
    within ``timeout_s`` real seconds; devices still without DRIVER_INFO when the time
    is up are listed with ``interfaces=None``. No device is connected or changed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    connection = acquire(address, own=True, label="indi list")
    last_definition = loop.time()

    def heard(message: Message, _vector: Vector | None) -> None:
        nonlocal last_definition
        if message.tag.startswith("def"):
            last_definition = loop.time()

    undo = connection.listen(heard)
    try:
        await connection.wait_up(timeout_s)
        last_definition = loop.time()
        while (left := deadline - loop.time()) > 0:
            devices = connection.store.devices
            complete = bool(devices) and all("DRIVER_INFO" in p for p in devices.values())
            quiet_left = last_definition + QUIET_S - loop.time()
            if complete and quiet_left <= 0:
                break
            await asyncio.sleep(min(left, max(quiet_left, 0.05)))
        return [_kinds(name, properties) for name, properties
                in sorted(connection.store.devices.items())]
    finally:
        undo()
        await release(connection)


def _kinds(name: str, properties: dict[str, Vector]) -> IndiDeviceKinds:
    info = properties.get("DRIVER_INFO")
    if info is None:
        return IndiDeviceKinds(name, None)
    values = info.values()
    try:
        mask = int(float(values.get("DRIVER_INTERFACE") or 0))
    except ValueError:
        mask = 0
    return IndiDeviceKinds(name, interfaces(mask), str(values.get("DRIVER_EXEC") or ""))


def entry_name(device: str) -> str:
    """A site-file name from an INDI device name (``"CCD Simulator"`` →
    ``ccd-simulator``)."""
    return re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-") or "indi"


def site_fragment(address: str, devices: list[IndiDeviceKinds]) -> str:
    """The devices as ``driver: indi`` site-file entries (YAML, ready to paste), with
    a comment line per device saying its interfaces. A device of several kinds gets an
    entry under each key; its first keeps the plain name, the others add the kind
    (``ccd-simulator``, ``ccd-simulator-wheel``)."""
    shown = display_address(address)
    comments = [f"INDI server {shown}: {len(devices)} device(s)"]
    groups: dict[str, list[str]] = {key: [] for key in KEY_ORDER}
    names: set[str] = set()
    for device in devices:
        if device.interfaces is None:
            comments.append(f"  {json.dumps(device.name)}: no DRIVER_INFO, kinds unknown")
            continue
        program = f" ({' '.join(device.program.split())})" if device.program else ""
        kinds = ", ".join(device.interfaces) or "none"
        none = "" if device.site_keys else " (no nocturna kind)"
        comments.append(f"  {json.dumps(device.name)}{program}: {kinds}{none}")
        base = entry_name(device.name)
        for index, key in enumerate(device.site_keys):
            wanted = base if index == 0 else f"{base}-{SUFFIXES[key]}"
            groups[key].append(flow_entry({"name": unique_name(wanted, names),
                                           "driver": "indi", "address": shown,
                                           "device": device.name}))
    return entries_fragment(comments, groups)
