"""An iOptron mount on the wire: the v3 command language on top of a simulated mount.

:class:`IoptronSimulator` (kind ``ioptron``) answers what INDI 1.9.9's ioptronv3 driver
and :class:`~nocturna.devices.ioptron.mount.IoptronMount` send, byte for byte as the
hand controller does: getters end with ``#``, ``:MountInfo#`` answers 4 bytes, setters
and motions one ``1`` (``0`` when refused: a goto below the altitude limit or while
parked), manual moves and guide pulses nothing. Replies come at once and never
unsolicited.

Everything that moves goes to a :class:`~nocturna.devices.sim.mount.SimMount`, so the
simulated sky follows: gotos (``:SRA``/``:Sd``/``:MS1#``; the mount starts tracking, as
iOptron's does), syncs (``:CM#``), abort (``:Q#``), park/unpark (``:MP1#``/``:MP0#``),
home (``:MH#``/``:MSH#``), tracking (``:ST0/1#``, ``:RT0..4#``, ``:RR``), manual moves at
the slew speed (``:mn# :ms# :me# :mw#``, stopped by ``:qR# :qD#``; ``:me#`` decreases
RA, as INDI expects), guide pulses (``:Z``) and guide rates (``:RG``/``:AG#``), the site
(``:SLO``/``:SLA``). Coordinates on the wire are of date; the SimMount's are J2000.

Remembered without moving anything: the time (``:SUT``/``:SG``/``:SDS``, read back by
``:GUT#``; the simulated clock itself never changes), the park position
(``:SPA``/``:SPH``: the SimMount parks where it was built to), ``:SZP#``, PEC
(``:SPP``/``:SPR``/``:GPE#``/``:GPR#``) and the meridian behaviour (``:SMT``/``:GMT#``).
Unknown commands get no reply. ``:GLS#`` reports the system state from the SimMount:
parked, slewing (goto, park, home or a manual move), guiding, tracking, at home or
stopped.

Options (URL query strings are converted): ``model`` (the 4-digit ``:MountInfo#``
code, default ``0040``, CEM40), ``gps`` (a GPS with a fix: GPS state 2 and GPS time).
Faults (the base class's): ``go_silent()`` drops commands unanswered and undone;
``garble_next(n)`` turns the next ``n`` replies into ``?`` of the same length (``#`` kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, ClassVar

from nocturna.core.clock import Clock
from nocturna.core.errors import NocturnaError
from nocturna.devices.ioptron import protocol as iop
from nocturna.devices.serial.simulator import ProtocolSimulator
from nocturna.devices.sim.equatorial import (
    SIDEREAL_DEG_PER_S,
    apparent_to_j2000,
    j2000_to_apparent,
)
from nocturna.devices.sim.mount import SimMount
from nocturna.devices.types import DriveRate, GuideDirection, TelescopeAxis

log = logging.getLogger(__name__)

OK, REFUSED = b"1", b"0"
MAX_COMMAND = 64
"""Bytes a command may take before its ``#``; longer garbage is dropped."""
GUIDE_LETTERS = {"E": GuideDirection.NORTH, "C": GuideDirection.SOUTH,
                 "Q": GuideDirection.WEST, "S": GuideDirection.EAST}
MOVES = {"mn": (TelescopeAxis.SECONDARY, 1.0), "ms": (TelescopeAxis.SECONDARY, -1.0),
         "me": (TelescopeAxis.PRIMARY, -1.0), "mw": (TelescopeAxis.PRIMARY, 1.0)}
FIRMWARE = ("210105", "210105", "210105", "210105")

Handler = Callable[[str], Awaitable[bytes]]


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        if value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if value.strip().lower() in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"ioptron simulator: expected a boolean, got {value!r}")
    return bool(value)


def _number(text: str, digits: int, *, signed: bool = False) -> int | None:
    """``[±]`` + exactly ``digits`` digits, or None."""
    sign = 1
    if signed:
        if text[:1] not in ("+", "-"):
            return None
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    if len(text) != digits or not (text.isascii() and text.isdigit()):
        return None
    return sign * int(text)


