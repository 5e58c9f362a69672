"""``nocturna indi list``: the devices of an INDI server, as site-file entries."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from nocturna.cli.output import console
from nocturna.core.errors import ConfigError, InvalidValueError

app = typer.Typer(help="INDI: find the devices an INDI server offers.")


@app.command("list")
def list_devices(
    address: Annotated[str, typer.Option(
        "--address", metavar="HOST[:PORT]",
        help="The INDI server (port 7624 if none is given).")] = "127.0.0.1:7624",
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.1, help="Seconds to wait for the server and its devices.")] = 5.0,
) -> None:
    """Ask an INDI server for its devices and print them as site-file entries
    (``mount``, ``cameras``, ... with ``driver: indi``), ready to paste into a site
    file. No device is connected or changed."""
    from nocturna.devices.indi.discovery import display_address, list_devices, site_fragment

    try:
        shown = display_address(address)
    except ConfigError:
        raise InvalidValueError(f"--address: expected HOST[:PORT] of an INDI server (a port "
                                f"in 1..65535), got {address!r}") from None
    found = asyncio.run(list_devices(address, timeout))
    if not found:
        console.print(f"INDI server {shown} offers no device (waited {timeout:g} s)")
        raise typer.Exit(1)
    console.print(site_fragment(address, found), end="", soft_wrap=True, markup=False,
                  highlight=False)
