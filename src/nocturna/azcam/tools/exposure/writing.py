"""From the camera's image to the kept file: raw amplifier layout, exposure id, header,
the frame pipeline's encoder and database row, then sending and display."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import numpy as np

from nocturna.azcam.filetypes import FileType
from nocturna.azcam.tools.exposure.base import ImageDisplay, ImageSender
from nocturna.azcam.tools.exposure.flags import ExposureFlag
from nocturna.azcam.tools.exposure.geometry import ReadoutFormat
from nocturna.azcam.tools.exposure.header import describe, wcs_shift
from nocturna.azcam.tools.exposure.settings import ExposureSettings
from nocturna.azcam.tools.exposure.shot import Shot
from nocturna.devices.camera import CameraImage
from nocturna.instrument.pipeline.sources import HeaderSource

log = logging.getLogger(__name__)


class FrameWriting(ExposureSettings, ReadoutFormat):
    """Lays out, writes, records, sends and shows one exposure's image."""

    simulate: bool
    rng: np.random.Generator
    image_bias_adu: float | None
    header_sources: tuple[HeaderSource, ...]
    sendimage: ImageSender | None
    display: ImageDisplay | None
    display_image: bool  # azcam's display_image flag
    send_image: bool  # azcam's send_image flag
    image_count: int
    last_filename: str
    last_exposure_id: int | None
    _image_ready: bool

    async def _reserve_ids(self, shot: Shot) -> None:
        """The exposure id and image id of a kept image (a test image has none)."""
        if not shot.test:
            shot.ids = await self.instrument.pipeline.reserve_ids()

    async def _lay_out(self, shot: Shot, image: CameraImage) -> None:
        """``image`` as the raw amplifier data of ``shot``'s region, off the event loop."""
        shot.image = image
        shot.readout = await asyncio.to_thread(
            shot.geometry.readout, image.data, roi=shot.roi, col_bin=shot.col_bin,
            row_bin=shot.row_bin, image_bias_adu=self._image_bias(image),
            simulate=self.simulate, rng=self.rng)

    def _image_bias(self, image: CameraImage) -> float:
        """The bias level in the camera's pixels (removed before the amps' own bias)."""
        if self.image_bias_adu is not None:
            return float(self.image_bias_adu)
        model = getattr(self.camera, "model", None)  # the simulator says what it adds
        bias = getattr(model, "bias_adu", None)
        if self.simulate and isinstance(bias, int | float):
            return float(bias) + float(image.offset or 0)
        return 0.0

    async def _write(self, shot: Shot) -> None:
        """Write and record the image, count it, then send and show it."""
        assert shot.image is not None and shot.readout is not None
        self.flag = ExposureFlag.WRITING
        description = await describe(self.instrument.pipeline, shot, self.header_sources)
        shot.written = await self.instrument.pipeline.save(  # the row: shot.identity()'s
            shot.path, shot.readout, description, encoder=self._encoder(shot.filetype),
            overwrite=shot.test or self.filenames.overwrite, adjust=wcs_shift(shot),
            keep=lambda: not shot.aborted)
        if not shot.test:
            self.image_count += 1
            self.filenames.increment()
            self.last_exposure_id = shot.exposure_id
        self.last_filename = shot.filename
        self._image_ready = True
        log.info("image written: %s (%d bytes)", shot.filename, shot.written.size_bytes)
        await self._send_and_show(shot)

    async def _send_and_show(self, shot: Shot) -> None:
        assert shot.written is not None and shot.readout is not None
        try:
            if self.display_image and self.display is not None and \
                    shot.filetype is not FileType.BIN:  # a viewer needs a FITS file
                try:
                    await self.display.show(shot.written.path)
                except Exception as exc:  # azcam never fails an exposure for the display
                    log.warning("could not display %s: %s", shot.filename, exc)
            sender = self.sendimage
            if self.send_image and sender is not None and sender.enabled:
                size_x, size_y = shot.readout.size
                try:
                    await sender.send_image(
                        shot.written.path, Path(shot.filename).name,
                        overwrite=shot.test or self.filenames.overwrite,
                        filetype=int(shot.filetype), size_x=size_x, size_y=size_y,
                        display=bool(self.display_image))
                except Exception as exc:
                    kept = "" if shot.test else f"; it is kept as {shot.filename}"
                    log.error("sending the image failed: %s%s", exc, kept)
                    raise
        finally:
            if shot.test:
                shot.path.unlink(missing_ok=True)
