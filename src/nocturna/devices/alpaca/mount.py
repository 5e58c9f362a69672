"""Alpaca telescope client (ASCOM ITelescope over HTTP)."""

from __future__ import annotations

import asyncio
import dataclasses
import math
from typing import Any

from nocturna.core.errors import DeviceTimeoutError, InvalidValueError
from nocturna.devices.alpaca.device import (
    REQUIRED,
    AlpacaDevice,
    Unset,
    as_bool,
    as_enum,
    as_float,
    nan_if_none,
    optional_float,
    parse_time,
)
from nocturna.devices.base import command
from nocturna.devices.mount import AxisRate, Mount, MountInfo, MountStatus
from nocturna.devices.types import (
    AlignmentMode,
    DriveRate,
    EquatorialSystem,
    GuideDirection,
    PierSide,
    TelescopeAxis,
)

MOTION_POLL_S = 0.25
"""How often park() and find_home() read the mount until the motion has ended."""
MOTION_S = 600.0
"""The longest a synchronous motion (Park, FindHome, a slew without its asynchronous
form) may keep its request open."""

_CAPABILITIES = (
    "canfindhome", "canpark", "canunpark", "cansetpark", "canpulseguide", "cansettracking",
    "cansetguiderates", "cansetpierside", "cansetrightascensionrate",
    "cansetdeclinationrate", "canslew", "canslewasync", "canslewaltaz", "canslewaltazasync",
    "cansync", "cansyncaltaz",
)
_INFO: dict[str, Any] = {
    "alignmentmode": int(AlignmentMode.GERMAN_POLAR),
    "equatorialsystem": int(EquatorialSystem.TOPOCENTRIC), "aperturediameter": None,
    "aperturearea": None, "focallength": None, "sitelatitude": None, "sitelongitude": None,
    "siteelevation": None, "trackingrates": [int(DriveRate.SIDEREAL)],
    **dict.fromkeys(_CAPABILITIES, False),
}
_STATE: dict[str, Any] = {
    "rightascension": REQUIRED, "declination": REQUIRED, "altitude": None, "azimuth": None,
    "siderealtime": None, "sideofpier": int(PierSide.UNKNOWN), "slewing": REQUIRED,
    "tracking": False, "trackingrate": int(DriveRate.SIDEREAL), "rightascensionrate": 0.0,
    "declinationrate": 0.0, "guideraterightascension": None, "guideratedeclination": None,
    "atpark": False, "athome": False, "ispulseguiding": False,
    "targetrightascension": Unset(None), "targetdeclination": Unset(None),
    "slewsettletime": 0.0, "doesrefraction": False, "utcdate": None,
}


