"""One frame from the camera to a FITS file and a database row.

:func:`describe_frame` gathers the header from the devices' states (site, time,
camera, mount, filter, focuser, observation) and a WCS from the mount's pointing;
:func:`save_frame` writes the file atomically with checksums and records it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astropy.io import fits

from nocturna.core.config.models import DeviceConfig, Site
from nocturna.core.errors import InvalidValueError
from nocturna.core.units import is_quantity, parse_value
from nocturna.devices.camera import Camera, CameraImage
from nocturna.devices.filterwheel import FilterWheel
from nocturna.devices.focuser import Focuser
from nocturna.devices.mount import Mount
from nocturna.images import header as h
from nocturna.images.fits import WrittenImage, write_fits
from nocturna.images.wcs import frame_wcs, plate_scale_arcsec

DEFAULT_FOCAL_LENGTH_MM = 85.0


@dataclass(frozen=True)
class Optics:
    """The optics in front of a camera (from its configuration entry)."""

    focal_length_mm: float = DEFAULT_FOCAL_LENGTH_MM
    aperture_mm: float | None = None
    rotation_deg: float = 0.0

    @classmethod
    def from_config(cls, cfg: DeviceConfig | None) -> Optics:
        extra = (cfg.model_extra or {}) if cfg is not None else {}

        def number(key: str, unit: str) -> float | None:
            value = parse_value(extra.get(key))
            if value is None:
                return None
            if is_quantity(value):
                return float(value.to_value(unit))
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidValueError(f"{cfg.name}.{key} = {value!r}: expected a number "
                                        f"in {unit}")
            return float(value)

        focal_length = number("focal_length_mm", "mm")
        return cls(DEFAULT_FOCAL_LENGTH_MM if focal_length is None else focal_length,
                   number("aperture_mm", "mm"), number("rotation_deg", "deg") or 0.0)


@dataclass
class FrameContext:
    """The devices and facts around a camera that a header describes."""

    camera: Camera
    site: Site | None = None
    optics: Optics = field(default_factory=Optics)
    mount: Mount | None = None
    focuser: Focuser | None = None
    filterwheel: FilterWheel | None = None
    unit_name: str | None = None


async def _mount_section(mount: Mount | None, optics: Optics) -> h.MountInfo | None:
    if mount is None or not mount.connected:
        return None
    status = await mount.state()
    ra_deg = (status.ra_hours * 15.0) % 360.0
    hour_angle = (status.sidereal_time_hours - status.ra_hours + 12.0) % 24.0 - 12.0
    altitude = status.alt_deg
    airmass = 1.0 / math.sin(math.radians(altitude)) if altitude > 5 else None
    target = (status.target_ra_hours, status.target_dec_deg)
    return h.MountInfo(
        telescope=mount.name, focal_length_mm=optics.focal_length_mm,
        target_ra_deg=None if target[0] is None else (target[0] * 15.0) % 360.0,
        target_dec_deg=target[1], ra_deg=ra_deg, dec_deg=status.dec_deg,
        hour_angle_h=hour_angle, altitude_deg=altitude, azimuth_deg=status.az_deg % 360.0,
        airmass=airmass, pier_side=status.side_of_pier.name,
    )


@dataclass(frozen=True)
class FrameDescription:
    """The header of a frame, gathered but not yet built (building it costs a few ms of
    pure Python, so :func:`save_frame` does it in its worker thread)."""

    exposure: h.ExposureInfo
    sections: tuple[h.CardSource | None, ...]
    extra: dict[str, tuple[Any, str]]

    def header(self) -> fits.Header:
        return h.build_header(self.exposure, *self.sections, extra=self.extra)


async def gather_description(
    image: CameraImage,
    context: FrameContext,
    *,
    image_type: str = "LIGHT",
    observation: h.ObservationInfo | None = None,
    sections: Sequence[h.CardSource | None] = (),
    extra: dict[str, tuple[Any, str]] | None = None,
) -> FrameDescription:
    """Everything the header of ``image`` says, read from the devices now."""
    camera_info = await context.camera.info()
    height, width = image.data.shape[:2]
    exposure = h.ExposureInfo(start=image.start_time, exposure_s=image.duration_s,
                              image_type=image_type)
    site = None
    if context.site is not None:
        s = context.site
        site = h.SiteInfo(name=s.name, latitude_deg=s.latitude.to_value("deg"),
                          longitude_deg=s.longitude.to_value("deg"),
                          elevation_m=s.elevation.to_value("m"))
    modes = camera_info.readout_modes
    camera = h.CameraInfo(
        name=context.camera.name, binning_x=image.bin_x, binning_y=image.bin_y,
        gain=image.gain, offset=image.offset, ccd_temp_c=_known(image.ccd_temperature_c),
        set_temp_c=_known(image.set_ccd_temperature_c),
        pixel_size_x_um=_known(camera_info.pixel_size_x_um),
        pixel_size_y_um=_known(camera_info.pixel_size_y_um),
        readout_mode=modes[image.readout_mode] if image.readout_mode < len(modes) else None,
        electrons_per_adu=_known(image.extra.get("electrons_per_adu",
                                                 camera_info.electrons_per_adu)),
    )
    mount = await _mount_section(context.mount, context.optics)
    filter_name = image.extra.get("filter")
    if filter_name is None and context.filterwheel is not None and context.filterwheel.connected:
        filter_name = (await context.filterwheel.state()).name
    focuser = None
    if context.focuser is not None and context.focuser.connected:
        status = await context.focuser.state()
        focuser = h.FocuserInfo(position=status.position, temperature_c=status.temperature_c)
    wcs = None
    if mount is not None and image.light:
        _, sub = frame_wcs(
            mount.ra_deg, mount.dec_deg,
            scale_arcsec=plate_scale_arcsec(camera_info.pixel_size_x_um,
                                            context.optics.focal_length_mm),
            width=camera_info.width, height=camera_info.height, binning=image.bin_x,
            start_x=image.start_x, start_y=image.start_y, num_x=width, num_y=height,
            rotation_deg=context.optics.rotation_deg)
        wcs = h.WcsInfo(sub)
    cards = dict(extra or {})
    if context.unit_name:
        cards.setdefault("UNIT", (context.unit_name, "nocturna unit"))
    return FrameDescription(
        exposure,
        (site, camera, mount, h.FilterInfo(filter_name) if filter_name else None, focuser,
         observation, *sections, wcs),
        cards)


async def describe_frame(
    image: CameraImage,
    context: FrameContext,
    *,
    image_type: str = "LIGHT",
    observation: h.ObservationInfo | None = None,
    sections: Sequence[h.CardSource | None] = (),
    extra: dict[str, tuple[Any, str]] | None = None,
) -> fits.Header:
    """The FITS header of ``image``; ``sections`` go after the observation's cards."""
    description = await gather_description(image, context, image_type=image_type,
                                           observation=observation, sections=sections,
                                           extra=extra)
    return description.header()


