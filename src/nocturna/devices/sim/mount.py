"""Simulated telescope mount: German equatorial by default, J2000 coordinates.

Where the mount points is evaluated lazily on the clock (see :mod:`.motion`):

* The two axes are hour angle (primary) and declination (secondary). When tracking,
  the primary coordinate is held as right ascension of date, which stays fixed (or
  drifts at the tracking-rate and RA-rate offsets); when not tracking it is held as
  hour angle, which stays fixed, so right ascension drifts with sidereal time.
* A slew moves both axes at once at ``slew_rate_deg_s``, the primary the short way
  round: it lasts ``max(|ΔHA|, |ΔDec|) / rate + settle`` and ``slewing`` stays true
  during the settle time.
* ``move_axis`` rates are degrees per second; positive moves towards increasing RA
  (primary) and increasing Dec (secondary). Tracking is suspended on a moving axis.
* ``pulse_guide`` moves at the guide rate for the duration: north +Dec, south -Dec,
  east +RA, west -RA.
* Reported coordinates are J2000 (precession-nutation applied to reach the
  coordinates of date, aberration and refraction ignored). Alt/az come from the
  coordinates of date, the sidereal time and the site.

The *mechanical* pointing is where the axes are; :meth:`SimMount.true_pointing` is
where the optical axis really points, and the reported pointing is the mechanical one
plus the offset left by the last sync. So a sync changes what the mount reports, never
where it points, and the simulated camera must render at :meth:`SimMount.true_pointing`.

Pointing errors, so closed loops have something real to remove (by default those of an
uncalibrated mount, :data:`DEFAULT_POINTING_ERROR` etc.; set them to 0 for a perfect one):

* each goto (coordinates or alt/az) lands off by a fixed offset
  (``pointing_error_ra_arcsec`` east, ``pointing_error_dec_arcsec`` north, on the sky)
  plus a random scatter (Gaussian per axis, from a generator seeded with
  ``pointing_seed``: the same seed gives the same night). Its sigma is
  ``pointing_scatter_arcsec`` for gotos of :data:`FULL_SCATTER_DEG` or more and
  shrinks in proportion for shorter ones: a small corrective move repeats well;
* while tracking, the optical axis drifts from where the goto left it at
  ``drift_ra_arcsec_per_min`` (east) and ``drift_dec_arcsec_per_min`` (north), as with
  a misaligned polar axis; guide pulses move the axes and so take drift out.

Following ASCOM, coordinate slews and syncs need tracking on, alt/az slews and
syncs need it off, and anything that would move the mount (or turn tracking on)
while parked raises :class:`InvalidWhileParkedError`. ``park`` and ``find_home``
return when the motion has ended (on the clock).
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    InvalidWhileParkedError,
    NotImplementedByDeviceError,
    OperationCancelledError,
)
from nocturna.core.events import EventBus
from nocturna.devices.mount import AxisRate, Mount, MountInfo, MountStatus, german_pier_side
from nocturna.devices.sim import options as opt
from nocturna.devices.sim.equatorial import (
    SIDEREAL_ARCSEC_PER_S,
    SIDEREAL_DEG_PER_S,
    altaz_to_hadec,
    apparent_to_j2000,
    hadec_to_altaz,
    j2000_to_apparent,
    local_sidereal_deg,
    prepare_day,
    signed_angle,
)
from nocturna.devices.sim.motion import Motion, check_angle, instant, short_delta, wrap
from nocturna.devices.types import (
    AlignmentMode,
    DriveRate,
    EquatorialSystem,
    GuideDirection,
    PierSide,
    TelescopeAxis,
)

TRACKING_ARCSEC_PER_S = {
    DriveRate.SIDEREAL: SIDEREAL_ARCSEC_PER_S,
    DriveRate.LUNAR: 14.685,
    DriveRate.SOLAR: 15.0,
    DriveRate.KING: 15.0369,
}
"""Hour-angle rate of each tracking rate, arcseconds per SI second."""

SIDEREAL_SECOND_S = 0.9972695663
"""One sidereal second in SI seconds."""

DEFAULT_GUIDE_RATE_DEG_S = 0.5 * SIDEREAL_DEG_PER_S

# A mount as it comes, before anyone built it a pointing model: gotos land about a
# quarter of a degree off, and the axis drifts by about a seventh of a demo pixel a minute.
DEFAULT_POINTING_ERROR = (720.0, -540.0)  # (east, north) arcsec: 900″ = 0.25°
DEFAULT_POINTING_SCATTER = 20.0  # arcsec per axis, 1 sigma
DEFAULT_DRIFT = (1.2, -0.8)  # (east, north) arcsec per minute while tracking
FULL_SCATTER_DEG = 10.0  # gotos this long or longer get the whole pointing scatter


@dataclass(frozen=True, slots=True)
class Pointing:
    """Where the mount points (reported coordinates) at one instant."""

    ra_hours: float
    dec_deg: float
    alt_deg: float
    az_deg: float
    ha_hours: float


@dataclass(frozen=True, slots=True)
class _Slew:
    kind: str  # "radec", "altaz", "park", "home"
    x: Motion  # primary: RA of date when tracking, else hour angle
    dec: Motion
    settle_s: float

    @property
    def arrival(self) -> float:
        return max(self.x.arrival, self.dec.arrival)

    @property
    def end(self) -> float:
        return self.arrival + self.settle_s


@dataclass(frozen=True, slots=True)
class _Pulse:
    rate_deg_s: float  # signed: + is +RA (primary) or +Dec (secondary)
    start: float
    end: float

    def offset(self, t: float) -> float:
        return self.rate_deg_s * min(max(t - self.start, 0.0), self.end - self.start)


def _check_radec(ra_hours: float, dec_deg: float) -> None:
    if not (isinstance(ra_hours, int | float) and 0.0 <= ra_hours < 24.0):
        raise InvalidValueError(f"right ascension {ra_hours!r} h is not in [0, 24)")
    if not (isinstance(dec_deg, int | float) and -90.0 <= dec_deg <= 90.0):
        raise InvalidValueError(f"declination {dec_deg!r}° is not in [-90, 90]")


def _check_altaz(alt_deg: float, az_deg: float) -> None:
    if not (isinstance(alt_deg, int | float) and -90.0 <= alt_deg <= 90.0):
        raise InvalidValueError(f"altitude {alt_deg!r}° is not in [-90, 90]")
    check_angle(az_deg, "azimuth")


class SimMount(Mount):
    """A simulated mount; see the module docstring for the model."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "mount",
        *,
        latitude_deg: float = 19.54,
        longitude_deg: float = -155.58,
        elevation_m: float = 3400.0,
        alignment_mode: AlignmentMode = AlignmentMode.GERMAN_POLAR,
        slew_rate_deg_s: float = 4.0,
        slew_settle_time_s: float = 2.0,
        min_altitude_deg: float = 10.0,
        max_altitude_deg: float = 90.0,
        park_alt_deg: float | None = None,
        park_az_deg: float | None = None,
        home_alt_deg: float | None = None,
        home_az_deg: float | None = None,
        guide_rate_deg_s: float = DEFAULT_GUIDE_RATE_DEG_S,
        aperture_diameter_m: float = 0.3,
        focal_length_m: float = 2.4,
        start_parked: bool = True,
        pointing_error_ra_arcsec: float = DEFAULT_POINTING_ERROR[0],
        pointing_error_dec_arcsec: float = DEFAULT_POINTING_ERROR[1],
        pointing_scatter_arcsec: float = DEFAULT_POINTING_SCATTER,
        pointing_seed: int | None = 0,
        drift_ra_arcsec_per_min: float = DEFAULT_DRIFT[0],
        drift_dec_arcsec_per_min: float = DEFAULT_DRIFT[1],
        description: str = "",
        timeout_s: float = 300.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        if not slew_rate_deg_s > 0:
            raise InvalidValueError(f"{name}: slew_rate_deg_s must be > 0, got {slew_rate_deg_s}")
        if not slew_settle_time_s >= 0:
            raise InvalidValueError(f"{name}: slew_settle_time_s must be >= 0")
        if not -90 <= min_altitude_deg < max_altitude_deg <= 90:
            raise InvalidValueError(f"{name}: need -90 <= min_altitude_deg < max_altitude_deg"
                                    " <= 90")
        if not guide_rate_deg_s > 0:
            raise InvalidValueError(f"{name}: guide_rate_deg_s must be > 0")
        self._check_site(latitude_deg, longitude_deg)
        error_model = (pointing_error_ra_arcsec, pointing_error_dec_arcsec,
                       pointing_scatter_arcsec, drift_ra_arcsec_per_min,
                       drift_dec_arcsec_per_min)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in error_model) \
                or pointing_scatter_arcsec < 0:
            raise InvalidValueError(f"{name}: pointing error and drift options must be finite "
                                    "numbers (scatter >= 0)")
        self._error_fixed = (float(pointing_error_ra_arcsec), float(pointing_error_dec_arcsec))
        self._scatter = float(pointing_scatter_arcsec)
        self._drift = (float(drift_ra_arcsec_per_min), float(drift_dec_arcsec_per_min))
        self._error_rng = random.Random(pointing_seed)
        self._error = (0.0, 0.0)  # (east, north) arcsec of the last goto
        self._drift_t0: float | None = None  # since when the axis drifts (tracking)
        self.latitude_deg = float(latitude_deg)
        self.longitude_deg = float(longitude_deg)
        self.elevation_m = float(elevation_m)
        self.alignment_mode = AlignmentMode(alignment_mode)
        self.slew_rate_deg_s = float(slew_rate_deg_s)
        self.min_altitude_deg = float(min_altitude_deg)
        self.max_altitude_deg = float(max_altitude_deg)
        self.aperture_diameter_m = float(aperture_diameter_m)
        self.focal_length_m = float(focal_length_m)
        pole_alt, pole_az = abs(self.latitude_deg), 0.0 if self.latitude_deg >= 0 else 180.0
        self._park = (pole_alt if park_alt_deg is None else float(park_alt_deg),
                      pole_az if park_az_deg is None else float(park_az_deg))
        self._home = (pole_alt if home_alt_deg is None else float(home_alt_deg),
                      pole_az if home_az_deg is None else float(home_az_deg))
        _check_altaz(*self._park)
        _check_altaz(*self._home)
        self._settle_s = float(slew_settle_time_s)
        self._guide_rates = (float(guide_rate_deg_s), float(guide_rate_deg_s))
        self._tracking = False
        self._tracking_rate = DriveRate.SIDEREAL
        self._ra_rate = 0.0  # seconds of RA per sidereal second
        self._dec_rate = 0.0  # arcsec per SI second
        self._move = [0.0, 0.0]
        self._pulses: list[_Pulse | None] = [None, None]
        self._slew: _Slew | None = None
        self._offset = (0.0, 0.0)  # sync offset (RA, Dec of date), degrees
        self._target: tuple[float, float] | None = None
        self._does_refraction = False
        self._at_park = bool(start_parked)
        self._at_home = False
        ha, dec = altaz_to_hadec(*self._park, self.latitude_deg)
        self._x0, self._dec0, self._t0 = ha, dec, self.clock.timestamp()
        self._side = self._side_for(ha)

    # ------------------------------------------------------------- config
    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimMount:
        """Build from a device entry; ``context`` may hold ``clock``, ``events``, ``site``.

        Options: the constructor's keyword arguments (``alignment_mode`` by name:
        ``german_polar``, ``polar``, ``alt_az``). Without ``latitude_deg`` etc. the
        configured ``site`` is used.
        """
        spec: dict[str, opt.Converter] = {
            "latitude_deg": opt.number("deg", ge=-90, le=90),
            "longitude_deg": opt.number("deg", ge=-180, le=360),
            "elevation_m": opt.number("m"),
            "alignment_mode": _alignment_mode,
            "slew_rate_deg_s": opt.number("deg/s", ge=1e-6),
            "slew_settle_time_s": opt.number("s", ge=0),
            "min_altitude_deg": opt.number("deg", ge=-90, le=90),
            "max_altitude_deg": opt.number("deg", ge=-90, le=90),
            "park_alt_deg": opt.number("deg", ge=-90, le=90),
            "park_az_deg": opt.number("deg", ge=0, le=360),
            "home_alt_deg": opt.number("deg", ge=-90, le=90),
            "home_az_deg": opt.number("deg", ge=0, le=360),
            "guide_rate_deg_s": opt.number("deg/s", ge=1e-9),
            "aperture_diameter_m": opt.number("m", ge=0),
            "focal_length_m": opt.number("m", ge=0),
            "start_parked": opt.boolean,
            "pointing_error_ra_arcsec": opt.number("arcsec"),
            "pointing_error_dec_arcsec": opt.number("arcsec"),
            "pointing_scatter_arcsec": opt.number("arcsec", ge=0),
            "pointing_seed": opt.integer(),
            "drift_ra_arcsec_per_min": opt.number("arcsec"),
            "drift_dec_arcsec_per_min": opt.number("arcsec"),
        }
        kwargs = opt.driver_options(cfg, spec)
        site = context.get("site")
        if site is not None:
            import astropy.units as u

            kwargs.setdefault("latitude_deg", float(site.latitude.to_value(u.deg)))
            kwargs.setdefault("longitude_deg", float(site.longitude.to_value(u.deg)))
            kwargs.setdefault("elevation_m", float(site.elevation.to_value(u.m)))
        return cls(cfg.name, **kwargs, **opt.device_context(context))

    @staticmethod
    def _check_site(latitude_deg: float, longitude_deg: float) -> None:
        if not -90 <= latitude_deg <= 90:
            raise InvalidValueError(f"site latitude {latitude_deg!r}° is not in [-90, 90]")
        if not -180 <= longitude_deg <= 360:
            raise InvalidValueError(f"site longitude {longitude_deg!r}° is not in [-180, 360]")

    async def _connect(self) -> None:
        # astropy's first use costs seconds: paid here, in a worker thread, rather than by
        # the first state() on the event loop (which would stall a server's other devices)
        await asyncio.to_thread(prepare_day, self.clock.timestamp(), self.longitude_deg)

    # ------------------------------------------------------------ geometry
    def _lst(self, t: float) -> float:
        return local_sidereal_deg(t, self.longitude_deg)

    def _side_for(self, ha_deg: float) -> PierSide:
        """Pier side for a pointing at hour angle ``ha_deg`` (German mounts only)."""
        if self.alignment_mode != AlignmentMode.GERMAN_POLAR:
            return PierSide.UNKNOWN
        return german_pier_side(ha_deg)

    def _rates(self, tracking: bool) -> tuple[float, float]:
        """Rates of the primary coordinate and of Dec (deg/s) in the given frame."""
        if not tracking:
            return -self._move[0], self._move[1]
        drift = (SIDEREAL_ARCSEC_PER_S - TRACKING_ARCSEC_PER_S[self._tracking_rate]) / 3600.0
        rx = drift + self._ra_rate * 15.0 / 3600.0 / SIDEREAL_SECOND_S
        rd = self._dec_rate / 3600.0
        if self._move[0]:
            rx = SIDEREAL_DEG_PER_S + self._move[0]  # tracking suspended on this axis
        if self._move[1]:
            rd = self._move[1]
        return rx, rd

    def _mechanical(self, t: float) -> tuple[float, float]:
        """(primary coordinate, Dec) at ``t`` in the current frame, degrees."""
        slew = self._slew
        if slew is not None and t < slew.end:
            x, dec = slew.x.position(t), slew.dec.position(t)
        else:
            if slew is not None:
                x0, dec0, t0 = slew.x.target, slew.dec.target, slew.end
            else:
                x0, dec0, t0 = self._x0, self._dec0, self._t0
            rx, rd = self._rates(self._tracking)
            x, dec = x0 + rx * (t - t0), dec0 + rd * (t - t0)
        sign = 1.0 if self._tracking else -1.0
        for axis, pulse in enumerate(self._pulses):
            if pulse is not None:
                if axis == 0:
                    x += sign * pulse.offset(t)
                else:
                    dec += pulse.offset(t)
        return wrap(x, 360.0), max(-90.0, min(90.0, dec))

    def _mechanical_radec(self, t: float) -> tuple[float, float]:
        """Mechanical (RA of date, Dec) at ``t``."""
        x, dec = self._mechanical(t)
        return (x if self._tracking else wrap(self._lst(t) - x, 360.0)), dec

    def _reported_apparent(self, t: float) -> tuple[float, float]:
        ra, dec = self._mechanical_radec(t)
        return wrap(ra + self._offset[0], 360.0), max(-90.0, min(90.0, dec + self._offset[1]))

    def pointing_at(self, t: float) -> Pointing:
        """The reported pointing at POSIX time ``t`` (no side effects, no connection check).

        Exact for times since the last command; the dome uses it to follow the mount.
        """
        ra_app, dec_app = self._reported_apparent(t)
        ha = signed_angle(self._lst(t) - ra_app)
        alt, az = hadec_to_altaz(ha, dec_app, self.latitude_deg)
        ra, dec = apparent_to_j2000(ra_app, dec_app, t)
        return Pointing(ra / 15.0, dec, alt, az, ha / 15.0)

    def true_pointing(self) -> tuple[float, float]:
        """Where the optical axis points now: J2000 (ra_deg, dec_deg).

        The mechanical pointing plus the pointing error and drift (see the module
        notes); unlike the reported pointing it ignores sync offsets.
        """
        t = self.clock.timestamp()
        ra, dec = self._mechanical_radec(t)
        east, north = self.pointing_error_at(t)
        dec_true = max(-90.0, min(90.0, dec + north / 3600.0))
        cos_dec = max(math.cos(math.radians(dec_true)), 1e-6)
        return apparent_to_j2000(wrap(ra + east / 3600.0 / cos_dec, 360.0), dec_true, t)

    def pointing_error_at(self, t: float) -> tuple[float, float]:
        """(east, north) arcsec between the optical axis and the axes at POSIX time ``t``:
        the last goto's error plus the drift accumulated since (tracking only)."""
        east, north = self._error
        if self._drift_t0 is not None and self._tracking and not self._slewing(t):
            minutes = max(0.0, t - self._drift_t0) / 60.0
            east += self._drift[0] * minutes
            north += self._drift[1] * minutes
        return east, north

    def _new_goto_error(self, slew: _Slew) -> None:
        """Draw the pointing error of ``slew`` (see the module notes)."""
        length = max(abs(slew.x.travel), abs(slew.dec.travel))
        scatter = self._scatter * min(1.0, length / FULL_SCATTER_DEG)
        rng = self._error_rng
        self._error = (self._error_fixed[0] + (rng.gauss(0.0, scatter) if scatter else 0.0),
                       self._error_fixed[1] + (rng.gauss(0.0, scatter) if scatter else 0.0))
        self._drift_t0 = slew.end

    # ---------------------------------------------------------- bookkeeping
    def _update(self, t: float) -> None:
        """Notice motions that ended by ``t``: finish slews and pulses, publish events."""
        slew = self._slew
        if slew is not None and t >= slew.end:
            self._x0, self._dec0, self._t0 = slew.x.target, slew.dec.target, slew.end
            self._slew = None
            if slew.kind == "park":
                self._at_park = True
            elif slew.kind == "home":
                self._at_home = True
            self.publish("slew.finished", kind=slew.kind, at=instant(slew.end), aborted=False)
            if slew.kind == "park":
                self.publish("parked")
        if self._slew is None and any(p is not None and t >= p.end for p in self._pulses):
            self._rebase(t)

    def _rebase(self, t: float) -> None:
        """Fold everything up to ``t`` into the anchor (no slew may be under way)."""
        self._x0, self._dec0 = self._mechanical(t)
        self._t0 = t
        self._pulses = [None if p is None or t >= p.end else _Pulse(p.rate_deg_s, t, p.end)
                        for p in self._pulses]

    def _stop_slew(self, t: float, *, aborted: bool = True) -> None:
        slew = self._slew
        if slew is None:
            return
        self._x0, self._dec0 = slew.x.position(t), slew.dec.position(t)
        self._t0 = t
        self._slew = None
        self.publish("slew.finished", kind=slew.kind, at=instant(t), aborted=aborted)

    def _set_frame(self, tracking: bool, t: float) -> None:
        """Switch between the RA (tracking) and HA (not tracking) frames at ``t``."""
        if tracking == self._tracking:
            return
        lst = self._lst(t)
        slew = self._slew
        if slew is None:
            self._rebase(t)
            self._x0 = wrap(lst - self._x0, 360.0)
            self._tracking = tracking
            return
        # A slew under way continues in the new frame towards the same place.
        x, dec = slew.x.position(t), slew.dec.position(t)
        target = wrap(self._lst(slew.arrival) - slew.x.target, 360.0)
        self._tracking = tracking
        self._slew = self._make_slew(slew.kind, wrap(lst - x, 360.0), dec, target,
                                     slew.dec.target, t)

    def _make_slew(self, kind: str, x: float, dec: float, x_target: float,
                   dec_target: float, t: float) -> _Slew:
        rate = self.slew_rate_deg_s
        return _Slew(kind, Motion(x, x_target, t, rate, period=360.0),
                     Motion(dec, dec_target, t, rate), self._settle_s)

    def _start_slew(self, kind: str, x_target: float, dec_target: float, t: float,
                    **details: Any) -> _Slew:
        """Start a goto in the current frame from where the mount is at ``t``."""
        if self._slew is not None:
            self._stop_slew(t)
        self._rebase(t)
        self._pulses = [None, None]
        self._move = [0.0, 0.0]
        x, dec = self._x0, self._dec0
        slew = self._make_slew(kind, x, dec, x_target, dec_target, t)
        self._slew = slew
        self._at_home = False
        if kind in ("radec", "altaz"):
            self._new_goto_error(slew)
        ha_target = (self._lst(slew.arrival) - x_target) if self._tracking else x_target
        self._side = self._side_for(ha_target)
        self.publish("slew.started", kind=kind, duration_s=slew.end - t, at=instant(t),
                     **details)
        return slew

    def _slewing(self, t: float) -> bool:
        return (self._slew is not None and t < self._slew.end) or any(self._move)

    def _refuse_if_parked(self, what: str) -> None:
        if self._at_park:
            raise InvalidWhileParkedError(f"{self.kind} {self.name!r} is parked: cannot {what}")

    def _now(self) -> float:
        t = self.clock.timestamp()
        self._update(t)
        return t

    def _mechanical_target(self, ra_hours: float, dec_deg: float, t: float,
                           what: str) -> tuple[float, float]:
        """Mechanical (RA of date, Dec) for a reported J2000 target; checks the limits."""
        ra_app, dec_app = j2000_to_apparent(ra_hours * 15.0, dec_deg, t)
        alt, _ = hadec_to_altaz(self._lst(t) - ra_app, dec_app, self.latitude_deg)
        self._check_altitude(alt, what)
        return (wrap(ra_app - self._offset[0], 360.0),
                max(-90.0, min(90.0, dec_app - self._offset[1])))

    def _check_altitude(self, alt_deg: float, what: str) -> None:
        if alt_deg < self.min_altitude_deg:
            raise InvalidValueError(
                f"{what}: target altitude {alt_deg:.2f}° is below the limit "
                f"{self.min_altitude_deg:g}°")
        if alt_deg > self.max_altitude_deg:
            raise InvalidValueError(
                f"{what}: target altitude {alt_deg:.2f}° is above the limit "
                f"{self.max_altitude_deg:g}°")

    # ------------------------------------------------------------ snapshots
    async def info(self) -> MountInfo:
        rates = [AxisRate(0.0, self.slew_rate_deg_s)]
        radius = self.aperture_diameter_m / 2
        return MountInfo(
            alignment_mode=self.alignment_mode,
            equatorial_system=EquatorialSystem.J2000,
            aperture_diameter_m=self.aperture_diameter_m,
            aperture_area_m2=math.pi * radius * radius,
            focal_length_m=self.focal_length_m,
            site_latitude_deg=self.latitude_deg,
            site_longitude_deg=self.longitude_deg,
            site_elevation_m=self.elevation_m,
            min_altitude_deg=self.min_altitude_deg,
            max_altitude_deg=self.max_altitude_deg,
            tracking_rates=list(DriveRate),
            axis_rates=[list(rates), list(rates), []],
            can_find_home=True, can_park=True, can_unpark=True, can_set_park=True,
            can_pulse_guide=True, can_set_tracking=True, can_set_guide_rates=True,
            can_set_pier_side=False, can_set_ra_rate=True, can_set_dec_rate=True,
            can_slew=False, can_slew_async=True, can_slew_alt_az=False,
            can_slew_alt_az_async=True, can_sync=True, can_sync_alt_az=True,
            can_move_axis=[True, True, False],
        )

    async def state(self) -> MountStatus:
        t = self._now()
        pointing = self.pointing_at(t)
        target = self._target
        return MountStatus(
            ra_hours=pointing.ra_hours,
            dec_deg=pointing.dec_deg,
            alt_deg=pointing.alt_deg,
            az_deg=pointing.az_deg,
            sidereal_time_hours=self._lst(t) / 15.0,
            side_of_pier=self._side,
            slewing=self._slewing(t),
            tracking=self._tracking,
            tracking_rate=self._tracking_rate,
            ra_rate=self._ra_rate,
            dec_rate_arcsec_s=self._dec_rate,
            guide_rate_ra_deg_s=self._guide_rates[0],
            guide_rate_dec_deg_s=self._guide_rates[1],
            at_park=self._at_park,
            at_home=self._at_home,
            is_pulse_guiding=any(p is not None and t < p.end for p in self._pulses),
            target_ra_hours=None if target is None else target[0],
            target_dec_deg=None if target is None else target[1],
            slew_settle_time_s=self._settle_s,
            does_refraction=self._does_refraction,
            utc_date=self.clock.now(),
        )

    # --------------------------------------------------------------- slews
    async def slew_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        _check_radec(ra_hours, dec_deg)
        self._refuse_if_parked("slew")
        if not self._tracking:
            raise InvalidOperationError(
                f"{self.kind} {self.name!r}: slewing to coordinates needs tracking on")
        t = self._now()
        ra, dec = self._mechanical_target(ra_hours, dec_deg, t, "slew")
        self._target = (float(ra_hours), float(dec_deg))
        self._start_slew("radec", ra, dec, t, ra_hours=float(ra_hours), dec_deg=float(dec_deg))

    async def slew_to_alt_az(self, alt_deg: float, az_deg: float) -> None:
        _check_altaz(alt_deg, az_deg)
        self._refuse_if_parked("slew")
        if self._tracking:
            raise InvalidOperationError(
                f"{self.kind} {self.name!r}: slewing to alt/az needs tracking off")
        self._check_altitude(alt_deg, "slew")
        t = self._now()
        ha, dec = altaz_to_hadec(alt_deg, az_deg, self.latitude_deg)
        # the sync offset applies to RA/Dec of date; in the HA frame RA offset = -HA offset
        self._start_slew("altaz", wrap(ha + self._offset[0], 360.0),
                         max(-90.0, min(90.0, dec - self._offset[1])), t,
                         alt_deg=float(alt_deg), az_deg=float(az_deg))

    async def set_target(self, ra_hours: float, dec_deg: float) -> None:
        _check_radec(ra_hours, dec_deg)
        self._target = (float(ra_hours), float(dec_deg))

    async def slew_to_target(self) -> None:
        if self._target is None:
            raise InvalidOperationError(f"{self.kind} {self.name!r}: no target has been set")
        await self.slew_to_coordinates(*self._target)

    async def abort_slew(self) -> None:
        self._refuse_if_parked("abort a slew")
        t = self._now()
        if self._slew is not None:
            self._stop_slew(t)
        if any(self._move):
            self._rebase(t)
            self._move = [0.0, 0.0]

    # ---------------------------------------------------------------- syncs
    def _sync_to(self, ra_app: float, dec_app: float, t: float) -> None:
        if self._slewing(t):
            raise InvalidOperationError(f"{self.kind} {self.name!r}: cannot sync while slewing")
        ra_m, dec_m = self._mechanical_radec(t)
        self._offset = (short_delta(ra_m, ra_app, 360.0), dec_app - dec_m)
        self.publish("synced", offset_ra_deg=self._offset[0], offset_dec_deg=self._offset[1])

    async def sync_to_coordinates(self, ra_hours: float, dec_deg: float) -> None:
        _check_radec(ra_hours, dec_deg)
        self._refuse_if_parked("sync")
        if not self._tracking:
            raise InvalidOperationError(
                f"{self.kind} {self.name!r}: syncing to coordinates needs tracking on")
        t = self._now()
        self._sync_to(*j2000_to_apparent(ra_hours * 15.0, dec_deg, t), t)
        self._target = (float(ra_hours), float(dec_deg))

    async def sync_to_alt_az(self, alt_deg: float, az_deg: float) -> None:
        _check_altaz(alt_deg, az_deg)
        self._refuse_if_parked("sync")
        if self._tracking:
            raise InvalidOperationError(
                f"{self.kind} {self.name!r}: syncing to alt/az needs tracking off")
        t = self._now()
        ha, dec = altaz_to_hadec(alt_deg, az_deg, self.latitude_deg)
        self._sync_to(wrap(self._lst(t) - ha, 360.0), dec, t)

    async def sync_to_target(self) -> None:
        if self._target is None:
            raise InvalidOperationError(f"{self.kind} {self.name!r}: no target has been set")
        await self.sync_to_coordinates(*self._target)

    # ------------------------------------------------------------- tracking
    async def set_tracking(self, on: bool) -> None:
        if on:
            self._refuse_if_parked("start tracking")
        t = self._now()
        if bool(on) != self._tracking:
            self._fold_drift(t)
            self._set_frame(bool(on), t)
            self.publish("tracking.changed", tracking=self._tracking)

    async def set_tracking_rate(self, rate: DriveRate) -> None:
        try:
            rate = DriveRate(rate)
        except ValueError:
            raise InvalidValueError(f"{rate!r} is not a tracking rate") from None
        self._rebase_if_idle(self._now())
        self._tracking_rate = rate

    def _fold_drift(self, t: float) -> None:
        """Keep the drift so far in the error and restart it at ``t`` (tracking toggles)."""
        self._error = self.pointing_error_at(t)
        self._drift_t0 = t

    def _rebase_if_idle(self, t: float) -> None:
        if self._slew is None:
            self._rebase(t)

    async def set_ra_rate(self, rate: float) -> None:
        if not (isinstance(rate, int | float) and math.isfinite(rate)):
            raise InvalidValueError(f"RA rate {rate!r} is not a number")
        self._rebase_if_idle(self._now())
        self._ra_rate = float(rate)

    async def set_dec_rate(self, arcsec_s: float) -> None:
        if not (isinstance(arcsec_s, int | float) and math.isfinite(arcsec_s)):
            raise InvalidValueError(f"Dec rate {arcsec_s!r} is not a number")
        self._rebase_if_idle(self._now())
        self._dec_rate = float(arcsec_s)

    async def set_guide_rates(self, ra_deg_s: float, dec_deg_s: float) -> None:
        limit = 4 * SIDEREAL_DEG_PER_S
        for label, value in (("RA", ra_deg_s), ("Dec", dec_deg_s)):
            if not (isinstance(value, int | float) and 0 < value <= limit):
                raise InvalidValueError(
                    f"{label} guide rate {value!r} deg/s is not in (0, {limit:.5f}]")
        self._guide_rates = (float(ra_deg_s), float(dec_deg_s))

    # ---------------------------------------------------------- park, home
    async def _wait_for(self, kind: str) -> None:
        """Wait on the clock until the ``kind`` slew has ended; raise if it was stopped."""
        while True:
            t = self._now()
            slew = self._slew
            if slew is None or slew.kind != kind:
                break
            await self.clock.sleep(min(slew.end - t, 1.0))
        done = self._at_park if kind == "park" else self._at_home
        if not done:
            raise OperationCancelledError(f"{self.kind} {self.name!r}: {kind} was interrupted")

    async def park(self) -> None:
        if self._at_park:
            return
        t = self._now()
        self._set_frame(False, t)
        ha, dec = altaz_to_hadec(*self._park, self.latitude_deg)
        self._start_slew("park", ha, dec, t)
        await self._wait_for("park")

    async def unpark(self) -> None:
        if self._at_park:
            self._at_park = False
            self.publish("unparked")

    async def set_park(self) -> None:
        t = self._now()
        ra, dec = self._mechanical_radec(t)
        self._park = hadec_to_altaz(self._lst(t) - ra, dec, self.latitude_deg)
        self.publish("park.set", alt_deg=self._park[0], az_deg=self._park[1])

    async def find_home(self) -> None:
        self._refuse_if_parked("find home")
        if self._at_home:
            return
        t = self._now()
        self._set_frame(False, t)
        ha, dec = altaz_to_hadec(*self._home, self.latitude_deg)
        self._start_slew("home", ha, dec, t)
        await self._wait_for("home")

    # ----------------------------------------------------------- axis moves
    async def move_axis(self, axis: TelescopeAxis, rate_deg_s: float) -> None:
        try:
            axis = TelescopeAxis(axis)
        except ValueError:
            raise InvalidValueError(f"{axis!r} is not a telescope axis") from None
        if axis == TelescopeAxis.TERTIARY:
            raise NotImplementedByDeviceError(
                f"{self.kind} {self.name!r} cannot move its tertiary axis")
        if not isinstance(rate_deg_s, int | float) or not math.isfinite(rate_deg_s):
            raise InvalidValueError(f"axis rate {rate_deg_s!r} is not a number")
        if abs(rate_deg_s) > self.slew_rate_deg_s:
            raise InvalidValueError(
                f"axis rate {rate_deg_s:g}°/s exceeds the maximum {self.slew_rate_deg_s:g}°/s")
        self._refuse_if_parked("move an axis")
        t = self._now()
        if self._slew is not None:
            self._stop_slew(t)
        self._rebase(t)
        self._move[int(axis)] = float(rate_deg_s)
        self._at_home = False
        self.publish("axis.moving", axis=int(axis), rate_deg_s=float(rate_deg_s))

    async def pulse_guide(self, direction: GuideDirection, duration_ms: int) -> None:
        try:
            direction = GuideDirection(direction)
        except ValueError:
            raise InvalidValueError(f"{direction!r} is not a guide direction") from None
        if not isinstance(duration_ms, int | float) or not 0 <= duration_ms <= 3_600_000:
            raise InvalidValueError(f"pulse duration {duration_ms!r} ms is not in 0..3600000")
        self._refuse_if_parked("pulse guide")
        t = self._now()
        if self._slew is not None:
            raise InvalidOperationError(f"{self.kind} {self.name!r}: cannot guide while slewing")
        self._rebase(t)
        axis = 1 if direction in (GuideDirection.NORTH, GuideDirection.SOUTH) else 0
        sign = 1.0 if direction in (GuideDirection.NORTH, GuideDirection.EAST) else -1.0
        self._pulses[axis] = _Pulse(sign * self._guide_rates[axis], t, t + duration_ms / 1000.0)

    async def destination_side_of_pier(self, ra_hours: float, dec_deg: float) -> PierSide:
        _check_radec(ra_hours, dec_deg)
        t = self.clock.timestamp()
        ra_app, _ = j2000_to_apparent(ra_hours * 15.0, dec_deg, t)
        return self._side_for(self._lst(t) - ra_app)

    # --------------------------------------------------------------- setup
    async def set_slew_settle_time(self, seconds: float) -> None:
        if not isinstance(seconds, int | float) or not 0 <= seconds <= 3600:
            raise InvalidValueError(f"slew settle time {seconds!r} s is not in 0..3600")
        self._settle_s = float(seconds)

    async def set_does_refraction(self, on: bool) -> None:
        """Recorded only: the simulator never models refraction."""
        self._does_refraction = bool(on)

    async def set_site(self, latitude_deg: float, longitude_deg: float,
                       elevation_m: float) -> None:
        self._check_site(latitude_deg, longitude_deg)
        t = self._now()
        if self._slewing(t):
            raise InvalidOperationError(f"{self.kind} {self.name!r}: cannot move the site "
                                        "while slewing")
        ra, _ = self._mechanical_radec(t)
        self.latitude_deg, self.longitude_deg = float(latitude_deg), float(longitude_deg)
        self.elevation_m = float(elevation_m)
        self._rebase(t)
        self._x0 = ra if self._tracking else wrap(self._lst(t) - ra, 360.0)


def _alignment_mode(value: Any) -> AlignmentMode:
    if isinstance(value, str):
        key = value.strip().upper().replace("-", "_").replace(" ", "_")
        aliases = {"GEM": "GERMAN_POLAR", "GERMAN": "GERMAN_POLAR", "ALTAZ": "ALT_AZ",
                   "EQUATORIAL": "POLAR", "FORK": "POLAR"}
        key = aliases.get(key, key)
        if key in AlignmentMode.__members__:
            return AlignmentMode[key]
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            return AlignmentMode(value)
        except ValueError:
            pass
    raise ValueError("expected german_polar, polar or alt_az")
