"""The status board: one snapshot of the running unit, readable from any thread.

The unit loop is the only writer: :meth:`StatusBoard.keep` refreshes the snapshot at
most every :data:`REFRESH_S` seconds of *real* time, and at once when the unit changes
state; a night on virtual time looks every few clock seconds but builds the snapshot
only when enough real time has passed, so the board does not slow it. Each refresh
builds a new dict and its JSON bytes and replaces both attributes whole (never
mutating them), so a reader in another thread (the API server) reads
:attr:`StatusBoard.snapshot` or :attr:`StatusBoard.json_bytes` without a lock and
always sees a complete snapshot. After each refresh the unit publishes ``unit.status``.

Every key of the snapshot is always present; what is not known yet (or a device the
unit does not have) is ``null``. Times are ISO 8601 UTC with ``Z``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from nocturna.observatory.moon import MoonPositions
from nocturna.observatory.weather import read_weather
from nocturna.states.machine import PAUSED
from nocturna.states.table import CHECKS

if TYPE_CHECKING:
    from nocturna.core.events import Event
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

REFRESH_S = 0.25
"""The board is rebuilt at most this often (real seconds), besides state changes."""
READ_TIMEOUT_S = 2.0
"""A device that does not answer within this long shows as null on the board."""
NEXT_EVERY_S = 60.0
"""The next planned field is looked up again after this many clock seconds."""
ACTIVE_STATES = ("slewing", "pointing", "focusing", "tracking", "observing", "analyzing")
"""States in which the current observation is shown."""
KEYS = ("unit", "time", "time_base", "state", "reason", "since", "paused", "hold",
        "observation", "next", "safety", "components", "mount", "dome", "camera", "focuser",
        "filter_wheel", "weather", "sun_alt_deg", "moon", "progress", "api_url")
"""Every key of a snapshot, in order."""


def iso_z(when: datetime | None) -> str | None:
    """``2026-12-15T21:03:00Z`` (None stays None)."""
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finite(value: Any, digits: int = 3) -> float | None:
    """A number for JSON (None for missing, NaN or infinite values)."""
    if value is None:
        return None
    number = float(value)
    return round(number, digits) if math.isfinite(number) else None


async def _read(device: Any) -> Any | None:
    """``device.state()``, or None (no device, no answer in time, an error)."""
    if device is None:
        return None
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            return await device.state()
    except Exception as exc:
        log.debug("status board: %s cannot be read: %s", device.name, exc)
        return None


class StatusBoard:
    """The unit's status for readers in other threads (see the module docstring)."""

    def __init__(self, unit: Observatory, *, time_base: str = "real") -> None:
        self.unit = unit
        self.time_base = time_base
        self.refreshes = 0
        self.api_url: str | None = None
        """Where the unit's API answers (set when it serves one), for a fleet page."""
        self._moon = MoonPositions(unit.location)
        self._next: dict[str, Any] | None = None
        self._next_at: datetime | None = None
        self.snapshot: dict[str, Any] = dict.fromkeys(KEYS)
        self.json_bytes: bytes = json.dumps(self.snapshot).encode()
        self._states = unit.events.subscribe("unit.state", maxsize=1000)

    def close(self) -> None:
        """Stop following the unit's state changes."""
        self._states.close()

    # ------------------------------------------------------------ keeping it fresh
    async def keep(self) -> None:
        """Refresh the board (see the module docstring) until cancelled."""
        unit = self.unit
        last = float("-inf")
        changed: list[Event] = []
        try:
            while True:
                if changed or time.monotonic() - last >= REFRESH_S:
                    last = time.monotonic()
                    await self._refresh_quietly()
                changed = await _next_event(self._states, unit.clock.sleep(
                    min(30.0, REFRESH_S * unit.clock.speed)))
                changed += self._states.drain()
        finally:
            self.close()

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh()
        except Exception:  # the board must never stop the night
            log.exception("the status board could not be refreshed")

    async def refresh(self) -> dict[str, Any]:
        """Build a new snapshot now, replace the board's, announce ``unit.status``."""
        snapshot = await self.build()
        encoded = json.dumps(snapshot, separators=(",", ":"), allow_nan=False).encode()
        self.snapshot, self.json_bytes = snapshot, encoded  # replaced whole: readers see one
        self.refreshes += 1
        self.unit.publish("status")
        return snapshot

    # ------------------------------------------------------------ the snapshot
    async def build(self) -> dict[str, Any]:
        """A new snapshot of the unit (every key of :data:`KEYS`)."""
        unit = self.unit
        status = unit.status
        now = unit.clock.now()
        requests = unit.operator
        instrument = unit.instrument
        context = instrument.context
        mount, dome, camera, focuser, wheel = await asyncio.gather(
            _read(unit.mount), _read(unit.dome), _read(instrument.camera),
            _read(context.focuser), _read(context.filterwheel))
        return {
            "unit": unit.name,
            "time": iso_z(now),
            "time_base": self.time_base,
            "state": status.state,
            "reason": status.reason,
            "since": iso_z(status.since),
            "paused": status.state == PAUSED or requests.hold is not None,
            "hold": requests.hold,
            "observation": self._observation(),
            "next": self._next_field(now),
            "safety": self._safety(),
            "components": self._components(),
            "mount": _mount(mount) if unit.mount is not None else None,
            "dome": _dome(dome) if unit.dome is not None else None,
            "camera": _camera(instrument.camera.name, camera),
            "focuser": None if context.focuser is None else {
                "position": getattr(focuser, "position", None),
                "temperature_c": _finite(getattr(focuser, "temperature_c", None))},
            "filter_wheel": None if context.filterwheel is None else {
                "filter": getattr(wheel, "name", None)},
            "weather": await self._weather(),
            "sun_alt_deg": _finite(unit.sun_altitude(now)),
            "moon": await self._moon_now(now),
            "progress": dict(unit.status.progress) if unit.status.progress else None,
            "api_url": self.api_url,
        }

    def _observation(self) -> dict[str, Any] | None:
        unit = self.unit
        observation = unit.current
        if observation is None or unit.status.state not in ACTIVE_STATES:
            return None
        frame, of = None, observation.total_frames
        if unit.status.frame:
            taken, _, total = unit.status.frame.partition("/")
            frame, of = int(taken), int(total)
        planned = observation.next_set()
        return {"field": observation.field.name, "frame": frame, "of": of,
                "filter": planned[0].filter if planned else None,
                "exposure_s": planned[0].exptime_s if planned else None,
                "image_type": "object"}

    def _next_field(self, now: datetime) -> dict[str, Any] | None:
        """The field after the current one: a waiting target of opportunity, else the
        scheduler's best (looked up once per :data:`NEXT_EVERY_S` clock seconds)."""
        unit = self.unit
        current = unit.current
        start = now
        if current is not None and not current.is_finished:
            start = now + timedelta(seconds=current.estimated_duration_s())
        queued = [t for t in unit.operator.targets if t is not current and not t.is_finished]
        if queued:
            return {"field": queued[0].field.name, "start": iso_z(start)}
        if self._next_at is None or abs((now - self._next_at).total_seconds()) >= NEXT_EVERY_S:
            self._next_at, self._next = now, self._best_planned(start)
        return self._next

    def _best_planned(self, at: datetime) -> dict[str, Any] | None:
        unit = self.unit
        current = unit.current.field.name if unit.current is not None else None
        try:
            ranked = unit.scheduler.best(at, current=current, limit=3)
        except Exception as exc:
            log.debug("status board: no next field: %s", exc)
            return None
        for item in ranked:
            observation = unit.observations.get(item.name)
            if item.score > 0 and item.name != current and not (
                    observation is not None and observation.is_finished):
                return {"field": item.name, "start": iso_z(at)}
        return None

    def _safety(self) -> dict[str, Any]:
        status = self.unit.status
        checks = {name: {"ok": (not status.checks[name]) if name in status.checks else None,
                         "reasons": list(status.checks.get(name, []))} for name in CHECKS}
        return {"safe": status.safe, "reasons": list(status.reasons), "checks": checks}

    def _components(self) -> list[dict[str, Any]]:
        rows = []
        for component in self.unit.components:
            rows.append({"name": component.name, "kind": component.kind,
                         "state": component.state.name,
                         "last_heartbeat": iso_z(component.last_heartbeat),
                         "heartbeat_age_s": _finite(component.heartbeat_age_s(), 1),
                         "fault_reason": component.fault_reason})
        return rows

    async def _weather(self) -> dict[str, Any] | None:
        devices = self.unit.devices
        if not devices.weather and not devices.safety_monitors:
            return None
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                now = await read_weather(self.unit)
        except Exception as exc:
            log.debug("status board: the weather cannot be read: %s", exc)
            return None
        return {key: _finite(value, 2) for key, value in now.readings.items()} | \
            {"safe": now.safe}

    async def _moon_now(self, now: datetime) -> dict[str, Any] | None:
        try:
            if not self._moon.ready(now):  # a new day's table: astropy, off the loop
                await asyncio.to_thread(self._moon.at, now)
            moon = self._moon.at(now)
        except Exception as exc:
            log.debug("status board: no Moon: %s", exc)
            return None
        return {"alt_deg": _finite(moon.alt_deg, 2), "az_deg": _finite(moon.az_deg, 2),
                "illumination": _finite(moon.illumination)}


