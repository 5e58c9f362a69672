"""``nocturna components``: every component's summary state and last heartbeat."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.live import Live
from rich.table import Table

from nocturna.cli.context import CliContext
from nocturna.cli.output import console
from nocturna.cli.session import instrument_session, parse_start
from nocturna.components import ComponentGroup


def components_table(group: ComponentGroup) -> Table:
    """One row per component: state, last heartbeat and its age, version, simulation."""
    table = Table("component", "kind", "state", "heartbeat (UTC)", "age", "version", "sim",
                  "fault")
    for row in group.summary():
        beat = row["last_heartbeat"]
        age = row["heartbeat_age_s"]
        table.add_row(row["name"], row["kind"], row["state"].upper(),
                      beat.strftime("%H:%M:%S") if beat else "never",
                      "-" if age is None else f"{age:.1f} s", row["software_version"],
                      "yes" if row["simulation_mode"] else "no", row["fault_reason"] or "")
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
) -> None:
    """Bring every device and the instrument under control (ENABLED) and show their
    summary states and heartbeats."""
    state: CliContext = ctx.obj
    begin = parse_start(start)

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
