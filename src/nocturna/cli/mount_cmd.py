"""``nocturna mount slew``: point the telescope."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from nocturna.cli.coordinates import parse_dec_deg, parse_ra_hours
from nocturna.cli.output import console
from nocturna.cli.session import default_start, device_session, parse_start
from nocturna.core.errors import ConfigError

app = typer.Typer(help="Point the telescope.")


@app.command()
def slew(
    ctx: typer.Context,
    ra: Annotated[str, typer.Option(help="Right ascension: hours (5.588, 05:35:17) or 83.8d.")],
    dec: Annotated[str, typer.Option(help="Declination in degrees (-5.39, -05:23:28).")],
    simulate: Annotated[bool, typer.Option("--simulate", help="Simulate every device.")] = False,
    start: Annotated[str | None, typer.Option(metavar="TIME", help=(
        "Simulated start, ISO 8601 UTC (default: now if the sky is dark and the target "
        "is up; else the first moment they are)."))] = None,
    speed: Annotated[float, typer.Option(min=0.001, help="Simulated clock speed.")] = 10.0,
) -> None:
    """Unpark if needed, start tracking, slew to (RA, Dec) and wait until there."""
    ra_hours, dec_deg = parse_ra_hours(ra), parse_dec_deg(dec)
    begin = default_start(ctx.obj, simulate=simulate, start=parse_start(start),
                          target=(ra_hours, dec_deg))

    async def run() -> None:
        async with device_session(ctx.obj, simulate=simulate, start=begin,
                                  speed=speed) as devices:
            mount = devices.mount
            if mount is None:
                raise ConfigError("no mount is configured")
            if (await mount.state()).at_park:
                await mount.unpark()
            await mount.set_tracking(True)
            await mount.slew_to_coordinates(ra_hours, dec_deg)
            with console.status("slewing") as status:
                while (state := await mount.state()).slewing:
                    status.update(f"slewing: RA {state.ra_hours:8.4f} h  Dec {state.dec_deg:+8.4f}°"
                                  f"  alt {state.alt_deg:5.1f}°")
                    await asyncio.sleep(0.05)
            console.print(f"at RA {state.ra_hours:.4f} h, Dec {state.dec_deg:+.4f}° "
                          f"(alt {state.alt_deg:.1f}°, az {state.az_deg:.1f}°, "
                          f"pier {state.side_of_pier.name.lower()}), tracking")

    asyncio.run(run())