class IoptronSimulator(ProtocolSimulator):
    """The hand controller of an iOptron mount (see the module docstring)."""

    kind: ClassVar[str] = "ioptron"

    def __init__(self, mount: SimMount | None = None, *, clock: Clock | None = None,
                 model: str = "0040", gps: bool | str = False) -> None:
        super().__init__(clock=clock)
        model = str(model)
        if len(model) != 4 or not model.isdigit():
            raise ValueError(f"ioptron simulator: model must be a 4-digit code such as "
                             f"0040 (CEM40), got {model!r}")
        self.model = model
        self.gps = _flag(gps)
        self._own_mount = mount is None
        self.mount = mount if mount is not None else SimMount("ioptron", clock=clock)
        self._buffer = b""
        self._commands: asyncio.Queue[str] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.received: list[str] = []
        """Every command answered or acted on, in order (without ``:`` and ``#``)."""
        self._target_ra: int | None = None
        self._target_dec: int | None = None
        self._rate = iop.TrackingRate.SIDEREAL
        self._custom = 1.0
        self._speed = 9
        self._time_offset = timedelta(0)
        self._time_source = iop.TimeSource.GPS if self.gps else iop.TimeSource.HAND_CONTROLLER
        self._utc_offset_min = 0
        self._dst = False
        self.park_position: tuple[int, int] | None = None
        """(azimuth, altitude) in 0.01″ from ``:SPA``/``:SPH`` (remembered only)."""
        self._pec_playing = False
        self._pec_recording = False
        self._pec_recorded = False
        self._meridian = (True, 3)  # flip, 3° past the meridian
        self.northern = self.mount.latitude_deg >= 0
        """The hemisphere: the latitude's (``:SLA``), or as ``:SHE`` set it."""
        self._handlers: list[tuple[str, Handler]] = sorted(
            self._table().items(), key=lambda item: -len(item[0]))

    def garbled(self, data: bytes) -> bytes:
        """A corrupted reply of the same length, its ``#`` kept (so the driver's framing
        holds and only the content is wrong, as with line noise)."""
        if data.endswith(b"#") and len(data) > 1:
            return b"?" * (len(data) - 1) + b"#"
        return b"?" * len(data)

    # ------------------------------------------------------------ the line
    def receive(self, data: bytes) -> None:
        """Frame ``:...#`` commands out of what arrived and queue them in order."""
        self._buffer += data
        while True:
            start = self._buffer.find(b":")
            if start < 0:
                self._buffer = b""
                return
            end = self._buffer.find(b"#", start)
            if end < 0:
                self._buffer = self._buffer[start:]
                if len(self._buffer) > MAX_COMMAND:
                    self._buffer = b""
                return
            body, self._buffer = self._buffer[start + 1:end], self._buffer[end + 1:]
            self._queue().put_nowait(body.decode("ascii", "replace"))

    def _queue(self) -> asyncio.Queue[str]:
        if self._commands is None:
            self._commands = asyncio.Queue()
        return self._commands

    async def start(self) -> None:
        await self.mount.connect()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._own_mount:
            await self.mount.disconnect()

    async def run(self) -> None:
        """Answer the queued commands one after the other, until cancelled."""
        queue = self._queue()
        while True:
            body = await queue.get()
            self.send(await self.answer(body))

    async def answer(self, body: str) -> bytes:
        """The reply to one command (``body`` without ``:`` and ``#``); acts on it."""
        for name, handler in self._handlers:
            if body.startswith(name):
                self.received.append(body)
                try:
                    return await handler(body[len(name):])
                except NocturnaError as exc:  # the mount refused: say so, as iOptron does
                    log.info("ioptron simulator: %s refused: %s", body, exc)
                    return REFUSED if name not in _SILENT else b""
        log.info("ioptron simulator: unknown command %r (no reply)", body)
        return b""

    def _background(self, what: str, work: Awaitable[None]) -> None:
        """Run a motion that ends later (park, home) without holding up the replies."""

        async def run() -> None:
            try:
                await work
            except NocturnaError as exc:
                log.info("ioptron simulator: %s ended early: %s", what, exc)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----------------------------------------------------------- commands
    def _table(self) -> dict[str, Handler]:
        fixed: dict[str, Callable[[], Awaitable[bytes]]] = {
            "MountInfo": self._mount_info, "FW1": self._fw1, "FW2": self._fw2,
            "GLS": self._status, "GEP": self._position, "GUT": self._time,
            "AG": self._guide_rates, "GMT": self._meridian_get,
            "GPE": self._pec_data, "GPR": self._pec_state,
            "MS1": self._goto, "MS2": self._goto, "CM": self._sync, "Q": self._abort,
            "MP1": self._park, "MP0": self._unpark, "MSH": self._home, "MH": self._home,
            "SZP": self._ok, "qR": self._stop_ra, "qD": self._stop_dec,
            "ST1": self._track_on, "ST0": self._track_off,
        }
        table: dict[str, Handler] = {name: _exactly(f) for name, f in fixed.items()}
        table.update({
            "SRA": self._set_ra, "Sd": self._set_dec, "SR": self._set_speed,
            "RT": self._set_rate, "RR": self._set_custom, "RG": self._set_guide_rates,
            "Z": self._pulse, "SPA": self._set_park_az, "SPH": self._set_park_alt,
            "SPP": self._pec_play, "SPR": self._pec_record, "SMT": self._meridian_set,
            "SUT": self._set_utc, "SG": self._set_utc_offset, "SDS": self._set_dst,
            "SLO": self._set_longitude, "SLA": self._set_latitude,
            "SHE": self._set_hemisphere,
            **{name: self._moving(axis, sign) for name, (axis, sign) in MOVES.items()},
        })
        return table

    async def _ok(self) -> bytes:
        return OK

    async def _mount_info(self) -> bytes:
        return self.model.encode()

    async def _fw1(self) -> bytes:
        return (FIRMWARE[0] + FIRMWARE[1]).encode() + b"#"

    async def _fw2(self) -> bytes:
        return (FIRMWARE[2] + FIRMWARE[3]).encode() + b"#"

    async def _status(self) -> bytes:
        state = await self.mount.state()
        if state.at_park:
            system = iop.SystemState.PARKED
        elif state.slewing:
            system = iop.SystemState.SLEWING
        elif state.is_pulse_guiding:
            system = iop.SystemState.GUIDING
        elif state.tracking:
            system = iop.SystemState.TRACKING_PEC if self._pec_playing \
                else iop.SystemState.TRACKING
        elif state.at_home:
            system = iop.SystemState.HOMED
        else:
            system = iop.SystemState.STOPPED
        longitude = (self.mount.longitude_deg + 180.0) % 360.0 - 180.0
        return iop.format_status(iop.Status(
            longitude_deg=longitude, latitude_deg=self.mount.latitude_deg,
            gps=iop.Gps.OK if self.gps else iop.Gps.OFF, system=system,
            tracking_rate=self._rate, slew_speed=self._speed,
            time_source=self._time_source, northern=self.northern))

    async def _position(self) -> bytes:
        state = await self.mount.state()
        ra, dec = j2000_to_apparent(state.ra_hours * 15.0, state.dec_deg,
                                    self.clock.timestamp())
        return iop.format_position(iop.Position(ra / 15.0, dec, state.side_of_pier, False))

    async def _time(self) -> bytes:
        return iop.format_time(iop.MountTime(self.clock.now() + self._time_offset,
                                             self._utc_offset_min, self._dst))

    async def _guide_rates(self) -> bytes:
        state = await self.mount.state()
        return iop.format_guide_rates(state.guide_rate_ra_deg_s / SIDEREAL_DEG_PER_S,
                                      state.guide_rate_dec_deg_s / SIDEREAL_DEG_PER_S)

    async def _meridian_get(self) -> bytes:
        return b"%d%02d#" % (int(self._meridian[0]), self._meridian[1])

    async def _meridian_set(self, arg: str) -> bytes:
        value = _number(arg, 3)
        if value is None or arg[0] not in "01":
            return REFUSED
        self._meridian = (arg[0] == "1", value % 100)
        return OK

    async def _pec_data(self) -> bytes:
        return OK if self._pec_recorded else REFUSED

    async def _pec_state(self) -> bytes:
        return OK if self._pec_recording else REFUSED

    async def _pec_play(self, arg: str) -> bytes:
        if arg not in ("0", "1"):
            return REFUSED
        self._pec_playing = arg == "1"
        return OK

    async def _pec_record(self, arg: str) -> bytes:
        if arg not in ("0", "1"):
            return REFUSED
        if arg == "0" and self._pec_recording:
            self._pec_recorded = True
        self._pec_recording = arg == "1"
        return OK

    # -------------------------------------------------------------- gotos
    async def _set_ra(self, arg: str) -> bytes:
        value = _number(arg, 9)
        if value is None or value >= iop.RA_FULL_CIRCLE:
            return REFUSED
        self._target_ra = value
        return OK

    async def _set_dec(self, arg: str) -> bytes:
        value = _number(arg, 8, signed=True)
        if value is None or abs(value) > 90 * iop.CENTI_ARCSEC_PER_DEG:
            return REFUSED
        self._target_dec = value
        return OK

    def _target_j2000(self) -> tuple[float, float] | None:
        """The target set by ``:SRA``/``:Sd`` as J2000 (hours, degrees)."""
        if self._target_ra is None or self._target_dec is None:
            return None
        ra, dec = apparent_to_j2000(self._target_ra / iop.CENTI_ARCSEC_PER_DEG,
                                    self._target_dec / iop.CENTI_ARCSEC_PER_DEG,
                                    self.clock.timestamp())
        return (ra / 15.0) % 24.0, dec

    async def _goto(self) -> bytes:
        target = self._target_j2000()
        state = await self.mount.state()
        if target is None or state.at_park:
            return REFUSED
        if not state.tracking:
            await self.mount.set_tracking(True)
        await self.mount.slew_to_coordinates(*target)
        return OK

    async def _sync(self) -> bytes:
        target = self._target_j2000()
        if target is None:
            return REFUSED
        state = await self.mount.state()
        if not state.tracking:  # iOptron syncs either way; the SimMount needs tracking
            await self.mount.set_tracking(True)
            try:
                await self.mount.sync_to_coordinates(*target)
            finally:
                await self.mount.set_tracking(False)
        else:
            await self.mount.sync_to_coordinates(*target)
        return OK

    async def _abort(self) -> bytes:
        if not (await self.mount.state()).at_park:
            await self.mount.abort_slew()
        return OK

    # --------------------------------------------------------- park, home
    async def _park(self) -> bytes:
        self._background("park", self.mount.park())
        return OK

    async def _unpark(self) -> bytes:
        await self.mount.unpark()
        return OK

    async def _home(self) -> bytes:
        if (await self.mount.state()).at_park:
            return REFUSED
        self._background("home", self.mount.find_home())
        return OK

    async def _set_park_az(self, arg: str) -> bytes:
        value = _number(arg, 9)
        if value is None or value >= iop.RA_FULL_CIRCLE:
            return REFUSED
        self.park_position = (value, self.park_position[1] if self.park_position else 0)
        return OK

    async def _set_park_alt(self, arg: str) -> bytes:
        value = _number(arg, 8)
        if value is None or value > 90 * iop.CENTI_ARCSEC_PER_DEG:
            return REFUSED
        self.park_position = (self.park_position[0] if self.park_position else 0, value)
        return OK

    # ----------------------------------------------------------- tracking
    async def _track_on(self) -> bytes:
        await self.mount.set_tracking(True)
        return OK

    async def _track_off(self) -> bytes:
        await self.mount.set_tracking(False)
        return OK

    async def _apply_rate(self) -> None:
        if self._rate == iop.TrackingRate.CUSTOM:
            await self.mount.set_tracking_rate(DriveRate.SIDEREAL)
            # x × sidereal: the sky drifts by (1 - x) seconds of RA per sidereal second
            await self.mount.set_ra_rate(1.0 - self._custom)
        else:
            await self.mount.set_tracking_rate(DriveRate(int(self._rate)))
            await self.mount.set_ra_rate(0.0)

    async def _set_rate(self, arg: str) -> bytes:
        value = _number(arg, 1)
        if value is None or value > 4:
            return REFUSED
        self._rate = iop.TrackingRate(value)
        await self._apply_rate()
        return OK

    async def _set_custom(self, arg: str) -> bytes:
        value = _number(arg, 5)
        if value is None or not 1000 <= value <= 19000:
            return REFUSED
        self._custom = value / 10000
        if self._rate == iop.TrackingRate.CUSTOM:
            await self._apply_rate()
        return OK

    async def _set_speed(self, arg: str) -> bytes:
        value = _number(arg, 1)
        if value is None or value == 0:
            return REFUSED
        self._speed = value
        return OK

    async def _set_guide_rates(self, arg: str) -> bytes:
        value = _number(arg, 4)
        if value is None:
            return REFUSED
        ra, dec = value // 100, value % 100
        if not (1 <= ra <= 90 and 1 <= dec <= 90):
            return REFUSED
        await self.mount.set_guide_rates(ra / 100 * SIDEREAL_DEG_PER_S,
                                          dec / 100 * SIDEREAL_DEG_PER_S)
        return OK

    # ---------------------------------------------------- moves, pulses
    def _moving(self, axis: TelescopeAxis, sign: float) -> Handler:
        async def move(arg: str) -> bytes:
            if arg:
                return b""
            rate = min(iop.SLEW_SPEEDS[self._speed - 1] * SIDEREAL_DEG_PER_S,
                       self.mount.slew_rate_deg_s)
            if self._speed == 9:
                rate = self.mount.slew_rate_deg_s
            await self.mount.move_axis(axis, sign * rate)
            return b""
        return move

    async def _stop_ra(self) -> bytes:
        await self.mount.move_axis(TelescopeAxis.PRIMARY, 0.0)
        return OK

    async def _stop_dec(self) -> bytes:
        await self.mount.move_axis(TelescopeAxis.SECONDARY, 0.0)
        return OK

    async def _pulse(self, arg: str) -> bytes:
        direction = GUIDE_LETTERS.get(arg[:1])
        ms = _number(arg[1:], 5)
        if direction is not None and ms is not None:
            await self.mount.pulse_guide(direction, ms)
        return b""

    # ------------------------------------------------------- time, site
    async def _set_utc(self, arg: str) -> bytes:
        ms = _number(arg, 13)
        if ms is None:
            return REFUSED
        self._time_offset = iop.J2000 + timedelta(milliseconds=ms) - self.clock.now()
        if not self.gps:
            self._time_source = iop.TimeSource.RS232
        return OK

    async def _set_utc_offset(self, arg: str) -> bytes:
        value = _number(arg, 3, signed=True)
        if value is None or not -720 <= value <= 840:
            return REFUSED
        self._utc_offset_min = value
        return OK

    async def _set_dst(self, arg: str) -> bytes:
        if arg not in ("0", "1"):
            return REFUSED
        self._dst = arg == "1"
        return OK

    async def _set_longitude(self, arg: str) -> bytes:
        value = _number(arg, 8, signed=True)
        if value is None or abs(value) > 180 * iop.CENTI_ARCSEC_PER_DEG:
            return REFUSED
        await self.mount.set_site(self.mount.latitude_deg, value / iop.CENTI_ARCSEC_PER_DEG,
                                  self.mount.elevation_m)
        return OK

    async def _set_latitude(self, arg: str) -> bytes:
        value = _number(arg, 8, signed=True)
        if value is None or abs(value) > 90 * iop.CENTI_ARCSEC_PER_DEG:
            return REFUSED
        await self.mount.set_site(value / iop.CENTI_ARCSEC_PER_DEG, self.mount.longitude_deg,
                                  self.mount.elevation_m)
        self.northern = value >= 0  # the hemisphere follows, until an :SHE says otherwise
        return OK


    async def _set_hemisphere(self, arg: str) -> bytes:
        if arg not in ("0", "1"):
            return REFUSED
        self.northern = arg == "1"
        return OK


_SILENT = frozenset({"Z", *MOVES})
"""Commands that never reply, even when refused."""


def _exactly(func: Callable[[], Awaitable[bytes]]) -> Handler:
    """A handler for a command without argument: anything after its name is unknown."""

    async def handle(arg: str) -> bytes:
        return await func() if not arg else b""

    return handle
