"""iOptron mounts (CEM40, CEM60, CEM120, iEQ30 Pro...) over RS-232, the "v3" protocol.

The hand controller's language is in :mod:`.protocol`. Coordinates: nocturna's mounts
take and report J2000 (``equatorial_system`` J2000); the mount works of date, so the
driver converts both ways as the INDI driver does (:mod:`nocturna.devices.sim.equatorial`).
Alt/az come from the coordinates of date, the sidereal time and the site the mount
reports. Long operations follow ASCOM: a goto starts and returns (``slewing`` in the
state until the mount reports tracking again); ``park`` and ``find_home`` return once
the mount reports parked / at home, reading its status every :data:`MOTION_POLL_S`
seconds of the clock.

Connecting (``handshake``): ``:MountInfo#`` (the model code; any 4 digits unless the
``model`` option names one), ``:FW1#``/``:FW2#`` (firmware), then, as the options say,
the time (``:SUT`` from nocturna's clock, ``:SG+000#`` UTC, ``:SDS0#``) and the site
(``:SLO``/``:SLA`` and the hemisphere ``:SHE1#``/``:SHE0#`` from the configured
site), and ``:GLS#``/``:AG#``.

Covered: status ``:GLS#`` and position ``:GEP#`` (state), gotos ``:SRA``/``:Sd``/``:MS1#``,
syncs ``:CM#``, abort ``:Q#``, park ``:MP1#``, unpark ``:MP0#``, set park ``:SPA``/``:SPH``
(from the current alt/az), home ``:MH#`` (the zero position), tracking ``:ST1#``/``:ST0#``,
rates ``:RT0..3#`` (sidereal, lunar, solar, King) and ``:RR``+``:RT4#`` (custom, as an RA
rate offset of -0.9..0.9 s/s), guide rates ``:RG``/``:AG#``, guide pulses ``:Z`` (up to
99 999 ms), axis moves ``:SR<n>#`` + ``:mn# :ms# :me# :mw#`` / ``:qR# :qD#`` (the nearest of
the nine slew speeds), the site ``:SLO``/``:SLA``/``:SHE``, the time ``:SUT``/``:SG``/``:SDS``;
the destination side of the pier is computed (German mount) from the target's hour angle.
Not covered: alt/az gotos and syncs, ``:MS2#`` (counterweight-up gotos), ``:MSH#`` (the
search for the home sensors), ``:SZP#``, PEC (``:SPP``/``:SPR``/``:GPE#``/``:GPR#``), the
meridian behaviour (``:SMT``/``:GMT#``), altitude limits (``:SAL``/``:GAL#``), ``:GUT#``
(read by the tests only), Dec rate offsets, setting the pier side; the site elevation is
kept by the driver only (the protocol has none).

Options in the device entry (besides ``port`` and the serial ones: ``baudrate``, default
115200 (the CEM120 runs at 230400), ``timeout_s``, ``connect_timeout_s``):

* ``model`` (the entry's field): the model the mount must be, a code (``"0040"``) or a
  name (``CEM40``, case-insensitive); another model fails the connect. Default: any.
* ``set_time`` (default true): set the mount's clock from nocturna's at connect.
* ``set_site`` (default true): set the mount's site from the configured site at connect
  (when the factory gives one).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, ClassVar, Self

from nocturna.core.clock import Clock
from nocturna.core.errors import (
    ConfigError,
    InvalidOperationError,
    InvalidValueError,
    InvalidWhileParkedError,
    NotImplementedByDeviceError,
    OperationCancelledError,
)
from nocturna.core.events import EventBus
from nocturna.devices.ioptron import protocol as iop
from nocturna.devices.mount import AxisRate, Mount, MountInfo, MountStatus, german_pier_side
from nocturna.devices.serial.device import SerialDevice
from nocturna.devices.serial.line import SerialProtocolError, SerialTimeoutError
from nocturna.devices.sim.equatorial import (
    SIDEREAL_DEG_PER_S,
    apparent_to_j2000,
    hadec_to_altaz,
    j2000_to_apparent,
    local_sidereal_deg,
    prepare_day,
)
from nocturna.devices.types import (
    AlignmentMode,
    DriveRate,
    EquatorialSystem,
    GuideDirection,
    PierSide,
    TelescopeAxis,
)

REPLY_S = 2.0
"""Seconds a reply may take (half the device's ``timeout_s`` if shorter, so that a mount
that stops answering is reported as such, naming the command)."""
MOTION_POLL_S = 1.0
"""How often park() and find_home() read the status until the motion has ended."""
MOTION_S = 600.0
"""The longest a park or a homing may take."""
RATES = {DriveRate.SIDEREAL: iop.TrackingRate.SIDEREAL,
         DriveRate.LUNAR: iop.TrackingRate.LUNAR,
         DriveRate.SOLAR: iop.TrackingRate.SOLAR, DriveRate.KING: iop.TrackingRate.KING}
MOVES = {(TelescopeAxis.PRIMARY, 1): b":mw#", (TelescopeAxis.PRIMARY, -1): b":me#",
         (TelescopeAxis.SECONDARY, 1): b":mn#", (TelescopeAxis.SECONDARY, -1): b":ms#"}
"""Axis moves: + is increasing RA / Dec (``:me#`` decreases RA, as INDI found)."""
STOPS = {TelescopeAxis.PRIMARY: b":qR#", TelescopeAxis.SECONDARY: b":qD#"}


def _flag(name: str, key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{name}.{key}: expected true or false, got {value!r}")


def _model_code(name: str, value: Any) -> str | None:
    """The 4-digit code the ``model`` option names (a code or a model name)."""
    if value is None:
        return None
    text = str(value).strip()
    if text in iop.MODELS:
        return text
    for code, model in iop.MODELS.items():
        if model.lower() == text.lower():
            return code
    raise ConfigError(f"{name}.model: {value!r} is not an iOptron model code or name "
                      f"(e.g. 0040 or CEM40, CEM60, iEQ30 Pro, CEM120)")


def _check_radec(ra_hours: float, dec_deg: float) -> None:
    if isinstance(ra_hours, bool) or not isinstance(ra_hours, int | float) \
            or not 0.0 <= ra_hours < 24.0:
        raise InvalidValueError(f"right ascension {ra_hours!r} h is not in [0, 24)")
    if isinstance(dec_deg, bool) or not isinstance(dec_deg, int | float) \
            or not -90.0 <= dec_deg <= 90.0:
        raise InvalidValueError(f"declination {dec_deg!r}° is not in [-90, 90]")


class IoptronMount(SerialDevice, Mount):
    """An iOptron mount on a serial port (see the module docstring)."""

    driver_name = "ioptron"
    default_baudrate = 115200
    extra_options: ClassVar[frozenset[str]] = frozenset({"set_time", "set_site"})

    def __init__(self, name: str, *, port: str, model: str | None = None,
                 set_time: bool = True, set_site: bool = True,
                 site: tuple[float, float, float] | None = None,
                 baudrate: int | None = None, description: str = "",
                 timeout_s: float = 10.0, connect_timeout_s: float = 5.0,
                 clock: Clock | None = None, events: EventBus | None = None) -> None:
        super().__init__(name, port=port, baudrate=baudrate, description=description,
                         timeout_s=timeout_s, connect_timeout_s=connect_timeout_s,
                         clock=clock, events=events)
        self.expected_model = _model_code(name, model)
        self.set_time_at_connect = _flag(name, "set_time", set_time)
        self.set_site_at_connect = _flag(name, "set_site", set_site)
        self.site = site
        """(latitude, longitude east, elevation m) to give the mount at connect."""
        self.model_code = ""
        self.firmware: iop.Firmware | None = None
        self._status: iop.Status | None = None
        self._guide = (math.nan, math.nan)  # fractions of sidereal
        self._custom = 0.0  # RA rate offset while tracking at the custom rate
        self._elevation = math.nan if site is None else float(site[2])
        self._target: tuple[float, float] | None = None

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> Self:
        """As :meth:`SerialDevice.from_config`, plus the entry's ``model`` (the model
        the mount must be); the factory's ``site`` is the one given to the mount at
        connect (``set_site``)."""
        device = super().from_config(cfg, **context)
        device.expected_model = _model_code(cfg.name, getattr(cfg, "model", None))
        site = context.get("site")
        if site is not None:
            import astropy.units as u

            device.site = (float(site.latitude.to_value(u.deg)),
                           float(site.longitude.to_value(u.deg)),
                           float(site.elevation.to_value(u.m)))
            device._elevation = device.site[2]
        return device

    # ----------------------------------------------------------- the wire
    @property
    def _reply_s(self) -> float:
        return min(REPLY_S, self.timeout_s / 2)

    async def _request(self, command: bytes, timeout_s: float | None = None,
                       **framing: Any) -> bytes:
        """One exchange; a timeout names the command that went unanswered."""
        try:
            return await self.line.request(command, timeout_s=timeout_s or self._reply_s,
                                           **framing)
        except SerialTimeoutError as exc:
            raise SerialTimeoutError(f"{exc} (the reply to {command.decode()})") from None

    async def _get(self, command: bytes) -> bytes:
        """A getter: the reply up to and including ``#``."""
        return await self._request(command, until=b"#")

    async def _set(self, command: bytes) -> bool:
        """A setter or motion: True for ``1``, False for ``0`` (refused)."""
        return iop.parse_ok(command, await self._request(command, size=1))

    async def _do(self, command: bytes, what: str) -> None:
        """A setter that must be accepted (``0`` raises, naming ``what``)."""
        if not await self._set(command):
            raise InvalidOperationError(f"{self.kind} {self.name!r} refused to {what} "
                                        f"({command.decode()} answered 0)")

    async def _send(self, command: bytes) -> None:
        """A command without reply (moves, guide pulses)."""
        await self._request(command, size=0)

    async def _read_status(self) -> iop.Status:
        self._status = iop.parse_status(await self._get(b":GLS#"))
        return self._status

    # ---------------------------------------------------------- connecting
    async def _handshake(self) -> None:
        reply = await self._request(b":MountInfo#", self.connect_timeout_s, size=4)
        code = iop.parse_model(reply)
        if self.expected_model is not None and code != self.expected_model:
            raise SerialProtocolError(
                f"{self.name}: the mount on {self.port} is a {iop.model_name(code)} "
                f"({code}), not the configured {iop.model_name(self.expected_model)}")
        self.model_code = code
        self.firmware = iop.parse_firmware(await self._get(b":FW1#"),
                                           await self._get(b":FW2#"))
        if self.set_time_at_connect:
            await self._do(iop.set_utc(self.clock.now()), "set its clock")
            await self._do(iop.set_utc_offset(0), "set its time zone")
            await self._do(iop.set_dst(False), "set daylight saving")
        if self.set_site_at_connect and self.site is not None:
            await self._write_site(self.site[0], self.site[1])
        status = await self._read_status()
        self._guide = iop.parse_guide_rates(await self._get(b":AG#"))
        # the first use of astropy/ERFA costs seconds: paid here, off the event loop
        await asyncio.to_thread(prepare_day, self.clock.timestamp(), status.longitude_deg)

    async def _write_site(self, latitude_deg: float, longitude_deg: float) -> None:
        await self._do(iop.set_longitude(longitude_deg), "set its longitude")
        await self._do(iop.set_latitude(latitude_deg), "set its latitude")
        await self._do(iop.set_hemisphere(latitude_deg >= 0), "set its hemisphere")

    @property
    def model_name(self) -> str:
        return iop.model_name(self.model_code) if self.model_code else ""

    # ------------------------------------------------------------ snapshots
    def _site_fields(self) -> dict[str, float]:
        status = self._status
        return {"site_latitude_deg": status.latitude_deg if status else math.nan,
                "site_longitude_deg": status.longitude_deg if status else math.nan,
                "site_elevation_m": self._elevation}

    async def info(self) -> MountInfo:
        speeds = [AxisRate(iop.SLEW_SPEEDS[0] * SIDEREAL_DEG_PER_S,
                           iop.SLEW_SPEEDS[-1] * SIDEREAL_DEG_PER_S)]
        return MountInfo(
            alignment_mode=AlignmentMode.GERMAN_POLAR,
            equatorial_system=EquatorialSystem.J2000,
            aperture_diameter_m=math.nan, aperture_area_m2=math.nan, focal_length_m=math.nan,
            **self._site_fields(),
            min_altitude_deg=-90.0, max_altitude_deg=90.0,
            tracking_rates=list(RATES),
            axis_rates=[list(speeds), list(speeds), []],
            can_find_home=True, can_park=True, can_unpark=True, can_set_park=True,
            can_pulse_guide=True, can_set_tracking=True, can_set_guide_rates=True,
            can_set_pier_side=False, can_set_ra_rate=True, can_set_dec_rate=False,
            can_slew=False, can_slew_async=True, can_slew_alt_az=False,
            can_slew_alt_az_async=False, can_sync=True, can_sync_alt_az=False,
            can_move_axis=[True, True, False],
        )

    async def state(self) -> MountStatus:
        status = await self._read_status()
        position = iop.parse_position(await self._get(b":GEP#"))
        t = self.clock.timestamp()
        ra_app, dec_app = position.ra_hours * 15.0, position.dec_deg
        ra, dec = apparent_to_j2000(ra_app, dec_app, t)
        lst = local_sidereal_deg(t, status.longitude_deg)
        alt, az = hadec_to_altaz(lst - ra_app, dec_app, status.latitude_deg)
        custom = status.tracking_rate == iop.TrackingRate.CUSTOM
        target = self._target
        return MountStatus(
            ra_hours=ra / 15.0, dec_deg=dec, alt_deg=alt, az_deg=az,
            sidereal_time_hours=lst / 15.0, side_of_pier=position.pier_side,
            slewing=status.slewing, tracking=status.tracking,
            tracking_rate=(DriveRate.SIDEREAL if custom
                           else DriveRate(int(status.tracking_rate))),
            ra_rate=self._custom if custom else 0.0, dec_rate_arcsec_s=0.0,
            guide_rate_ra_deg_s=self._guide[0] * SIDEREAL_DEG_PER_S,
            guide_rate_dec_deg_s=self._guide[1] * SIDEREAL_DEG_PER_S,
            at_park=status.system == iop.SystemState.PARKED,
            at_home=status.system == iop.SystemState.HOMED,
            is_pulse_guiding=status.system == iop.SystemState.GUIDING,
            target_ra_hours=None if target is None else target[0],
            target_dec_deg=None if target is None else target[1],
            slew_settle_time_s=0.0, does_refraction=False, utc_date=self.clock.now(),
        )

    async def destination_side_of_pier(self, ra_hours: float, dec_deg: float) -> PierSide:
        """Where a goto to J2000 (ra, dec) would put the mount now (a German mount)."""
        _check_radec(ra_hours, dec_deg)
        t = self.clock.timestamp()
        ra_app, _ = j2000_to_apparent(ra_hours * 15.0, dec_deg, t)
        longitude = (await self._read_status()).longitude_deg
        return german_pier_side(local_sidereal_deg(t, longitude) - ra_app)

    async def _refuse_if_parked(self, what: str) -> None:
        if (await self._read_status()).system == iop.SystemState.PARKED:
            raise InvalidWhileParkedError(
                f"{self.kind} {self.name!r} is parked: cannot {what} (unpark it first)")

    # ---------------------------------------------------------------- slews
    async def _send_target(self, ra_hours: float, dec_deg: float) -> None:
        ra_app, dec_app = j2000_to_apparent(ra_hours * 15.0, dec_deg, self.clock.timestamp())
        await self._do(iop.set_ra((ra_app / 15.0) % 24.0), "take the target RA")
        await self._do(iop.set_dec(dec_app), "take the target Dec")

    async def slew_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        """Start a goto to J2000 (ra, dec); the mount tracks when it arrives."""
        _check_radec(ra_hours, dec_deg)
        await self._refuse_if_parked("slew")
        await self._send_target(ra_hours, dec_deg)
        if not await self._set(b":MS1#"):
            raise InvalidValueError(
                f"{self.kind} {self.name!r} refused the goto to RA {ra_hours:.4f} h, Dec "
                f"{dec_deg:.3f}° (below its altitude limit or beyond its mechanical limits)")
        self._target = (float(ra_hours), float(dec_deg))

    async def set_target(self, ra_hours: float, dec_deg: float) -> None:
        _check_radec(ra_hours, dec_deg)
        self._target = (float(ra_hours), float(dec_deg))

    def _the_target(self) -> tuple[float, float]:
        if self._target is None:
            raise InvalidOperationError(f"{self.kind} {self.name!r}: no target has been set")
        return self._target

    async def slew_to_target(self) -> None:
        await self.slew_to_coordinates(*self._the_target())

    async def sync_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        """Declare that the mount points at J2000 (ra, dec) now."""
        _check_radec(ra_hours, dec_deg)
        await self._refuse_if_parked("sync")
        await self._send_target(ra_hours, dec_deg)
        await self._do(b":CM#", "sync")
        self._target = (float(ra_hours), float(dec_deg))

    async def sync_to_target(self) -> None:
        await self.sync_to_coordinates(*self._the_target())

    async def abort_slew(self) -> None:
        await self._do(b":Q#", "stop")

    # ------------------------------------------------------------- tracking
    async def set_tracking(self, on: bool) -> None:
        if on:
            await self._refuse_if_parked("start tracking")
        await self._do(b":ST1#" if on else b":ST0#", f"turn tracking {'on' if on else 'off'}")

    async def set_tracking_rate(self, rate: DriveRate) -> None:
        try:
            code = RATES[DriveRate(rate)]
        except (ValueError, KeyError):
            raise InvalidValueError(f"{rate!r} is not a tracking rate") from None
        await self._do(iop.set_tracking_rate(code), f"track at the {code.name.lower()} rate")

    async def set_ra_rate(self, rate: float) -> None:
        """An RA rate offset (seconds of RA per sidereal second) through the custom
        tracking rate, ``1 - rate`` × sidereal in 0.1..1.9; 0 goes back to sidereal."""
        if isinstance(rate, bool) or not isinstance(rate, int | float) \
                or not math.isfinite(rate) or not -0.9 <= rate <= 0.9:
            raise InvalidValueError(f"RA rate {rate!r} s/s is not in [-0.9, 0.9] (the custom "
                                    "tracking rate is 0.1..1.9 × sidereal)")
        if rate == 0:
            await self._do(iop.set_tracking_rate(iop.TrackingRate.SIDEREAL), "track sidereal")
            self._custom = 0.0
            return
        await self._do(iop.set_custom_rate(1.0 - rate), "take the custom rate")
        await self._do(iop.set_tracking_rate(iop.TrackingRate.CUSTOM), "track at it")
        self._custom = float(rate)

    async def set_guide_rates(self, ra_deg_s: float, dec_deg_s: float) -> None:
        try:
            command = iop.set_guide_rates(ra_deg_s / SIDEREAL_DEG_PER_S,
                                          dec_deg_s / SIDEREAL_DEG_PER_S)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"{self.kind} {self.name!r}: {exc} (guide rates "
                                    f"{ra_deg_s!r}, {dec_deg_s!r} deg/s)") from None
        await self._do(command, "set the guide rates")
        self._guide = iop.parse_guide_rates(await self._get(b":AG#"))

    # ----------------------------------------------------------- park, home
    async def _wait_for(self, system: iop.SystemState, what: str) -> None:
        """Read the status on the clock until it is ``system``; stopped short raises."""
        moving = False
        while True:
            status = await self._read_status()
            if status.system == system:
                return
            if status.slewing:
                moving = True
            elif moving:
                raise OperationCancelledError(
                    f"{self.kind} {self.name!r}: {what} was interrupted (the mount is "
                    f"{status.system.name.lower()})")
            await self.clock.sleep(MOTION_POLL_S)

    async def park(self) -> None:
        """Park, and return once the mount reports it is parked."""
        if (await self._read_status()).system == iop.SystemState.PARKED:
            return
        await self._do(b":MP1#", "park")
        await self._wait_for(iop.SystemState.PARKED, "parking")

    async def unpark(self) -> None:
        await self._do(b":MP0#", "unpark")

    async def set_park(self) -> None:
        """Make where the mount points now its park position (``:SPA``/``:SPH``)."""
        state = await self.state()
        if state.alt_deg < 0:
            raise InvalidValueError(f"{self.kind} {self.name!r}: cannot park below the "
                                    f"horizon (altitude {state.alt_deg:.2f}°)")
        az = round(state.az_deg % 360.0 * iop.CENTI_ARCSEC_PER_DEG) % iop.RA_FULL_CIRCLE
        await self._do(b":SPA%09d#" % az, "take the park azimuth")
        await self._do(b":SPH%08d#" % round(state.alt_deg * iop.CENTI_ARCSEC_PER_DEG),
                       "take the park altitude")

    async def find_home(self) -> None:
        """Go to the zero position (``:MH#``) and return once the mount is there."""
        await self._refuse_if_parked("go home")
        await self._do(b":MH#", "go home")
        await self._wait_for(iop.SystemState.HOMED, "homing")

    # ------------------------------------------------------- moves, guiding
    async def move_axis(self, axis: TelescopeAxis, rate_deg_s: float) -> None:
        """Move at the slew speed nearest ``rate_deg_s`` (0 stops the axis)."""
        try:
            axis = TelescopeAxis(axis)
        except ValueError:
            raise InvalidValueError(f"{axis!r} is not a telescope axis") from None
        if axis == TelescopeAxis.TERTIARY:
            raise NotImplementedByDeviceError(
                f"{self.kind} {self.name!r} has no tertiary axis")
        if isinstance(rate_deg_s, bool) or not isinstance(rate_deg_s, int | float) \
                or not math.isfinite(rate_deg_s):
            raise InvalidValueError(f"axis rate {rate_deg_s!r} is not a number")
        top = iop.SLEW_SPEEDS[-1] * SIDEREAL_DEG_PER_S
        if abs(rate_deg_s) > top * 1.0001:
            raise InvalidValueError(f"axis rate {rate_deg_s:g}°/s exceeds the maximum "
                                    f"{top:.3f}°/s")
        if rate_deg_s == 0:
            await self._do(STOPS[axis], "stop the axis")
            return
        await self._refuse_if_parked("move an axis")
        multiple = abs(rate_deg_s) / SIDEREAL_DEG_PER_S
        speed = min(range(1, 10),
                    key=lambda n: abs(math.log(iop.SLEW_SPEEDS[n - 1] / multiple)))
        await self._do(iop.set_slew_speed(speed), "take the slew speed")
        await self._send(MOVES[axis, 1 if rate_deg_s > 0 else -1])

    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        """Start a guide pulse (returns at once; ``is_pulse_guiding`` while it lasts)."""
        try:
            direction = GuideDirection(direction)
        except ValueError:
            raise InvalidValueError(f"{direction!r} is not a guide direction") from None
        try:
            command = iop.guide_pulse(direction.name.lower(), duration_ms)
        except ValueError as exc:
            raise InvalidValueError(f"{self.kind} {self.name!r}: {exc}") from None
        await self._refuse_if_parked("pulse guide")
        await self._send(command)

    # ------------------------------------------------------------------ site
    async def set_site(self, latitude_deg: float, longitude_deg: float,
                       elevation_m: float) -> None:
        try:
            commands = (iop.set_longitude(longitude_deg), iop.set_latitude(latitude_deg))
        except ValueError as exc:
            raise InvalidValueError(f"{self.kind} {self.name!r}: {exc}") from None
        await self._do(commands[0], "set its longitude")
        await self._do(commands[1], "set its latitude")
        await self._do(iop.set_hemisphere(latitude_deg >= 0), "set its hemisphere")
        self._elevation = float(elevation_m)
        status = await self._read_status()
        await asyncio.to_thread(prepare_day, self.clock.timestamp(), status.longitude_deg)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + (f" {self.model_name}>" if self.model_code else ">")

