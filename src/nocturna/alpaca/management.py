"""The Alpaca Management API: supported API versions, description, configured devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nocturna import __version__
from nocturna.alpaca.registry import ServedDevice

API_VERSIONS = [1]


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What ``/management/v1/description`` and the setup page say about the server."""

    server_name: str
    location: str = ""
    manufacturer: str = "nocturna"
    manufacturer_version: str = __version__

    def description(self) -> dict[str, str]:
        return {"ServerName": self.server_name, "Manufacturer": self.manufacturer,
                "ManufacturerVersion": self.manufacturer_version, "Location": self.location}


def configured_devices(served: list[ServedDevice]) -> list[dict[str, Any]]:
    return [{"DeviceName": item.device.name, "DeviceType": item.device_type,
             "DeviceNumber": item.number, "UniqueID": item.unique_id} for item in served]


def value_for(path: str, info: ServerInfo, served: list[ServedDevice]) -> Any | None:
    """The ``Value`` of a management path, or None if the path is not one."""
    if path == "/management/apiversions":
        return API_VERSIONS
    if path == "/management/v1/description":
        return info.description()
    if path == "/management/v1/configureddevices":
        return configured_devices(served)
    return None
