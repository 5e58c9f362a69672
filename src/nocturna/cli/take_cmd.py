"""``nocturna take TYPE``: an instrument sequence with a progress bar per frame."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from nocturna.cli.context import CliContext
from nocturna.cli.coordinates import parse_dec_deg, parse_ra_hours
from nocturna.cli.output import console
from nocturna.cli.session import instrument_session, parse_start, point_mount
from nocturna.core.errors import InvalidValueError
from nocturna.core.events import get_event_bus
from nocturna.instrument.instrument import Instrument

app = typer.Typer(help="Take a sequence of frames (LATISS-style image types).")

KINDS: dict[str, tuple[str, str]] = {
    "bias": ("BIAS", "Bias frames (0 s, shutter closed)."),
    "dark": ("DARK", "Dark frames (shutter closed)."),
    "flat": ("FLAT", "Flat fields."),
    "object": ("OBJECT", "Object frames (visits of --snaps frames each)."),
    "engtest": ("ENGTEST", "Engineering test frames."),
    "focus": ("FOCUS", "Focus frames."),
    "cwfs": ("CWFS", "Curvature wavefront sensing frames."),
    "acq": ("ACQ", "Acquisition frames (1 s by default)."),
    "stuttered": ("STUTTERED", "Charge-shift frames: --n-shift segments of --exptime s, "
                               "--row-shift rows apart."),
}


async def _show_progress(instrument: Instrument, sequence: asyncio.Task[list[int]]) -> None:
    """A bar for the whole sequence and one for the current frame, until it ends."""
    columns = (TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn())
    with get_event_bus().subscribe("instrument.progress") as events, \
            get_event_bus().subscribe("instrument.sequence") as started:
        while not started.drain():  # the instrument validates the request before it starts
            if sequence.done():
                return  # refused: the error alone, no empty bars
            await asyncio.wait({sequence}, timeout=0.05)
        with Progress(*columns, console=console) as progress:
            await _draw_progress(instrument, sequence, events, progress)


async def _draw_progress(instrument: Instrument, sequence: asyncio.Task[list[int]],
                         events: Any, progress: Progress) -> None:
    """Update the bars from the ``instrument.progress`` events until the sequence ends."""
    overall = progress.add_task("frames written", total=None)
    frame = progress.add_task("frame", total=100)
    while not sequence.done():
        for event in events.drain():
            data = event.data
            progress.update(overall, total=data["total"])
            if data["phase"] == "written":
                progress.advance(overall)
            else:
                progress.update(frame, description=f"frame {data['index']}/{data['total']}"
                                f" {data['phase']}", completed=0)
        with contextlib.suppress(Exception):
            state = await instrument.camera.state()
            progress.update(frame, completed=state.percent_completed)
        await asyncio.wait({sequence}, timeout=0.1)
    for event in events.drain():
        if event.data["phase"] == "written":
            progress.advance(overall)


def _command(kind: str, help_text: str) -> Callable[..., None]:
    default_exptime = 1.0 if kind == "ACQ" else None

    def take(
        ctx: typer.Context,
        exptime: Annotated[float | None, typer.Option(
            min=0, help="Exposure time in seconds (per segment for stuttered).")] =
        default_exptime,
        n: Annotated[int, typer.Option("--n", min=1, help="Number of frames (visits).")] = 1,
        snaps: Annotated[int, typer.Option(min=1, help="Frames per visit.")] = 1,
        n_shift: Annotated[int | None, typer.Option(min=1, help="Stuttered: segments.")] =
        None,
        row_shift: Annotated[int | None, typer.Option(
            min=0, help="Stuttered: rows shifted between segments.")] = None,
        filter_name: Annotated[str | None, typer.Option("--filter", help="Filter.")] = None,
        grating: Annotated[str | None, typer.Option(help="Grating (spectrograph).")] = None,
        stage: Annotated[float | None, typer.Option(
            help="Linear stage position in mm (spectrograph).")] = None,
        group_id: Annotated[str | None, typer.Option(help="Group id [default: new].")] = None,
        reason: Annotated[str | None, typer.Option(help="Why (REASON card).")] = None,
        program: Annotated[str | None, typer.Option(help="Program (PROGRAM card).")] = None,
        note: Annotated[str | None, typer.Option(help="Note (NOTE card).")] = None,
        test_type: Annotated[str | None, typer.Option(help="Test type (TESTTYPE).")] = None,
        object_name: Annotated[str | None, typer.Option(
            "--object", metavar="NAME", help="Target name (OBJECT card).")] = None,
        camera: Annotated[str | None, typer.Option(help="Camera name [primary].")] = None,
        ra: Annotated[str | None, typer.Option(help="Point the mount first: RA (hours).")] =
        None,
        dec: Annotated[str | None, typer.Option(help="Point the mount first: Dec (deg).")] =
        None,
        simulate: Annotated[bool, typer.Option("--simulate", help="Simulate every device.")] =
        False,
        start: Annotated[str | None, typer.Option(
            metavar="TIME", help="Simulated start, ISO 8601 UTC.")] = None,
        speed: Annotated[float, typer.Option(min=0.001, help="Simulated clock speed.")] = 1.0,
    ) -> None:
        state: CliContext = ctx.obj
        if kind in ("BIAS",) and exptime not in (None, 0):
            raise InvalidValueError(f"--exptime: a bias has no exposure time (got {exptime:g})")
        if kind not in ("BIAS",) and exptime is None:
            raise InvalidValueError("--exptime is required")
        if (ra is None) != (dec is None):
            raise InvalidValueError("give both --ra and --dec, or neither")
        target = (parse_ra_hours(ra), parse_dec_deg(dec)) if ra and dec else None
        begin = parse_start(start)
        setup = {k: v for k, v in (("filter", filter_name), ("grating", grating),
                                   ("linear_stage", stage)) if v is not None}
        extra: dict[str, Any] = {"n_snaps": snaps} if snaps != 1 else {}
        if kind == "STUTTERED" or n_shift is not None or row_shift is not None:
            extra.update(n_shift=n_shift, row_shift=row_shift)

        async def run() -> None:
            async with instrument_session(state, simulate=simulate, start=begin, speed=speed,
                                          camera=camera) as session:
                instrument = session.instrument
                if target is not None:
                    if session.devices.mount is None:
                        raise InvalidValueError("--ra/--dec: this unit has no mount")
                    await point_mount(session.devices.mount, *target)
                sequence = asyncio.ensure_future(instrument.take_imgtype(
                    kind, exptime or 0.0, n, group_id=group_id, reason=reason,
                    program=program, note=note, test_type=test_type, title=object_name,
                    **extra, **setup))
                try:
                    await _show_progress(instrument, sequence)
                finally:
                    if not sequence.done():
                        sequence.cancel()
                        with contextlib.suppress(BaseException):
                            await sequence
                ids = sequence.result()
                table = Table("exposure id", "file")
                for exposure_id in ids:
                    record = session.storage.get_exposure(f"{instrument.name}_{exposure_id}")
                    table.add_row(str(exposure_id), record.path if record else "?")
                console.print(table)

        asyncio.run(run())

    take.__doc__ = help_text
    return take


for _name, (_kind, _help) in KINDS.items():
    app.command(_name, help=_help)(_command(_kind, _help))