async def save_frame(
    path: Path,
    image: CameraImage,
    header: fits.Header | FrameDescription,
    *,
    compress: bool = False,
    overwrite: bool = False,
    storage: Any | None = None,
    image_id: str | None = None,
    observation_id: int | None = None,
) -> WrittenImage:
    """Write the frame atomically (checksums, optional Rice) and record it in ``storage``.

    One worker thread builds the header (when given a :class:`FrameDescription`),
    writes the file and adds the database row, so the event loop never waits on them.
    """
    return await asyncio.to_thread(_save, path, image, header, compress, overwrite, storage,
                                   image_id, observation_id)


def _save(path: Path, image: CameraImage, header: fits.Header | FrameDescription,
          compress: bool, overwrite: bool, storage: Any | None, image_id: str | None,
          observation_id: int | None) -> WrittenImage:
    built = isinstance(header, FrameDescription)
    if built:
        header = header.header()
    written = write_fits(path, image.data, header, compress=compress, overwrite=overwrite,
                         check_header=not built)
    if storage is not None:
        storage.add_exposure(
            image_id or written.path.name.split(".")[0],
            camera=str(header.get("INSTRUME", "camera")),
            image_type=str(header.get("IMAGETYP", "LIGHT")),
            exposure_time_s=image.duration_s, start_time=image.start_time,
            path=str(written.path), observation_id=observation_id,
            size_bytes=written.size_bytes, checksum=written.checksum,
            header=h.header_values(written.header),
        )
    return written


OBSERVATION_ROW_CARD = "OBSROWID"
"""Header card with the database row of the frame's observation (a crash between the
file and its row loses nothing: the row is rebuilt from the header)."""


def _known(value: float | None) -> float | None:
    """None for a reading the camera does not have (a driver reports it as NaN: an
    Alpaca camera answering "not implemented"), so the header leaves the card out."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value
