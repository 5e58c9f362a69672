"""The HTML setup pages: ``/setup`` for the server, one per served device.

nocturna configures devices in its configuration files, so these pages show what is
served and how each device is (name, type, driver, connection, a status snapshot);
nothing is set through them. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

from nocturna.alpaca.management import ServerInfo
from nocturna.alpaca.registry import ServedDevice

_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #999;padding:.2em .6em;text-align:left}")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>").encode()


def _rows(pairs: list[tuple[Any, Any]]) -> str:
    return "".join(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>" for key, value in pairs)


def server_page(info: ServerInfo, served: list[ServedDevice]) -> bytes:
    devices = "".join(
        f'<tr><td><a href="/setup/v1/{_e(item.path)}/setup">{_e(item.device.name)}</a></td>'
        f"<td>{_e(item.device_type)}</td><td>{item.number}</td>"
        f"<td>{_e(item.device.driver_name)}</td>"
        f"<td>{'yes' if item.device.connected else 'no'}</td>"
        f"<td>{_e(item.unique_id)}</td></tr>" for item in served)
    body = (f"<h1>{_e(info.server_name)}</h1><table>"
            + _rows([("Manufacturer", info.manufacturer),
                     ("Version", info.manufacturer_version), ("Location", info.location)])
            + "</table><h2>Devices</h2><table><tr><th>name</th><th>type</th><th>number</th>"
            f"<th>driver</th><th>connected</th><th>UniqueID</th></tr>{devices}</table>"
            "<p>Devices are configured in nocturna's configuration files.</p>")
    return _page(f"{info.server_name} - Alpaca setup", body)


async def device_page(info: ServerInfo, item: ServedDevice) -> bytes:
    device = item.device
    try:
        status = await device.status()
        snapshot = [(key, value) for key, value in (status.get("state") or {}).items()]
        problem = ""
    except Exception as exc:  # the page still shows what is known
        snapshot, problem = [], f"<p>status unavailable: {_e(exc)}</p>"
    body = (f"<h1>{_e(device.name)}</h1><table>"
            + _rows([("Device type", item.device_type), ("Device number", item.number),
                     ("Description", device.description), ("Driver", device.driver_name),
                     ("Connected", "yes" if device.connected else "no"),
                     ("UniqueID", item.unique_id)])
            + "</table><h2>Status</h2>"
            + (f"<table>{_rows(snapshot)}</table>" if snapshot else "<p>not connected</p>")
            + problem
            + f'<p><a href="/setup">{_e(info.server_name)}</a>: this device is configured in '
              "nocturna's configuration files.</p>")
    return _page(f"{device.name} - Alpaca setup", body)


def not_found_page(path: str) -> bytes:
    return _page("not found", f"<p>{_e(path)} is not a setup page of this Alpaca device.</p>")
