"""Telescope members on nocturna's :class:`~nocturna.devices.mount.Mount`.

Units are nocturna's and ASCOM's alike: right ascension in hours, declination,
altitude and azimuth in degrees, guide and axis rates in degrees per second, the
declination rate in arcseconds per second, the right ascension rate in seconds of RA
per sidereal second.

* A false Can* flag makes its member 0x400; a parked mount refuses slews, syncs,
  axis moves and guiding with 0x408 (checked here too, whatever the driver does).
* ``Park`` and ``FindHome`` (nocturna's return when the motion has ended) run after
  the reply, ``Slewing`` being true meanwhile; ``AbortSlew`` cancels them.
* The target is set one coordinate at a time (``TargetRightAscension``,
  ``TargetDeclination``): a coordinate set before the other one is kept here until
  both are known. Reading a coordinate never set is 0x402; ``SlewToTarget`` or
  ``SyncToTarget`` without one is 0x40B.
* ``SlewToCoordinates``/``SlewToAltAz``/``SlewToTarget`` (synchronous) return when the
  slew has ended; the ``...Async`` forms when it has started.
* The mount's clock cannot be set (``UTCDate`` PUT is 0x400).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nocturna.alpaca.kinds import background
from nocturna.alpaca.kinds.background import PerDevice
from nocturna.alpaca.kinds.base import Args, Table, require
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    InvalidWhileParkedError,
    NotImplementedByDeviceError,
    ValueNotSetError,
)
from nocturna.devices.mount import Mount
from nocturna.devices.types import DriveRate, GuideDirection, PierSide, TelescopeAxis

table = Table()
BACKGROUND_MOTIONS = ("park", "findhome")


@dataclass
class _Target:
    ra_hours: float | None = None
    dec_deg: float | None = None


_targets: PerDevice[_Target] = PerDevice()


async def _refuse_if_parked(device: Mount, member: str) -> None:
    if (await device.state()).at_park:
        raise InvalidWhileParkedError(f"telescope {device.name!r} is parked: {member} refused")


def _axis(value: int) -> TelescopeAxis:
    try:
        return TelescopeAxis(value)
    except ValueError:
        raise InvalidValueError(f"axis {value} is not 0 (primary), 1 (secondary) or "
                                "2 (tertiary)") from None


def _check_ra(value: float) -> float:
    if not 0.0 <= value < 24.0:
        raise InvalidValueError(f"right ascension {value} h is not in [0, 24)")
    return value


def _check_dec(value: float) -> float:
    if not -90.0 <= value <= 90.0:
        raise InvalidValueError(f"declination {value}° is not in [-90, 90]")
    return value


def _info_getter(member: str, attribute: str) -> None:
    async def get(device: Mount, args: Args) -> Any:
        return getattr(await device.info(), attribute)

    get.__name__ = f"get_{member}"
    table.get(member)(get)


def _state_getter(member: str, attribute: str) -> None:
    async def get(device: Mount, args: Args) -> Any:
        return getattr(await device.state(), attribute)

    get.__name__ = f"get_{member}"
    table.get(member)(get)


for _member, _attribute in {
    "alignmentmode": "alignment_mode", "aperturearea": "aperture_area_m2",
    "aperturediameter": "aperture_diameter_m", "canfindhome": "can_find_home",
    "canpark": "can_park", "canpulseguide": "can_pulse_guide",
    "cansetdeclinationrate": "can_set_dec_rate", "cansetguiderates": "can_set_guide_rates",
    "cansetpark": "can_set_park", "cansetpierside": "can_set_pier_side",
    "cansetrightascensionrate": "can_set_ra_rate", "cansettracking": "can_set_tracking",
    "canslew": "can_slew", "canslewaltaz": "can_slew_alt_az",
    "canslewaltazasync": "can_slew_alt_az_async", "canslewasync": "can_slew_async",
    "cansync": "can_sync", "cansyncaltaz": "can_sync_alt_az", "canunpark": "can_unpark",
    "equatorialsystem": "equatorial_system", "focallength": "focal_length_m",
    "siteelevation": "site_elevation_m", "sitelatitude": "site_latitude_deg",
    "sitelongitude": "site_longitude_deg",
}.items():
    _info_getter(_member, _attribute)

for _member, _attribute in {
    "altitude": "alt_deg", "athome": "at_home", "atpark": "at_park", "azimuth": "az_deg",
    "declination": "dec_deg", "declinationrate": "dec_rate_arcsec_s",
    "doesrefraction": "does_refraction", "guideratedeclination": "guide_rate_dec_deg_s",
    "guideraterightascension": "guide_rate_ra_deg_s",
    "rightascension": "ra_hours", "rightascensionrate": "ra_rate",
    "sideofpier": "side_of_pier", "siderealtime": "sidereal_time_hours",
    "tracking": "tracking", "trackingrate": "tracking_rate", "utcdate": "utc_date",
}.items():
    _state_getter(_member, _attribute)


# ---------------------------------------------------------------- properties
@table.get("slewing")
async def slewing(device: Mount, args: Args) -> bool:
    return (await device.state()).slewing or background.running(device, *BACKGROUND_MOTIONS)


@table.get("ispulseguiding")
async def is_pulse_guiding(device: Mount, args: Args) -> bool:
    await require(device, "can_pulse_guide", "report IsPulseGuiding")
    return (await device.state()).is_pulse_guiding


@table.get("slewsettletime")
async def get_slew_settle_time(device: Mount, args: Args) -> int:
    return round((await device.state()).slew_settle_time_s)


@table.put("slewsettletime")
async def put_slew_settle_time(device: Mount, args: Args) -> None:
    seconds = args["SlewSettleTime"]
    if seconds < 0:
        raise InvalidValueError(f"slew settle time {seconds} s is negative")
    await device.set_slew_settle_time(float(seconds))


@table.get("axisrates")
async def axis_rates(device: Mount, args: Args) -> list[dict[str, float]]:
    axis = _axis(args["Axis"])
    rates = (await device.info()).axis_rates
    chosen = rates[axis] if axis < len(rates) else []
    return [{"Minimum": rate.minimum_deg_s, "Maximum": rate.maximum_deg_s} for rate in chosen]


@table.get("canmoveaxis")
async def can_move_axis(device: Mount, args: Args) -> bool:
    axis = _axis(args["Axis"])
    flags = (await device.info()).can_move_axis
    return bool(flags[axis]) if axis < len(flags) else False


@table.get("trackingrates")
async def tracking_rates(device: Mount, args: Args) -> list[int]:
    return [int(rate) for rate in (await device.info()).tracking_rates]


@table.get("destinationsideofpier")
async def destination_side_of_pier(device: Mount, args: Args) -> PierSide:
    return await device.destination_side_of_pier(_check_ra(args["RightAscension"]),
                                                 _check_dec(args["Declination"]))


@table.put("declinationrate")
async def put_declination_rate(device: Mount, args: Args) -> None:
    await require(device, "can_set_dec_rate", "set DeclinationRate")
    await device.set_dec_rate(args["DeclinationRate"])


@table.put("rightascensionrate")
async def put_right_ascension_rate(device: Mount, args: Args) -> None:
    await require(device, "can_set_ra_rate", "set RightAscensionRate")
    await device.set_ra_rate(args["RightAscensionRate"])


@table.put("doesrefraction")
async def put_does_refraction(device: Mount, args: Args) -> None:
    await device.set_does_refraction(args["DoesRefraction"])


@table.put("guideratedeclination")
async def put_guide_rate_declination(device: Mount, args: Args) -> None:
    await require(device, "can_set_guide_rates", "set GuideRateDeclination")
    state = await device.state()
    await device.set_guide_rates(state.guide_rate_ra_deg_s, args["GuideRateDeclination"])


@table.put("guideraterightascension")
async def put_guide_rate_right_ascension(device: Mount, args: Args) -> None:
    await require(device, "can_set_guide_rates", "set GuideRateRightAscension")
    state = await device.state()
    await device.set_guide_rates(args["GuideRateRightAscension"], state.guide_rate_dec_deg_s)


@table.put("sideofpier")
async def put_side_of_pier(device: Mount, args: Args) -> None:
    await require(device, "can_set_pier_side", "set SideOfPier")
    value = args["SideOfPier"]
    if value not in (PierSide.EAST, PierSide.WEST):
        raise InvalidValueError(f"side of pier {value} is not 0 (east) or 1 (west)")
    await device.set_side_of_pier(PierSide(value))


@table.put("siteelevation")
async def put_site_elevation(device: Mount, args: Args) -> None:
    value = args["SiteElevation"]
    if not -300.0 <= value <= 10000.0:
        raise InvalidValueError(f"SiteElevation {value} m is invalid: the valid range is "
                                "-300 to 10000")
    info = await device.info()
    await device.set_site(info.site_latitude_deg, info.site_longitude_deg, value)


@table.put("sitelatitude")
async def put_site_latitude(device: Mount, args: Args) -> None:
    value = args["SiteLatitude"]
    if not -90.0 <= value <= 90.0:
        raise InvalidValueError(f"SiteLatitude {value}° is invalid: the valid range is -90 "
                                "to 90")
    info = await device.info()
    await device.set_site(value, info.site_longitude_deg, info.site_elevation_m)


@table.put("sitelongitude")
async def put_site_longitude(device: Mount, args: Args) -> None:
    value = args["SiteLongitude"]
    if not -180.0 <= value <= 180.0:
        raise InvalidValueError(f"SiteLongitude {value}° is invalid: the valid range is "
                                "-180 to 180")
    info = await device.info()
    await device.set_site(info.site_latitude_deg, value, info.site_elevation_m)


@table.put("tracking")
async def put_tracking(device: Mount, args: Args) -> None:
    await require(device, "can_set_tracking", "set Tracking")
    await device.set_tracking(args["Tracking"])


@table.put("trackingrate")
async def put_tracking_rate(device: Mount, args: Args) -> None:
    value = args["TrackingRate"]
    try:
        rate = DriveRate(value)
    except ValueError:
        raise InvalidValueError(f"tracking rate {value} is not 0 (sidereal), 1 (lunar), "
                                "2 (solar) or 3 (King)") from None
    if rate not in (await device.info()).tracking_rates:
        raise InvalidValueError(f"telescope {device.name!r} cannot track at the "
                                f"{rate.name.lower()} rate")
    await device.set_tracking_rate(rate)


@table.put("utcdate")
async def put_utc_date(device: Mount, args: Args) -> None:
    raise NotImplementedByDeviceError(f"telescope {device.name!r}: UTCDate cannot be set "
                                      "(the mount follows nocturna's clock)")


# -------------------------------------------------------------------- target
def _pending(device: Mount) -> _Target:
    return _targets.get(device) or _targets.set(device, _Target())


async def _target(device: Mount) -> tuple[float | None, float | None]:
    pending, state = _pending(device), await device.state()
    ra = pending.ra_hours if pending.ra_hours is not None else state.target_ra_hours
    dec = pending.dec_deg if pending.dec_deg is not None else state.target_dec_deg
    return ra, dec


@table.get("targetrightascension")
async def get_target_right_ascension(device: Mount, args: Args) -> float:
    ra, _ = await _target(device)
    if ra is None:
        raise ValueNotSetError(f"telescope {device.name!r}: TargetRightAscension has not "
                               "been set")
    return ra


@table.get("targetdeclination")
async def get_target_declination(device: Mount, args: Args) -> float:
    _, dec = await _target(device)
    if dec is None:
        raise ValueNotSetError(f"telescope {device.name!r}: TargetDeclination has not been "
                               "set")
    return dec


async def _set_target(device: Mount, ra: float | None, dec: float | None) -> None:
    pending = _pending(device)
    if ra is not None:
        pending.ra_hours = _check_ra(ra)
    if dec is not None:
        pending.dec_deg = _check_dec(dec)
    both_ra, both_dec = await _target(device)
    if both_ra is not None and both_dec is not None:
        await device.set_target(both_ra, both_dec)
        _targets.pop(device)


@table.put("targetrightascension")
async def put_target_right_ascension(device: Mount, args: Args) -> None:
    await _set_target(device, args["TargetRightAscension"], None)


@table.put("targetdeclination")
async def put_target_declination(device: Mount, args: Args) -> None:
    await _set_target(device, None, args["TargetDeclination"])


async def _known_target(device: Mount) -> tuple[float, float]:
    ra, dec = await _target(device)
    if ra is None or dec is None:
        raise InvalidOperationError(f"telescope {device.name!r}: no target has been set "
                                    "(TargetRightAscension and TargetDeclination)")
    return ra, dec


# --------------------------------------------------------------------- slews
async def _slew_coordinates(device: Mount, ra: float, dec: float) -> None:
    await _refuse_if_parked(device, "slew")
    await device.slew_to_coordinates(_check_ra(ra), _check_dec(dec))
    _targets.pop(device)


@table.put("slewtocoordinates")
async def slew_to_coordinates(device: Mount, args: Args) -> None:
    await require(device, "can_slew", "SlewToCoordinates")
    await _slew_coordinates(device, args["RightAscension"], args["Declination"])
    await device.wait_for_slew()


@table.put("slewtocoordinatesasync")
async def slew_to_coordinates_async(device: Mount, args: Args) -> None:
    await require(device, "can_slew_async", "SlewToCoordinatesAsync")
    await _slew_coordinates(device, args["RightAscension"], args["Declination"])


@table.put("slewtotarget")
async def slew_to_target(device: Mount, args: Args) -> None:
    await require(device, "can_slew", "SlewToTarget")
    await _slew_coordinates(device, *await _known_target(device))
    await device.wait_for_slew()


@table.put("slewtotargetasync")
async def slew_to_target_async(device: Mount, args: Args) -> None:
    await require(device, "can_slew_async", "SlewToTargetAsync")
    await _slew_coordinates(device, *await _known_target(device))


async def _slew_alt_az(device: Mount, args: Args) -> None:
    await _refuse_if_parked(device, "slew")
    await device.slew_to_alt_az(args["Altitude"], args["Azimuth"])


@table.put("slewtoaltaz")
async def slew_to_alt_az(device: Mount, args: Args) -> None:
    await require(device, "can_slew_alt_az", "SlewToAltAz")
    await _slew_alt_az(device, args)
    await device.wait_for_slew()


@table.put("slewtoaltazasync")
async def slew_to_alt_az_async(device: Mount, args: Args) -> None:
    await require(device, "can_slew_alt_az_async", "SlewToAltAzAsync")
    await _slew_alt_az(device, args)


@table.put("abortslew")
async def abort_slew(device: Mount, args: Args) -> None:
    await background.cancel(device, *BACKGROUND_MOTIONS)
    await device.abort_slew()


# --------------------------------------------------------------------- syncs
@table.put("synctocoordinates")
async def sync_to_coordinates(device: Mount, args: Args) -> None:
    await require(device, "can_sync", "SyncToCoordinates")
    await _refuse_if_parked(device, "sync")
    await device.sync_to_coordinates(_check_ra(args["RightAscension"]),
                                     _check_dec(args["Declination"]))
    _targets.pop(device)


@table.put("synctotarget")
async def sync_to_target(device: Mount, args: Args) -> None:
    await require(device, "can_sync", "SyncToTarget")
    await _refuse_if_parked(device, "sync")
    await device.sync_to_coordinates(*await _known_target(device))
    _targets.pop(device)


@table.put("synctoaltaz")
async def sync_to_alt_az(device: Mount, args: Args) -> None:
    await require(device, "can_sync_alt_az", "SyncToAltAz")
    await _refuse_if_parked(device, "sync")
    await device.sync_to_alt_az(args["Altitude"], args["Azimuth"])


# -------------------------------------------------------- park, home, moves
@table.put("park")
async def park(device: Mount, args: Args) -> None:
    await require(device, "can_park", "Park")
    if (await device.state()).at_park:
        return
    await background.cancel(device, "findhome")
    background.start(device, "park", device.park())


@table.put("unpark")
async def unpark(device: Mount, args: Args) -> None:
    await require(device, "can_unpark", "Unpark")
    await background.cancel(device, "park")
    await device.unpark()


@table.put("setpark")
async def set_park(device: Mount, args: Args) -> None:
    await require(device, "can_set_park", "SetPark")
    await device.set_park()


@table.put("findhome")
async def find_home(device: Mount, args: Args) -> None:
    await require(device, "can_find_home", "FindHome")
    await _refuse_if_parked(device, "find home")
    await background.cancel(device, "park")
    background.start(device, "findhome", device.find_home())


@table.put("moveaxis")
async def move_axis(device: Mount, args: Args) -> None:
    axis = _axis(args["Axis"])
    flags = (await device.info()).can_move_axis
    if axis >= len(flags) or not flags[axis]:
        raise NotImplementedByDeviceError(f"telescope {device.name!r} cannot move its "
                                          f"{axis.name.lower()} axis")
    await _refuse_if_parked(device, "move an axis")
    await device.move_axis(axis, args["Rate"])


@table.put("pulseguide")
async def pulse_guide(device: Mount, args: Args) -> None:
    await require(device, "can_pulse_guide", "PulseGuide")
    try:
        direction = GuideDirection(args["Direction"])
    except ValueError:
        raise InvalidValueError(f"guide direction {args['Direction']} is not 0..3 (north, "
                                "south, east, west)") from None
    if args["Duration"] < 0:
        raise InvalidValueError(f"pulse duration {args['Duration']} ms is negative")
    await _refuse_if_parked(device, "pulse guide")
    await device.pulse_guide(direction, args["Duration"])


HANDLERS = table.handlers


async def device_state(device: Mount) -> dict[str, Any]:
    """Telescope DeviceState: the operational properties of ITelescopeV4."""
    state = await device.state()
    return {
        "Altitude": state.alt_deg, "AtHome": state.at_home, "AtPark": state.at_park,
        "Azimuth": state.az_deg, "Declination": state.dec_deg,
        "IsPulseGuiding": state.is_pulse_guiding, "RightAscension": state.ra_hours,
        "SideOfPier": state.side_of_pier, "SiderealTime": state.sidereal_time_hours,
        "Slewing": state.slewing or background.running(device, *BACKGROUND_MOTIONS),
        "Tracking": state.tracking, "UTCDate": state.utc_date,
    }
