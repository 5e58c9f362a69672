"""Mount interface (ASCOM ITelescopeV4 semantics).

Right ascension is in hours, declination and altitude/azimuth in degrees, rates in
arcseconds per second (RA rate in seconds of RA per sidereal second, as ASCOM), axis
rates in degrees per second. The equatorial system of the coordinates is reported in
:attr:`MountInfo.equatorial_system`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime

from nocturna.devices.base import Device, Snapshot, command
from nocturna.devices.types import (
    AlignmentMode,
    DriveRate,
    EquatorialSystem,
    GuideDirection,
    PierSide,
    TelescopeAxis,
)


def german_pier_side(hour_angle_deg: float) -> PierSide:
    """The side of the pier a German mount takes to point at ``hour_angle_deg`` (west
    positive), as ASCOM names it: EAST for [0, 180), WEST for the other half."""
    return PierSide.EAST if 0.0 <= (hour_angle_deg + 180.0) % 360.0 - 180.0 < 180.0 \
        else PierSide.WEST


@dataclass(frozen=True)
class AxisRate(Snapshot):
    minimum_deg_s: float
    maximum_deg_s: float


@dataclass(frozen=True)
class MountInfo(Snapshot):
    alignment_mode: AlignmentMode
    equatorial_system: EquatorialSystem
    aperture_diameter_m: float
    aperture_area_m2: float
    focal_length_m: float
    site_latitude_deg: float
    site_longitude_deg: float
    site_elevation_m: float
    min_altitude_deg: float  # slews below this are refused
    max_altitude_deg: float
    tracking_rates: list[DriveRate]
    axis_rates: list[list[AxisRate]]  # per axis (primary, secondary, tertiary)
    can_find_home: bool
    can_park: bool
    can_unpark: bool
    can_set_park: bool
    can_pulse_guide: bool
    can_set_tracking: bool
    can_set_guide_rates: bool
    can_set_pier_side: bool
    can_set_ra_rate: bool
    can_set_dec_rate: bool
    can_slew: bool
    can_slew_async: bool
    can_slew_alt_az: bool
    can_slew_alt_az_async: bool
    can_sync: bool
    can_sync_alt_az: bool
    can_move_axis: list[bool]  # per axis


@dataclass(frozen=True)
class MountStatus(Snapshot):
    ra_hours: float
    dec_deg: float
    alt_deg: float
    az_deg: float
    sidereal_time_hours: float
    side_of_pier: PierSide
    slewing: bool
    tracking: bool
    tracking_rate: DriveRate
    ra_rate: float  # seconds of RA per sidereal second, offset from the tracking rate
    dec_rate_arcsec_s: float
    guide_rate_ra_deg_s: float
    guide_rate_dec_deg_s: float
    at_park: bool
    at_home: bool
    is_pulse_guiding: bool
    target_ra_hours: float | None
    target_dec_deg: float | None
    slew_settle_time_s: float
    does_refraction: bool
    utc_date: datetime


class Mount(Device):
    """A telescope mount: slews, syncs, tracking, park/home, guiding, axis moves."""

    kind = "telescope"
    interface_version = 4

    @abstractmethod
    @command
    async def info(self) -> MountInfo:
        """Capabilities, optics and site."""

    @abstractmethod
    @command
    async def state(self) -> MountStatus:
        """Where the mount points and what it is doing."""

    @abstractmethod
    @command
    async def slew_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        """Start a slew (returns at once; ``slewing`` in the state until it ends)."""

    @command
    async def slew_to_alt_az(self, alt_deg: float, az_deg: float) -> None:
        raise self.not_implemented("slew_to_alt_az")

    @command
    async def set_target(self, ra_hours: float, dec_deg: float) -> None:
        raise self.not_implemented("set_target")

    @command
    async def slew_to_target(self) -> None:
        raise self.not_implemented("slew_to_target")

    @command
    async def sync_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        """Declare that the mount points at (ra, dec) now."""
        raise self.not_implemented("sync_to_coordinates")

    @command
    async def sync_to_alt_az(self, alt_deg: float, az_deg: float) -> None:
        raise self.not_implemented("sync_to_alt_az")

    @command
    async def sync_to_target(self) -> None:
        raise self.not_implemented("sync_to_target")

    @abstractmethod
    @command
    async def abort_slew(self) -> None:
        """Stop any slew or axis move."""

    @command
    async def set_tracking(self, on: bool) -> None:
        raise self.not_implemented("set_tracking")

    @command
    async def set_tracking_rate(self, rate: DriveRate) -> None:
        raise self.not_implemented("set_tracking_rate")

    @command
    async def set_ra_rate(self, rate: float) -> None:
        raise self.not_implemented("set_ra_rate")

    @command
    async def set_dec_rate(self, arcsec_s: float) -> None:
        raise self.not_implemented("set_dec_rate")

    @command
    async def set_guide_rates(self, ra_deg_s: float, dec_deg_s: float) -> None:
        raise self.not_implemented("set_guide_rates")

    @command(timeout_s=600.0)  # returns only when the motion has ended
    async def park(self) -> None:
        """Move to the park position and stop (returns when parked, as ASCOM)."""
        raise self.not_implemented("park")

    @command
    async def unpark(self) -> None:
        raise self.not_implemented("unpark")

    @command
    async def set_park(self) -> None:
        """Make the current position the park position."""
        raise self.not_implemented("set_park")

    @command(timeout_s=600.0)  # returns only when the motion has ended
    async def find_home(self) -> None:
        raise self.not_implemented("find_home")

    @command
    async def move_axis(self, axis: TelescopeAxis, rate_deg_s: float) -> None:
        """Move an axis at a rate (0 stops it)."""
        raise self.not_implemented("move_axis")

    @command
    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        raise self.not_implemented("pulse_guide")

    @command
    async def set_side_of_pier(self, side: PierSide) -> None:
        raise self.not_implemented("set_side_of_pier")

    @command(read_only=True)
    async def destination_side_of_pier(self, ra_hours: float, dec_deg: float) -> PierSide:
        raise self.not_implemented("destination_side_of_pier")

    @command
    async def set_slew_settle_time(self, seconds: float) -> None:
        raise self.not_implemented("set_slew_settle_time")

    @command
    async def set_does_refraction(self, on: bool) -> None:
        raise self.not_implemented("set_does_refraction")

    @command
    async def set_site(self, latitude_deg: float, longitude_deg: float,
                       elevation_m: float) -> None:
        raise self.not_implemented("set_site")

    async def slew_and_wait(self, ra_hours: float, dec_deg: float, *,
                            timeout_s: float = 600.0) -> MountStatus:
        """Slew to (ra, dec) and wait on the clock until the slew has ended."""
        await self.slew_to_coordinates(ra_hours, dec_deg)
        return await self.wait_for_slew(timeout_s=timeout_s)

    async def wait_for_slew(self, *, timeout_s: float = 600.0) -> MountStatus:
        return await self.wait_until(lambda s: not s.slewing, timeout_s=timeout_s,
                                     poll_s=0.5, what="the slew")
