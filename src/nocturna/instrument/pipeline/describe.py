"""The header of one frame: the readings at its start plus the image's own facts.

:func:`describe` puts together the sections (site, time, camera, mount, filter,
focuser, weather, spectrograph, sidereal time and Moon, software, the frame's
identity (observation, sequence), the caller's sections, WCS) without building the
header: building costs a few ms of pure Python, so the pipeline does it in its worker
thread (:meth:`FrameDescription.header`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from astropy.io import fits

from nocturna import __version__
from nocturna.devices.camera import CameraImage
from nocturna.devices.types import SensorType
from nocturna.images import header as h
from nocturna.images.wcs import frame_wcs, plate_scale_arcsec
from nocturna.instrument.pipeline.context import FrameContext
from nocturna.instrument.pipeline.identity import FrameIdentity
from nocturna.instrument.pipeline.record import FrameRow
from nocturna.instrument.pipeline.sources import StartReadings, known

SOFTWARE = h.SoftwareInfo("nocturna", __version__)


@dataclass(frozen=True)
class FrameDescription:
    """The header of a frame, gathered but not yet built, and what its row says."""

    exposure: h.ExposureInfo
    sections: tuple[h.CardSource | None, ...]
    extra: dict[str, tuple[Any, str]]
    identity: FrameIdentity = field(default_factory=FrameIdentity)
    camera: str | None = None  # the camera's device name, for the row
    defaults: dict[str, tuple[Any, str]] = field(default_factory=dict)

    def header(self) -> fits.Header:
        return self.cards().to_fits()

    def cards(self) -> h.HeaderCards:
        """The header's cards, laid out without astropy (what the pipeline writes)."""
        return h.header_cards(self.exposure, *self.sections, extra=self.extra,
                              defaults=self.defaults)

    def row(self) -> FrameRow | None:
        """The frame's database row (None for a frame without an image id)."""
        return self.identity.row(self.camera, self.exposure)

    def without_wcs(self) -> FrameDescription:
        """The same header without a WCS (for pixels no single linear WCS describes)."""
        return dataclasses.replace(self, sections=tuple(
            s for s in self.sections if not isinstance(s, h.WcsInfo)))


async def describe(
    image: CameraImage,
    context: FrameContext,
    readings: StartReadings,
    *,
    identity: FrameIdentity | None = None,
    sections: Sequence[h.CardSource | None] = (),
    extra: dict[str, tuple[Any, str]] | None = None,
    defaults: dict[str, tuple[Any, str]] | None = None,
) -> FrameDescription:
    """Everything the header of ``image`` says: ``readings`` (taken at its start), the
    camera's settings, the frame's ``identity`` (none: a light frame without ids), the
    caller's ``sections`` and ``extra`` (which win over the rest), and ``defaults``:
    cards kept only where nothing else gave the keyword (other tools' cards, so they
    never replace what the pipeline read at the start)."""
    identity = identity or FrameIdentity()
    camera_info = await context.camera.info()
    height, width = image.data.shape[:2]
    exposure = h.ExposureInfo(start=image.start_time, exposure_s=image.duration_s,
                              image_type=identity.image_type)
    site = None
    if context.site is not None:
        s = context.site
        site = h.SiteInfo(name=s.name, latitude_deg=s.latitude.to_value("deg"),
                          longitude_deg=s.longitude.to_value("deg"),
                          elevation_m=s.elevation.to_value("m"))
    modes = camera_info.readout_modes
    camera = h.CameraInfo(
        name=context.camera.name, instrument=context.instrument_name,
        binning_x=image.bin_x, binning_y=image.bin_y,
        gain=image.gain, offset=image.offset, ccd_temp_c=known(image.ccd_temperature_c),
        set_temp_c=known(image.set_ccd_temperature_c),
        pixel_size_x_um=known(camera_info.pixel_size_x_um),
        pixel_size_y_um=known(camera_info.pixel_size_y_um),
        readout_mode=modes[image.readout_mode] if image.readout_mode < len(modes) else None,
        electrons_per_adu=known(image.extra.get("electrons_per_adu",
                                                camera_info.electrons_per_adu)),
        **_bayer(image, camera_info),
    )
    mount = readings.mount
    filter_name = image.extra.get("filter") or readings.filter_name
    wcs = None
    if mount is not None and mount.ra_deg is not None and mount.dec_deg is not None \
            and image.light:
        _, sub = frame_wcs(
            mount.ra_deg, mount.dec_deg,
            scale_arcsec=plate_scale_arcsec(camera_info.pixel_size_x_um,
                                            context.optics.focal_length_mm),
            width=camera_info.width, height=camera_info.height, binning=image.bin_x,
            start_x=image.start_x, start_y=image.start_y, num_x=width, num_y=height,
            rotation_deg=context.optics.rotation_deg)
        wcs = h.WcsInfo(sub, source="mount")
    cards = {**identity.cards(), **(extra or {})}
    if context.unit_name:
        cards.setdefault("UNIT", (context.unit_name, "nocturna unit"))
    return FrameDescription(
        exposure,
        (site, camera, mount, h.FilterInfo(filter_name) if filter_name else None,
         readings.focuser, readings.spectrograph, readings.weather, readings.sky, SOFTWARE,
         *identity.sections(), *sections, wcs),
        cards, identity, context.camera.name,
        {**image.extra.get("header_cards", {}), **(defaults or {})})


MOSAICS = (SensorType.RGGB, SensorType.CMYG, SensorType.CMYG2, SensorType.LRGB)


def _bayer(image: CameraImage, camera_info: Any) -> dict[str, Any]:
    """The mosaic's pattern and offsets for the header: what the driver read from the
    raw file (``extra["bayer_pattern"]``, from pixel (0, 0)), else the sensor's type
    and offsets moved by the subframe's start; none for mono or binned pixels."""
    if image.bin_x != 1 or image.bin_y != 1:
        return {}
    pattern = image.extra.get("bayer_pattern")
    if pattern:
        return {"bayer_pattern": str(pattern)}
    if camera_info.sensor_type not in MOSAICS or camera_info.bayer_offset_x is None:
        return {}
    return {"bayer_pattern": camera_info.sensor_type.name,
            "bayer_offset_x": (camera_info.bayer_offset_x + image.start_x) % 2,
            "bayer_offset_y": (camera_info.bayer_offset_y + image.start_y) % 2}
