"""``nocturna components``: every component's summary state and last heartbeat."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.live import Live
from rich.table import Table

from nocturna.cli.context import CliContext
from nocturna.cli.output import console
from nocturna.cli.session import instrument_session, parse_start
from nocturna.components import ComponentGroup


def components_table(group: ComponentGroup | list[dict[str, Any]]) -> Table:
    """One row per component: state, last heartbeat (UTC) and its age, version,
    simulation, and the fault reason when a component has one. ``group`` may be the
    rows themselves (a running unit's status: heartbeats as ISO text).

    Single-space columns: the usual unit fits 80 columns; on a narrower terminal long
    names wrap inside their cells, and a wider one shows long fault reasons whole."""
    rows = group if isinstance(group, list) else group.summary()
    faults = any(row["fault_reason"] for row in rows)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0))
    table.add_column("component", overflow="fold")
    table.add_column("kind", overflow="fold")
    table.add_column("state", no_wrap=True)
    table.add_column("heartbeat", no_wrap=True)
    table.add_column("age", justify="right", no_wrap=True)
    table.add_column("version")
    table.add_column("sim", no_wrap=True)
    if faults:
        table.add_column("fault", ratio=1)
    for row in rows:
        beat = row["last_heartbeat"]
        age = row["heartbeat_age_s"]
        if isinstance(beat, str):  # from a running unit's status
            beat = datetime.fromisoformat(beat.replace("Z", "+00:00"))
        simulated = row.get("simulation_mode")
        cells = [row["name"], row["kind"], row["state"].upper(),
                 beat.strftime("%H:%M:%SZ") if beat else "never",
                 "-" if age is None else f"{age:.1f} s", row.get("software_version") or "-",
                 "-" if simulated is None else "yes" if simulated else "no"]
        table.add_row(*cells, *([row["fault_reason"] or ""] if faults else []))
    return table


def components(
    ctx: typer.Context,
    simulate: Annotated[bool, typer.Option("--simulate", help="Simulate every device.")] = False,
    watch: Annotated[float, typer.Option(
        min=0, help="Keep showing the table for this many seconds (0: show it once).")] = 0.0,
    interval: Annotated[float, typer.Option(
        min=0.1, help="Heartbeat interval in clock seconds.")] = 1.0,
    start: Annotated[str | None, typer.Option(metavar="TIME",
                                              help="Simulated start, ISO 8601 UTC.")] = None,
    speed: Annotated[float, typer.Option(min=0.001, help="Simulated clock speed.")] = 1.0,
    url: Annotated[str | None, typer.Option(
        "--url", metavar="URL",
        help="Ask the unit running there (default: http://api.host:api.port); when none "
             "answers, the devices are brought up here.")] = None,
    token: Annotated[str | None, typer.Option(
        "--token", metavar="TOKEN", help="API token (default: $NOCTURNA_TOKEN).")] = None,
) -> None:
    """Bring every device and the instrument under control (ENABLED) and show their
    summary states and heartbeats."""
    state: CliContext = ctx.obj
    begin = parse_start(start)
    if not simulate and _from_running_unit(ctx, url, token, watch):
        return

    async def run() -> None:
        async with instrument_session(state, simulate=simulate, start=begin, speed=speed,
                                      all_devices=True, heartbeat_interval_s=interval) as session:
            group = session.components
            for name in group.components:
                await group.next_heartbeat(name, timeout_s=10 * interval)
            if watch <= 0:
                console.print(components_table(group))
                return
            loop = asyncio.get_running_loop()
            deadline = loop.time() + watch
            with Live(components_table(group), console=console, refresh_per_second=4) as live:
                while loop.time() < deadline:
                    await asyncio.sleep(min(0.5, deadline - loop.time()))
                    live.update(components_table(group))

    asyncio.run(run())


def _from_running_unit(ctx: typer.Context, url: str | None, token: str | None,
                       watch: float) -> bool:
    """Show the components of the unit running at the API URL; False if none answers."""
    from nocturna.api.client import UnitClient, UnitUnreachableError
    from nocturna.cli.unit_cmd import default_url
    from nocturna.core.errors import ConfigError

    try:
        api = UnitClient(url or default_url(ctx.obj), token, timeout_s=2.0)
    except ConfigError:  # api.port 0: no address to ask
        return False
    try:
        rows = api.status().get("components") or []
    except UnitUnreachableError:
        return False
    console.print(f"the unit running at {api.url}:", markup=False)
    if watch <= 0:
        console.print(components_table(rows))
        return True
    deadline = time.monotonic() + watch
    with Live(components_table(rows), console=console, refresh_per_second=4) as live:
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            live.update(components_table(api.status().get("components") or []))
    return True