def _mount(status: Any) -> dict[str, Any] | None:
    if status is None:
        return None
    return {"ra_deg": _finite(status.ra_hours * 15.0, 4), "dec_deg": _finite(status.dec_deg, 4),
            "alt_deg": _finite(status.alt_deg, 3), "az_deg": _finite(status.az_deg, 3),
            "tracking": status.tracking, "slewing": status.slewing, "at_park": status.at_park,
            "pier_side": status.side_of_pier.name.lower()}


def _dome(status: Any) -> dict[str, Any] | None:
    if status is None:
        return None
    return {"shutter": status.shutter_status.name.lower(),
            "azimuth_deg": _finite(status.azimuth_deg, 2), "at_park": status.at_park}


def _camera(name: str, status: Any) -> dict[str, Any]:
    if status is None:
        return {"name": name, "state": None, "ccd_temp_c": None, "cooler": None}
    return {"name": name, "state": status.camera_state.name.lower(),
            "ccd_temp_c": _finite(status.ccd_temperature_c, 2), "cooler": status.cooler_on}


async def _next_event(subscription: Any, timeout: Any) -> list[Event]:
    """The next event of ``subscription`` (in a list), or none once ``timeout`` (a
    coroutine) is done."""
    getter = asyncio.ensure_future(subscription.get())
    sleeper = asyncio.ensure_future(timeout)
    try:
        await asyncio.wait({getter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (getter, sleeper):
            task.cancel()
        for task in (getter, sleeper):
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return [getter.result()] if getter.done() and not getter.cancelled() else []
