"""``nocturna camera expose``: take one frame through the frame pipeline (file and row)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from nocturna.cli.context import CliContext
from nocturna.cli.coordinates import parse_dec_deg, parse_ra_hours
from nocturna.cli.output import console
from nocturna.cli.session import default_start, device_session, parse_start, point_mount
from nocturna.core.clock import get_clock
from nocturna.core.errors import InvalidValueError
from nocturna.devices.camera import Camera
from nocturna.devices.types import CameraState

app = typer.Typer(help="Take pictures.")


async def _show_progress(camera: Camera) -> None:
    """Show the exposure's progress until the image is ready."""
    columns = (TextColumn("{task.description:<12}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        exposing = progress.add_task("exposing", total=100)
        reading = progress.add_task("reading out", total=1, start=False)
        while True:
            state = await camera.state()
            progress.update(exposing, completed=state.percent_completed)
            if state.camera_state == CameraState.READING:
                progress.update(exposing, completed=100)
                progress.start_task(reading)
            if state.image_ready:
                progress.update(exposing, completed=100)
                progress.update(reading, completed=1)
                return
            await asyncio.sleep(0.05)


@app.command()
def expose(
    ctx: typer.Context,
    exptime: Annotated[float, typer.Option(min=0, help="Exposure time in seconds.")],
    simulate: Annotated[bool, typer.Option("--simulate", help="Simulate every device.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Output FITS file (.fits, or .fits.fz for Rice compression) "
             "[default: DATA/images/CAMERA-TIME in instrument.image_format].")] = None,
    dark: Annotated[bool, typer.Option("--dark", help="Shutter closed (dark frame).")] = False,
    binning: Annotated[int, typer.Option("--bin", min=1, help="Binning.")] = 1,
    camera_name: Annotated[str | None, typer.Option("--camera", help="Camera name.")] = None,
    filter_name: Annotated[str | None, typer.Option("--filter", help="Filter name.")] = None,
    object_name: Annotated[str | None, typer.Option(
        "--object", metavar="NAME", help="Target name (OBJECT card).")] = None,
    ra: Annotated[str | None, typer.Option(help="Point the mount first: RA (hours).")] = None,
    dec: Annotated[str | None, typer.Option(help="Point the mount first: Dec (deg).")] = None,
    start: Annotated[str | None, typer.Option(metavar="TIME", help=(
        "Simulated start, ISO 8601 UTC (default: now if the sky is dark and the target, "
        "if any, is up; else the first moment they are)."))] = None,
    speed: Annotated[float, typer.Option(min=0.001, help="Simulated clock speed.")] = 1.0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT.")] = False,
) -> None:
    """Take one exposure (with progress) and write it as FITS with a database row.

    The image id (the file name up to its first dot) and OUT are checked before the
    camera exposes: a taken id or an existing OUT (without --overwrite) moves nothing.
    """
    from nocturna.images import header as h

    state: CliContext = ctx.obj
    target = None
    if (ra is None) != (dec is None):
        raise InvalidValueError("give both --ra and --dec, or neither")
    if ra is not None and dec is not None:
        target = (parse_ra_hours(ra), parse_dec_deg(dec))
    if object_name is not None:
        h.ObservationInfo(object_name=object_name)  # checked as header text, now
    begin = default_start(state, simulate=simulate, start=parse_start(start), target=target)

    async def run() -> None:
        from nocturna.core.storage import Storage
        from nocturna.images.encoders import encoder_for_path, image_encoder
        from nocturna.instrument.build import frame_context
        from nocturna.instrument.pipeline import FrameIdentity, FramePipeline

        async with device_session(state, simulate=simulate, start=begin,
                                  speed=speed) as devices:
            config = state.config()
            context = frame_context(devices, config, camera_name)
            camera = context.camera
            encoder = encoder_for_path(out) if out is not None else \
                image_encoder(config.model.instrument.image_format)
            stamp = get_clock().now().strftime("%Y%m%dT%H%M%S")
            path = (out or config.data_dir / "images" /
                    f"{camera.name}-{stamp}{encoder.suffix}").absolute()
            image_id = path.name.split(".")[0]
            with Storage.open(config.model.storage.url, data_dir=config.data_dir) as storage:
                pipeline = FramePipeline(context, storage=storage, encoder=encoder)
                pipeline.check_free(image_id, path, overwrite=overwrite)
                if target is not None and devices.mount is not None:
                    await point_mount(devices.mount, *target)
                if filter_name is not None:
                    if context.filterwheel is None:
                        raise InvalidValueError(f"camera {camera.name} has no filter wheel")
                    await context.filterwheel.move_to(filter_name)
                await camera.set_binning(binning)
                await camera.start_exposure(exptime, not dark)
                readings = asyncio.ensure_future(pipeline.read_at_start())
                await _show_progress(camera)
                image = await camera.image()
                identity = FrameIdentity("DARK" if dark else "LIGHT", image_id,
                                         object_name)
                description = await pipeline.describe(image, await readings,
                                                      identity=identity)
                written = await pipeline.save(path, image.data, description,
                                              overwrite=overwrite)
            values = image.data.astype(np.float64)
            console.print(f"wrote {written.path} ({written.size_bytes / 1e6:.1f} MB): "
                          f"{image.data.shape[1]}x{image.data.shape[0]}, median "
                          f"{np.median(values):.0f} ADU, max {values.max():.0f} ADU")

    asyncio.run(run())
