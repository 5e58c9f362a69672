"""Tracking correction: keep an observation's frames where its first frame was.

A mount that tracks well enough for one exposure still drifts over an hour (polar
misalignment, flexure, periodic error). :class:`TrackingCorrector` watches the frames of
an observation: the first light frame after a slew is the reference; before each next
frame it measures how far the last frame's stars moved (:func:`.shift.measure_shift`),
turns that into how far the pointing moved on the sky (the camera's plate scale and
rotation), and sends guide pulses that move it back — west/east for right ascension,
south/north for declination, each lasting offset / guide rate. Offsets below
``min_correction`` are left alone (noise, seeing); above ``max_correction`` they are
clipped (a bad match must not throw the field away). It waits for the pulses to end,
so the next exposure starts on the corrected pointing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError
from nocturna.devices.camera import CameraImage
from nocturna.devices.mount import Mount
from nocturna.devices.types import GuideDirection
from nocturna.images.wcs import tan_wcs
from nocturna.loops.shift import ShiftReference, measure_shift

log = logging.getLogger(__name__)

MIN_SIGNIFICANCE = 20.0  # correlation peaks below this are not trusted (see shift.py)
MAX_PULSE_MS = 3_600_000  # ASCOM's limit for one pulse


@dataclass(frozen=True)
class TrackingSettings:
    """Thresholds (``observatory.tracking`` in the configuration)."""

    min_correction_arcsec: float = 2.0
    max_correction_arcsec: float = 120.0

    def __post_init__(self) -> None:
        low, high = self.min_correction_arcsec, self.max_correction_arcsec
        if not (math.isfinite(low) and math.isfinite(high) and 0 <= low < high):
            raise InvalidValueError(f"tracking correction needs 0 <= min_correction < "
                                    f"max_correction, got {low!r}″ and {high!r}″")

    @classmethod
    def from_config(cls, cfg: Any) -> TrackingSettings:
        """From a :class:`~nocturna.core.config.models.TrackingCorrectionConfig`."""
        return cls(float(cfg.min_correction.to_value("arcsec")),
                   float(cfg.max_correction.to_value("arcsec")))


@dataclass(frozen=True)
class GuideCorrection:
    """A measured drift of the pointing (east, north ″) and the pulses that undo it."""

    east_arcsec: float
    north_arcsec: float
    ra_direction: GuideDirection
    ra_ms: int
    dec_direction: GuideDirection
    dec_ms: int
    clipped: bool

    @property
    def applied(self) -> bool:
        return self.ra_ms > 0 or self.dec_ms > 0


def guide_correction(east_arcsec: float, north_arcsec: float, dec_deg: float,
                     ra_rate_deg_s: float, dec_rate_deg_s: float,
                     settings: TrackingSettings) -> GuideCorrection:
    """The pulses that move the pointing back by (east, north) arcseconds.

    The RA guide rate moves right ascension (so the sky moves by rate·cos Dec); each
    axis is left alone below the minimum and clipped to the maximum.
    """
    if not (ra_rate_deg_s > 0 and dec_rate_deg_s > 0):
        raise InvalidValueError(f"guide rates must be > 0, got {ra_rate_deg_s!r} and "
                                f"{dec_rate_deg_s!r} deg/s")
    clipped = False

    def limited(offset: float) -> float:
        nonlocal clipped
        if abs(offset) < settings.min_correction_arcsec:
            return 0.0
        if abs(offset) > settings.max_correction_arcsec:
            clipped = True
            return math.copysign(settings.max_correction_arcsec, offset)
        return offset

    east, north = limited(east_arcsec), limited(north_arcsec)
    cos_dec = max(math.cos(math.radians(dec_deg)), 0.05)
    ra_ms = round(abs(east) / 3600.0 / cos_dec / ra_rate_deg_s * 1000.0)
    dec_ms = round(abs(north) / 3600.0 / dec_rate_deg_s * 1000.0)
    return GuideCorrection(
        east_arcsec, north_arcsec,
        GuideDirection.WEST if east > 0 else GuideDirection.EAST, min(ra_ms, MAX_PULSE_MS),
        GuideDirection.SOUTH if north > 0 else GuideDirection.NORTH, min(dec_ms, MAX_PULSE_MS),
        clipped)


@dataclass
class TrackingCorrector:
    """Guides an observation's frames back onto its first one; see the module notes.

    ``observe`` is given every frame as it is read out (an instrument frame observer);
    ``correct`` runs before the next frame; ``reset`` after every slew.
    """

    mount: Mount
    settings: TrackingSettings
    scale_arcsec: float  # unbinned plate scale
    rotation_deg: float = 0.0
    clock: Clock | None = None
    _reference: CameraImage | None = None
    _pending: CameraImage | None = None
    _prepared: ShiftReference | None = None  # the reference, ready to measure against

    def reset(self) -> None:
        """Forget the reference: the next frame becomes it (after a slew)."""
        self._reference = self._pending = self._prepared = None

    def observe(self, image: CameraImage) -> None:
        """Take note of a frame just read out (light frames only)."""
        if not image.light:
            return
        if self._reference is None or self._reference.data.shape != image.data.shape \
                or self._reference.bin_x != image.bin_x:
            self._reference, self._pending, self._prepared = image, None, None
        else:
            self._pending = image

    async def correct(self) -> GuideCorrection | None:
        """Measure the last frame against the reference and guide; None if nothing to do."""
        reference, image = self._reference, self._pending
        if reference is None or image is None:
            return None
        self._pending = None
        if self._prepared is None:
            self._prepared = await asyncio.to_thread(ShiftReference, reference.data)
        shift = await asyncio.to_thread(measure_shift, self._prepared, image.data)
        if shift.significance < MIN_SIGNIFICANCE:
            log.warning("tracking correction skipped: no clear match between frames "
                        "(significance %.1f)", shift.significance)
            return None
        east, north = self.pointing_offset(shift.dx, shift.dy, image.bin_x)
        status = await self.mount.state()
        correction = guide_correction(east, north, status.dec_deg, status.guide_rate_ra_deg_s,
                                      status.guide_rate_dec_deg_s, self.settings)
        if correction.applied:
            if correction.ra_ms:
                await self.mount.pulse_guide(correction.ra_direction, correction.ra_ms)
            if correction.dec_ms:
                await self.mount.pulse_guide(correction.dec_direction, correction.dec_ms)
            longest = max(correction.ra_ms, correction.dec_ms) / 1000.0
            await self.mount.wait_until(lambda s: not s.is_pulse_guiding,
                                        timeout_s=longest + 30.0, poll_s=0.2,
                                        what="the guide pulses")
        return correction

    def pointing_offset(self, dx: float, dy: float, binning: int) -> tuple[float, float]:
        """(east, north) arcsec the pointing moved when the stars moved (dx, dy) pixels."""
        cd = tan_wcs(0.0, 0.0, scale_arcsec=self.scale_arcsec * binning, width=2, height=2,
                     rotation_deg=self.rotation_deg).wcs.cd
        east = -(cd[0][0] * dx + cd[0][1] * dy) * 3600.0
        north = -(cd[1][0] * dx + cd[1][1] * dy) * 3600.0
        return float(east), float(north)
