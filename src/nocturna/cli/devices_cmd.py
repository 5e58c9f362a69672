"""``nocturna devices list``: the configured devices and how they are."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from nocturna.cli.output import console
from nocturna.cli.session import device_session

app = typer.Typer(help="The unit's devices.")


def _summary(state: dict) -> str:
    """A one-line description of a device state snapshot."""
    keys = ("camera_state", "ccd_temperature_c", "ra_hours", "dec_deg", "alt_deg", "slewing",
            "tracking", "at_park", "shutter_status", "azimuth_deg", "position", "name",
            "is_safe", "reasons", "cloud_cover_pct", "rain_rate_mm_h", "values",
            "cover_state", "brightness")
    parts = []
    for key in keys:
        if key in state and state[key] is not None:
            value = state[key]
            value = getattr(value, "name", value)
            parts.append(f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


@app.command("list")
def list_devices(
    ctx: typer.Context,
    simulate: Annotated[bool, typer.Option("--simulate", help="Simulate every device.")] = False,
) -> None:
    """Connect to every configured device and show its state."""

    async def gather() -> list[tuple[str, str, str, str]]:
        rows = []
        async with device_session(ctx.obj, simulate=simulate) as devices:
            for device in devices:
                status = await device.status()
                rows.append((device.kind, device.name, device.driver_name,
                             _summary(status.get("state", {}))))
        return rows

    table = Table(title="devices")
    for column in ("kind", "name", "driver", "state"):
        table.add_column(column, overflow="fold")
    for row in asyncio.run(gather()):
        table.add_row(*row)
    console.print(table)
