"""``nocturna alpaca serve``: every configured device to any ASCOM Alpaca client;
``nocturna alpaca discover``: the Alpaca servers on the network and their devices."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from nocturna.alpaca.runner import DEFAULT_HTTP_PORT, AlpacaServer, check_host
from nocturna.cli.output import console
from nocturna.cli.session import device_session
from nocturna.core.listen import loop_factory
from nocturna.devices.alpaca import DISCOVERY_PORT

app = typer.Typer(help="ASCOM Alpaca: serve the unit's devices to Alpaca clients.")


def _device_table(server: AlpacaServer) -> Table:
    table = Table(title=f"Alpaca devices at {server.url}")
    for column in ("path", "type", "name", "driver", "UniqueID"):
        table.add_column(column, overflow="fold")
    for item in server.served:
        table.add_row(f"/api/v1/{item.path}", item.device_type, item.device.name,
                      item.device.driver_name, item.unique_id)
    return table


@app.command("serve")
def serve(
    ctx: typer.Context,
    simulate: Annotated[bool, typer.Option(
        "--simulate", help="Simulate every device (simulated clock at speed 1, from now).")
    ] = False,
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; another than loopback needs --allow-remote.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, help="HTTP port of the Alpaca API.")] = DEFAULT_HTTP_PORT,
    discovery_port: Annotated[int, typer.Option(
        "--discovery-port", min=1, max=65535, help="UDP port of the discovery responder.")
    ] = DISCOVERY_PORT,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote",
        help="Accept listening beyond this machine: Alpaca has no authentication, so "
             "anyone who reaches the port can move the hardware.")] = False,
) -> None:
    """Serve every configured device over Alpaca until Ctrl-C or SIGTERM."""
    check_host(host, allow_remote)
    state = ctx.obj

    async def main() -> None:
        async with device_session(state, simulate=simulate) as devices:
            config = state.config()
            server = AlpacaServer(devices, unit=config.model.name,
                                  location=config.model.site.name, host=host, port=port,
                                  discovery_port=discovery_port, allow_remote=allow_remote)
            server.listen()
            console.print(_device_table(server))
            console.print(f"Alpaca server at {server.url} (setup page {server.url}/setup, "
                          f"discovery on UDP {discovery_port}); Ctrl-C stops it")
            await server.run()
        console.print("Alpaca server stopped")

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main())


@app.command("discover")
def discover(
    port: Annotated[int, typer.Option(
        "--discovery-port", min=1, max=65535, help="UDP port the servers answer on.")
    ] = DISCOVERY_PORT,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.1, help="Seconds to wait for answers.")] = 2.0,
) -> None:
    """Find Alpaca servers (a broadcast on every interface) and print their devices as
    site file entries (``mount``, ``cameras``, ... with ``driver: alpaca``), ready to
    paste into a site file."""
    from nocturna.devices.alpaca.discovery import find_devices, site_fragment

    found = asyncio.run(find_devices(port, timeout))
    if not found:
        console.print(f"no Alpaca server answered on UDP {port} within {timeout:g} s")
        raise typer.Exit(1)
    console.print(site_fragment(found), end="", soft_wrap=True, markup=False,
                  highlight=False)
