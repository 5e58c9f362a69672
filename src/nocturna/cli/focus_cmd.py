"""``nocturna focus``: autofocus a camera (the primary one) with its focuser."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from nocturna.cli.context import CliContext
from nocturna.cli.coordinates import parse_dec_deg, parse_ra_hours
from nocturna.cli.output import console
from nocturna.cli.session import default_start, instrument_session, parse_start, point_mount
from nocturna.core.clock import get_clock
from nocturna.core.config import Config
from nocturna.core.errors import InvalidValueError, NocturnaError
from nocturna.core.events import get_event_bus
from nocturna.devices.factory import DeviceSet
from nocturna.devices.types import ShutterState
from nocturna.loops.autofocus import AutofocusSettings, FocusResult, run_autofocus
from nocturna.observatory.enclosure import open_cover

SIMULATED_SPEED = 10.0
"""Default clock speed with ``--simulate`` (a coarse run then takes about a minute)."""


def _settings(config: Config, *, coarse: bool, exptime: float | None, span: int | None,
              step: int | None, no_plot: bool) -> AutofocusSettings:
    """The configured settings with the options applied (errors name the option)."""
    kind = "coarse" if coarse else "fine"
    options = {"exposure_s": ("--exptime", exptime), f"{kind}_range": ("--range", span),
               f"{kind}_step": ("--step", step)}
    overrides: dict[str, Any] = {key: value for key, (_, value) in options.items()
                                 if value is not None}
    if no_plot:
        overrides["plots"] = False
    try:
        return AutofocusSettings.from_config(config.model.observatory.autofocus, **overrides)
    except InvalidValueError as exc:
        named = [flag for key, (flag, value) in options.items()
                 if value is not None and key in str(exc)]
        if not named:
            raise
        raise InvalidValueError(f"{'/'.join(named)}: {exc}") from None


async def _open_to_the_sky(devices: DeviceSet) -> None:
    """Simulated unit: unpark the mount, open the dome and the dust covers."""
    if devices.mount is not None and (await devices.mount.state()).at_park:
        await devices.mount.unpark()
    if devices.dome is not None and \
            (await devices.dome.state()).shutter_status != ShutterState.OPEN:
        await devices.dome.open_and_wait()
    await asyncio.gather(*(open_cover(c) for c in devices.cover_calibrators.values()))


def _zenith_hours(config: Config) -> tuple[float, float]:
    """(RA hours, Dec degrees) of the zenith now."""
    from nocturna.core.astro import zenith_radec_deg

    ra_deg, dec_deg = zenith_radec_deg(config.model.site, get_clock().now())
    return ra_deg / 15.0, dec_deg


async def _show_progress(run: asyncio.Task[FocusResult]) -> None:
    """A bar per sweep until the run ends."""
    columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn())
    with get_event_bus().subscribe("focus.progress") as events, \
            Progress(*columns, console=console) as progress:
        bars: dict[str, Any] = {}
        while not run.done():
            await asyncio.wait({run}, timeout=0.1)
            for event in events.drain():
                data = event.data
                kind = data["kind"]
                if kind not in bars:
                    bars[kind] = progress.add_task(f"{kind} sweep", total=data["total"])
                progress.update(bars[kind], completed=data["index"],
                                description=f"{kind} sweep @ {data['position']}")


def _report(result: FocusResult) -> None:
    """start, best, change, outcome and plots, one per line (long paths stay whole)."""
    outcome = f"{'ok' if result.success else 'failed'}: {result.reason}"
    if not result.success and result.kind == "fine" and result.sweeps \
            and result.sweeps[-1].limit is None:
        outcome += " (a wider search: --coarse)"
    table = Table(title=f"{result.kind} focus of {result.focuser}", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in (("start", str(result.start_position)),
                         ("best", str(result.best_position)),
                         ("change", f"{result.change:+d}"), ("result", outcome),
                         ("plots", "\n".join(map(str, result.plot_paths)) or "none")):
        table.add_row(label, value)
    console.print(table)


def focus(
    ctx: typer.Context,
    coarse: Annotated[bool, typer.Option(
        "--coarse", help="A coarse sweep first, then a fine one around its result.")] = False,
    exptime: Annotated[float | None, typer.Option(
        min=0.001, help="Exposure time in seconds (default: observatory.autofocus.exposure)."
    )] = None,
    span: Annotated[int | None, typer.Option(
        "--range", min=1, help="Whole sweep width in focuser steps (of the coarse sweep "
        "with --coarse, else of the fine one; default: configured).")] = None,
    step: Annotated[int | None, typer.Option(
        min=1, help="Steps between frames (same sweep as --range; default: configured).")] = None,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Write no plots.")] = False,
    camera: Annotated[str | None, typer.Option(
        help="Camera name (default: the primary camera).")] = None,
    ra: Annotated[str | None, typer.Option(help="Point the mount first: RA (hours).")] = None,
    dec: Annotated[str | None, typer.Option(help="Point the mount first: Dec (deg).")] = None,
    simulate: Annotated[bool, typer.Option(
        "--simulate", help="Simulate every device: at night (the next one unless --start), "
        "dome and cover opened, the mount at the zenith unless --ra/--dec.")] = False,
    start: Annotated[str | None, typer.Option(
        metavar="TIME", help=(
            "Simulated start, ISO 8601 UTC (default: now if the sky is dark, else the "
            "first moment it is)."))] = None,
    speed: Annotated[float | None, typer.Option(
        min=0.001, help=f"Simulated clock speed (default: {SIMULATED_SPEED:g} with --simulate).")] =
    None,
) -> None:
    """Autofocus: sweep the focuser, fit the focus curve, move to the best position.

    Plots go to DATA/focus/<day>/ and the result is recorded as "focus" telemetry.
    Without --simulate the dome and cover must already be open. Exits with 1 when no
    usable focus was found (the focuser is left at the best sampled position).
    """
    state: CliContext = ctx.obj
    if (ra is None) != (dec is None):
        raise InvalidValueError("give both --ra and --dec, or neither")
    target = (parse_ra_hours(ra), parse_dec_deg(dec)) if ra and dec else None
    begin = parse_start(start)
    config = state.config()
    settings = _settings(config, coarse=coarse, exptime=exptime, span=span, step=step,
                         no_plot=no_plot)
    if simulate:  # dark now, else the next dark moment (said on stderr)
        begin = default_start(state, simulate=True, start=begin)
    if speed is None:
        speed = SIMULATED_SPEED if simulate else config.model.clock.speed

    async def run() -> int:
        from nocturna.core.dayobs import day_obs

        async with instrument_session(state, simulate=simulate, start=begin, speed=speed,
                                      camera=camera) as session:
            instrument = session.instrument
            focuser = instrument.context.focuser
            if focuser is None:
                raise NocturnaError(f"camera {instrument.camera.name!r} has no focuser "
                                    "(name one in its configuration entry: focuser: NAME)")
            devices = session.devices
            if simulate:
                await _open_to_the_sky(devices)
            aim = target or (_zenith_hours(session.config) if simulate else None)
            if aim is not None:
                if devices.mount is None:
                    raise InvalidValueError("--ra/--dec: this unit has no mount")
                await point_mount(devices.mount, *aim)
            day = day_obs(get_clock().now(), session.config.model.site.timezone)
            plot_dir = session.config.data_dir / "focus" / str(day)
            task = asyncio.ensure_future(run_autofocus(
                instrument.camera, focuser, settings, coarse=coarse, plot_dir=plot_dir,
                events=get_event_bus(), name=focuser.name))
            try:
                await _show_progress(task)
            finally:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            result = task.result()
            session.storage.add_telemetry("focus", result.as_record(), source=focuser.name,
                                          current=True)
            _report(result)
            return 0 if result.success else 1

    code = asyncio.run(run())
    if code:
        raise typer.Exit(code)