class AlpacaMount(AlpacaDevice, Mount):
    """A telescope mount on an Alpaca server.

    The client knows no altitude limits of its own (``min_altitude_deg`` -90,
    ``max_altitude_deg`` 90): the server refuses what its mount cannot do.
    """

    alpaca_type = "telescope"
    device_state_since = 4

    async def _read_info(self) -> MountInfo:
        axes = range(3)
        v, rates, movable = await asyncio.gather(
            self._values(_INFO),
            asyncio.gather(*(self._value("axisrates", [], Axis=a) for a in axes)),
            asyncio.gather(*(self._value("canmoveaxis", False, Axis=a) for a in axes)),
        )
        return MountInfo(
            alignment_mode=as_enum(AlignmentMode, v["alignmentmode"]),
            equatorial_system=as_enum(EquatorialSystem, v["equatorialsystem"]),
            aperture_diameter_m=nan_if_none(v["aperturediameter"]),
            aperture_area_m2=nan_if_none(v["aperturearea"]),
            focal_length_m=nan_if_none(v["focallength"]),
            site_latitude_deg=nan_if_none(v["sitelatitude"]),
            site_longitude_deg=nan_if_none(v["sitelongitude"]),
            site_elevation_m=nan_if_none(v["siteelevation"]),
            min_altitude_deg=-90.0, max_altitude_deg=90.0,
            tracking_rates=[as_enum(DriveRate, r) for r in v["trackingrates"]],
            axis_rates=[[AxisRate(as_float(r["Minimum"]), as_float(r["Maximum"]))
                         for r in axis] for axis in rates],
            can_find_home=as_bool(v["canfindhome"]), can_park=as_bool(v["canpark"]),
            can_unpark=as_bool(v["canunpark"]), can_set_park=as_bool(v["cansetpark"]),
            can_pulse_guide=as_bool(v["canpulseguide"]),
            can_set_tracking=as_bool(v["cansettracking"]),
            can_set_guide_rates=as_bool(v["cansetguiderates"]),
            can_set_pier_side=as_bool(v["cansetpierside"]),
            can_set_ra_rate=as_bool(v["cansetrightascensionrate"]),
            can_set_dec_rate=as_bool(v["cansetdeclinationrate"]),
            can_slew=as_bool(v["canslew"]), can_slew_async=as_bool(v["canslewasync"]),
            can_slew_alt_az=as_bool(v["canslewaltaz"]),
            can_slew_alt_az_async=as_bool(v["canslewaltazasync"]),
            can_sync=as_bool(v["cansync"]), can_sync_alt_az=as_bool(v["cansyncaltaz"]),
            can_move_axis=[as_bool(m) for m in movable],
        )

    async def info(self) -> MountInfo:
        return self._info

    async def state(self) -> MountStatus:
        v = await self._values(_STATE, state=True)
        return MountStatus(
            ra_hours=as_float(v["rightascension"]), dec_deg=as_float(v["declination"]),
            alt_deg=nan_if_none(v["altitude"]), az_deg=nan_if_none(v["azimuth"]),
            sidereal_time_hours=nan_if_none(v["siderealtime"]),
            side_of_pier=as_enum(PierSide, v["sideofpier"]), slewing=as_bool(v["slewing"]),
            tracking=as_bool(v["tracking"]), tracking_rate=as_enum(DriveRate, v["trackingrate"]),
            ra_rate=as_float(v["rightascensionrate"]),
            dec_rate_arcsec_s=as_float(v["declinationrate"]),
            guide_rate_ra_deg_s=nan_if_none(v["guideraterightascension"]),
            guide_rate_dec_deg_s=nan_if_none(v["guideratedeclination"]),
            at_park=as_bool(v["atpark"]), at_home=as_bool(v["athome"]),
            is_pulse_guiding=as_bool(v["ispulseguiding"]),
            target_ra_hours=optional_float(v["targetrightascension"]),
            target_dec_deg=optional_float(v["targetdeclination"]),
            slew_settle_time_s=as_float(v["slewsettletime"]),
            does_refraction=as_bool(v["doesrefraction"]),
            utc_date=parse_time(v["utcdate"]) or self.clock.now(),
        )

    # ---------------------------------------------------------------- slews
    def _asynchronous(self, member: str, can_async: bool) -> str:
        """The asynchronous form of a slew when the mount has it (returns at once)."""
        return f"{member}async" if can_async else member

    def _slew_timeout(self, member: str) -> float | None:
        return None if member.endswith("async") else MOTION_S

    @command(timeout_s=MOTION_S)  # a mount without the asynchronous slew returns after it
    async def slew_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        member = self._asynchronous("slewtocoordinates", self._info.can_slew_async)
        await self._put(member, RightAscension=float(ra_hours), Declination=float(dec_deg),
                        timeout_s=self._slew_timeout(member))

    @command(timeout_s=MOTION_S)
    async def slew_to_alt_az(self, alt_deg: float, az_deg: float) -> None:
        member = self._asynchronous("slewtoaltaz", self._info.can_slew_alt_az_async)
        await self._put(member, Azimuth=float(az_deg), Altitude=float(alt_deg),
                        timeout_s=self._slew_timeout(member))

    async def set_target(self, ra_hours: float, dec_deg: float) -> None:
        await self._put("targetrightascension", TargetRightAscension=float(ra_hours))
        await self._put("targetdeclination", TargetDeclination=float(dec_deg))

    @command(timeout_s=MOTION_S)
    async def slew_to_target(self) -> None:
        member = self._asynchronous("slewtotarget", self._info.can_slew_async)
        await self._put(member, timeout_s=self._slew_timeout(member))

    async def sync_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        await self._put("synctocoordinates", RightAscension=float(ra_hours),
                        Declination=float(dec_deg))

    async def sync_to_alt_az(self, alt_deg: float, az_deg: float) -> None:
        await self._put("synctoaltaz", Azimuth=float(az_deg), Altitude=float(alt_deg))

    async def sync_to_target(self) -> None:
        await self._put("synctotarget")

    async def abort_slew(self) -> None:
        await self._put("abortslew")

    # ------------------------------------------------------------- tracking
    async def set_tracking(self, on: bool) -> None:
        await self._put("tracking", Tracking=bool(on))

    async def set_tracking_rate(self, rate: DriveRate) -> None:
        await self._put("trackingrate", TrackingRate=int(rate))

    async def set_ra_rate(self, rate: float) -> None:
        await self._put("rightascensionrate", RightAscensionRate=float(rate))

    async def set_dec_rate(self, arcsec_s: float) -> None:
        await self._put("declinationrate", DeclinationRate=float(arcsec_s))

    async def set_guide_rates(self, ra_deg_s: float, dec_deg_s: float) -> None:
        await self._put("guideraterightascension", GuideRateRightAscension=float(ra_deg_s))
        await self._put("guideratedeclination", GuideRateDeclination=float(dec_deg_s))

    # ------------------------------------------------------------ park/home
    async def park(self) -> None:
        """Park, and return once the mount reports ``atpark`` and no longer slews."""
        await self._put("park", timeout_s=MOTION_S)
        await self._until(("atpark",), "parking")

    async def unpark(self) -> None:
        await self._put("unpark")

    async def set_park(self) -> None:
        await self._put("setpark")

    async def find_home(self) -> None:
        """Find home, and return once the mount is at home (or no longer slews)."""
        await self._put("findhome", timeout_s=MOTION_S)
        await self._until(("athome",), "finding home")

    async def _until(self, flags: tuple[str, ...], what: str, *,
                     timeout_s: float = 600.0) -> None:
        """Poll until every flag is true and the mount does not slew (servers whose
        Park/FindHome return before the motion ends, as ITelescopeV4 allows)."""
        deadline = self.clock.timestamp() + timeout_s
        spec = {"slewing": False, **dict.fromkeys(flags, True)}
        while True:
            values = await self._values(spec)
            if not as_bool(values["slewing"]) and all(as_bool(values[f]) for f in flags):
                return
            if self.clock.timestamp() >= deadline:
                raise DeviceTimeoutError(f"telescope {self.name!r}: {what} did not end "
                                         f"within {timeout_s:g} s")
            await self.clock.sleep(MOTION_POLL_S)

    # -------------------------------------------------------------- the rest
    async def move_axis(self, axis: TelescopeAxis, rate_deg_s: float) -> None:
        await self._put("moveaxis", Axis=int(axis), Rate=float(rate_deg_s))

    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        await self._put("pulseguide", Direction=int(direction), Duration=int(duration_ms))

    async def set_side_of_pier(self, side: PierSide) -> None:
        await self._put("sideofpier", SideOfPier=int(side))

    async def destination_side_of_pier(self, ra_hours: float, dec_deg: float) -> PierSide:
        value = await self._get("destinationsideofpier", RightAscension=float(ra_hours),
                                Declination=float(dec_deg))
        return as_enum(PierSide, value)

    async def set_slew_settle_time(self, seconds: float) -> None:
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidValueError(f"telescope {self.name!r}: settle time must be >= 0 s, "
                                    f"got {seconds!r}")
        await self._put("slewsettletime", SlewSettleTime=round(seconds))

    async def set_does_refraction(self, on: bool) -> None:
        await self._put("doesrefraction", DoesRefraction=bool(on))

    async def set_site(self, latitude_deg: float, longitude_deg: float,
                       elevation_m: float) -> None:
        await self._put("sitelatitude", SiteLatitude=float(latitude_deg))
        await self._put("sitelongitude", SiteLongitude=float(longitude_deg))
        await self._put("siteelevation", SiteElevation=float(elevation_m))
        self._info = dataclasses.replace(self._info, site_latitude_deg=float(latitude_deg),
                                         site_longitude_deg=float(longitude_deg),
                                         site_elevation_m=float(elevation_m))
