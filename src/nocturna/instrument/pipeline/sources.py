"""Header sources: what the devices and the sky say at the start of an exposure.

:func:`read_at_start` reads the mount, filter wheel, focuser, spectrograph and
weather station at once, and the sidereal time and the Moon (:mod:`nocturna.images.sky`), as the
shutter opens; the header says where the telescope pointed and what the weather was
during the exposure, not after it. A weather station that does not answer costs the
weather cards, never the frame.

Other header sources (azcam's tools: tempcon, instrument, telescope) contribute cards
through :func:`tool_cards`, which drops a card a FITS header cannot hold rather than
lose the image.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from nocturna.core.clock import get_clock
from nocturna.devices.conditions import ObservingConditions
from nocturna.devices.filterwheel import FilterWheel
from nocturna.devices.focuser import Focuser
from nocturna.devices.mount import Mount
from nocturna.devices.spectrograph import Spectrograph
from nocturna.images import header as h
from nocturna.images.sky import sky_at_site
from nocturna.instrument.pipeline.context import FrameContext, Optics

log = logging.getLogger(__name__)

_KEYWORD = re.compile(r"^[A-Z0-9_-]{1,8}$")


@dataclass(frozen=True)
class StartReadings:
    """The header sections read at the start of one exposure."""

    when: datetime
    mount: h.MountInfo | None = None
    filter_name: str | None = None
    focuser: h.FocuserInfo | None = None
    spectrograph: h.SpectrographInfo | None = None
    weather: h.WeatherInfo | None = None
    sky: h.SkyInfo | None = None


async def read_at_start(context: FrameContext, when: datetime | None = None) -> StartReadings:
    """Read every header source of ``context`` now (``when``: the clock's now)."""
    when = when or get_clock().now()
    mount, filter_name, focuser, spectrograph, weather = await asyncio.gather(
        _mount_section(context.mount, context.optics, context.telescope_name),
        _filter_name(context.filterwheel), _focuser_section(context.focuser),
        _spectrograph_section(context.spectrograph, has_wheel=context.filterwheel is not None),
        _weather_section(context.weather))
    sky = await _sky_section(context, when, mount)
    return StartReadings(when, mount, filter_name, focuser, spectrograph, weather, sky)


async def _mount_section(mount: Mount | None, optics: Optics,
                         telescope: str | None) -> h.MountInfo | None:
    if mount is None or not mount.connected:
        return None
    status = await mount.state()
    ra_deg = (status.ra_hours * 15.0) % 360.0
    hour_angle = (status.sidereal_time_hours - status.ra_hours + 12.0) % 24.0 - 12.0
    altitude = status.alt_deg
    airmass = 1.0 / math.sin(math.radians(altitude)) if altitude > 5 else None
    target = (status.target_ra_hours, status.target_dec_deg)
    return h.MountInfo(
        telescope=telescope or mount.name, mount=mount.name,
        focal_length_mm=optics.focal_length_mm,
        target_ra_deg=None if target[0] is None else (target[0] * 15.0) % 360.0,
        target_dec_deg=target[1], ra_deg=ra_deg, dec_deg=status.dec_deg,
        hour_angle_h=hour_angle, altitude_deg=altitude, azimuth_deg=status.az_deg % 360.0,
        airmass=airmass, pier_side=status.side_of_pier.name,
    )


async def _filter_name(wheel: FilterWheel | None) -> str | None:
    if wheel is None or not wheel.connected:
        return None
    return (await wheel.state()).name


async def _focuser_section(focuser: Focuser | None) -> h.FocuserInfo | None:
    if focuser is None or not focuser.connected:
        return None
    status = await focuser.state()
    return h.FocuserInfo(position=status.position, temperature_c=known(status.temperature_c))


async def _spectrograph_section(spectrograph: Spectrograph | None, *,
                                has_wheel: bool) -> h.SpectrographInfo | None:
    if spectrograph is None or not spectrograph.connected:
        return None
    status = await spectrograph.state()
    return h.SpectrographInfo(name=spectrograph.name, grating=status.grating_name,
                              stage_position_mm=status.stage_position_mm,
                              has_filter=not has_wheel, filter_name=status.filter_name)


_WEATHER_READINGS = ("temperature_c", "humidity_pct", "pressure_hpa", "dew_point_c",
                     "wind_speed_m_s", "wind_gust_m_s", "wind_direction_deg",
                     "cloud_cover_pct", "sky_temperature_c", "sky_quality_mag_arcsec2")


async def _weather_section(station: ObservingConditions | None) -> h.WeatherInfo | None:
    if station is None or not station.connected:
        return None
    try:
        status = await station.state()
        readings = {name: known(getattr(status, name, None)) for name in _WEATHER_READINGS}
        return h.WeatherInfo(**readings)
    except Exception as exc:  # the weather is worth cards, never a frame
        log.warning("no weather cards from %s: %s", station.name, exc)
        return None


async def _sky_section(context: FrameContext, when: datetime,
                       mount: h.MountInfo | None) -> h.SkyInfo | None:
    site = context.site
    if site is None:
        return None
    sky = sky_at_site(site.latitude.to_value("deg"), site.longitude.to_value("deg"),
                      site.elevation.to_value("m"))
    ra, dec = (mount.ra_deg, mount.dec_deg) if mount is not None else (None, None)
    try:
        now = await asyncio.to_thread(sky.at, when, ra, dec)
    except Exception as exc:  # astropy's tables unavailable: no Moon, still a frame
        log.warning("no sidereal time / Moon cards: %s", exc)
        return None
    return h.SkyInfo(lst_h=now.lst_h, moon_altitude_deg=now.moon_altitude_deg,
                     moon_illumination=now.moon_illumination,
                     moon_separation_deg=now.moon_separation_deg)


def known(value: float | None) -> float | None:
    """None for a reading a device does not have (a driver reports it as NaN: an
    Alpaca device answering "not implemented"), so the header leaves the card out."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


# --- cards from other tools ------------------------------------------------------------


class HeaderSource(Protocol):
    """A tool that contributes header cards (azcam's tempcon, instrument, telescope)."""

    async def header_cards(self) -> Mapping[str, tuple[Any, str]]: ...


async def tool_cards(sources: Iterable[HeaderSource]) -> dict[str, tuple[Any, str]]:
    """The cards of every source that answers, each checked (:func:`clean_cards`)."""
    cards: dict[str, tuple[Any, str]] = {}
    for source in sources:
        try:
            cards.update(await source.header_cards())
        except Exception as exc:  # one tool's failure must not lose the image
            log.warning("no header cards from %s: %s", type(source).__name__, exc)
    return clean_cards(cards)


def clean_cards(cards: Mapping[str, tuple[Any, str]]) -> dict[str, tuple[Any, str]]:
    """Cards a FITS header can hold; the others (no value, NaN, bad keyword or value) are
    dropped with a warning, so one tool's odd card never loses an image."""
    kept: dict[str, tuple[Any, str]] = {}
    for keyword, entry in cards.items():
        try:
            value, comment = entry
        except (TypeError, ValueError):
            log.warning("header card %s dropped: %r is not (value, comment)", keyword, entry)
            continue
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, np.generic):
            value = value.item()
        key = str(keyword).upper()
        text_ok = not isinstance(value, str) or (len(value) <= 68 and value.isascii()
                                                 and value.isprintable())
        if not _KEYWORD.match(key) or not isinstance(value, str | int | float | bool) \
                or not text_ok:
            log.warning("header card %s = %r dropped: not a FITS card", keyword, value)
            continue
        kept[key] = (value, str(comment or key))
    return kept
