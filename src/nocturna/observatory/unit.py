"""One observatory unit: site, devices, instruments, scheduler, storage.

:class:`Observatory` holds what the night needs and offers the routines the states
call: open up, observe the current observation, calibrations (bias and darks,
twilight flats, dome flats), park and close. The routines live in their own modules
(:mod:`.enclosure`, :mod:`.observe`, :mod:`.calibrations`, :mod:`.flats`); this class
ties them to one unit and keeps the night's bookkeeping (:class:`NightLog`) and the
live status the CLI shows.

Pointing correction and autofocus are hooks (:attr:`Observatory.pointing_hook`,
:attr:`Observatory.autofocus_hook`): async callables taking the unit, by default the
closed loops of :mod:`.closedloops`. The states call them where the night needs them;
a site may replace them (or set them to None).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from nocturna.components import ComponentGroup
from nocturna.core.clock import Clock, get_clock
from nocturna.core.config import Config
from nocturna.core.events import EventBus, get_event_bus
from nocturna.devices.factory import DeviceSet
from nocturna.instrument.instrument import Instrument
from nocturna.observatory.nightlog import NightLog
from nocturna.observatory.operator import OperatorRequests
from nocturna.observatory.sun import SunAltitudes

log = logging.getLogger(__name__)

Hook = Callable[["Observatory"], Awaitable[Any]]


@dataclasses.dataclass
class UnitStatus:
    """What the unit is doing now, for the live status line and the dashboard."""

    state: str = "sleeping"
    reason: str | None = None  # why the unit went to this state
    since: datetime | None = None  # when
    field: str | None = None
    frame: str | None = None  # "3/10"
    sun_alt_deg: float | None = None
    safe: bool | None = None
    reasons: list[str] = dataclasses.field(default_factory=list)
    checks: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    """The failures of each safety check last run (empty: it passed)."""
    progress: dict[str, Any] | None = None  # {what, done, of} of the sequence under way
    disk_low: bool = False  # below the safety's free-space limit (unit.disk_low told)

    def line(self, now: datetime) -> str:
        sky = "" if self.sun_alt_deg is None else f"Sun {self.sun_alt_deg:+.1f}°"
        safety = "safe" if self.safe else ("UNSAFE: " + "; ".join(self.reasons[:2])
                                            if self.safe is False else "safety ?")
        parts = [now.strftime("%Y-%m-%d %H:%M:%SZ"), self.state]
        if self.field:
            parts.append(self.field + (f" frame {self.frame}" if self.frame else ""))
        parts += [sky, safety]
        return " | ".join(p for p in parts if p)


class Observatory:
    """One unit; see the module docstring."""

    def __init__(
        self,
        config: Config,
        devices: DeviceSet,
        storage: Any,
        scheduler: Any,
        instruments: dict[str, Instrument],
        components: ComponentGroup,
        *,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        from nocturna.core.astro import site_location

        self.config = config
        self.model = config.model
        self.settings = config.model.observatory
        self.site = config.model.site
        self.location = site_location(self.site)
        self.sun = SunAltitudes(self.location)
        self.devices = devices
        self.storage = storage
        self.scheduler = scheduler
        self.instruments = instruments
        primary = devices.primary_camera
        self.instrument = instruments[primary] if primary in instruments \
            else next(iter(instruments.values()))
        self.components = components
        self._clock = clock
        self._events = events
        self.status = UnitStatus()
        self.nightlog = NightLog()
        self.operator = OperatorRequests()
        self.observations: dict[str, Any] = {}  # field name → Observation, this night
        self.current: Any | None = None  # the Observation being worked on
        self.current_record_id: int | None = None
        from nocturna.observatory.closedloops import focus_unit, point_current_field

        self.pointing_hook: Hook | None = point_current_field
        self.autofocus_hook: Hook | None = focus_unit
        self.tracker: Any | None = None  # TrackingCorrector, made when first needed
        self.on_target: str | None = None
        self.set_aside: dict[str, datetime] = {}
        """Fields whose next frame a checkpoint refused, and when (scheduling skips them
        for a while)."""
        """The field the mount points at, corrected and tracking (None: none)."""
        self.evening_flats_done = False
        self.morning_flats_done = False
        self.housekeeping_done = False
        self._closing: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ plumbing
    @property
    def clock(self) -> Clock:
        return self._clock or get_clock()

    @property
    def events(self) -> EventBus:
        return self._events or get_event_bus()

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def imaging_followers(self) -> list[Instrument]:
        """The unit's other imaging instruments: they take every observation's frames
        with the primary one. Cameras behind a spectrograph do not (their frames are
        spectra, not images of the field); they take calibrations only."""
        behind = self.devices.camera_spectrographs
        return [instrument for instrument in self.instruments.values()
                if instrument is not self.instrument and instrument.camera.name not in behind]

    @property
    def mount(self) -> Any | None:
        return self.devices.mount

    @property
    def dome(self) -> Any | None:
        return self.devices.dome

    def publish(self, topic: str, **data: Any) -> None:
        self.events.publish(f"unit.{topic}", self.name, time=self.clock.now(), **data)

    def note_safety(self, safe: bool, reasons: list[str],
                    checks: dict[str, list[str]] | None = None) -> None:
        """Keep the latest safety verdict (and the failures of the ``checks`` run);
        announce it as ``unit.safety`` when it changed."""
        status = self.status
        changed = safe != status.safe or reasons != status.reasons
        status.safe, status.reasons = safe, list(reasons)
        if checks is not None:
            status.checks.update(checks)
        if changed:
            self.publish("safety", safe=safe, reasons=list(reasons))

    def report_progress(self, what: str, done: int, of: int | None) -> None:
        """A sequence moved on: ``done`` of ``of`` (``unit.progress``)."""
        self.status.progress = {"what": what, "done": done, "of": of}
        self.publish("progress", what=what, done=done, of=of)

    def sun_altitude(self, when: datetime | None = None) -> float:
        return self.sun.at(when or self.clock.now())

    def twilight(self, which: str) -> float:
        """The configured Sun altitude (degrees) for ``flat``, ``focus`` or ``observe``."""
        return float(getattr(self.site.twilight, which).to_value("deg"))

    def is_dark(self, which: str = "observe", when: datetime | None = None) -> bool:
        """Whether the Sun is below the ``which`` twilight altitude."""
        return self.sun_altitude(when) < self.twilight(which)

    def is_morning(self, when: datetime | None = None) -> bool:
        return self.sun.is_rising(when or self.clock.now())

    def new_night(self) -> None:
        """Forget the previous night's observations and calibrations."""
        self.observations.clear()
        self.set_aside.clear()
        self.current = None
        self.current_record_id = None
        self.evening_flats_done = self.morning_flats_done = self.housekeeping_done = False
        self.nightlog.new_night()

    # ------------------------------------------------------------ routines
    async def open_up(self) -> None:
        from nocturna.observatory.enclosure import open_up

        await open_up(self)

    def begin_park_and_close(self) -> asyncio.Task[None]:
        """Start parking and closing now; joins the one already under way, if any.

        Parking runs as its own task, so it starts at once and goes on whatever else
        is still finishing (a frame being written, a solve being stopped).
        """
        from nocturna.observatory.enclosure import park_and_close

        self.on_target = None
        task = self._closing
        if task is None or task.done():
            task = self._closing = asyncio.ensure_future(park_and_close(self))
        return task

    async def park_and_close(self) -> None:
        """Park and close (see :meth:`begin_park_and_close`); cancelling the caller does
        not stop the parking."""
        await asyncio.shield(self.begin_park_and_close())

    async def slew_to_current(self) -> None:
        from nocturna.observatory.observe import slew_to_observation

        await slew_to_observation(self, self.current)

    async def observe_current(self) -> int:
        from nocturna.observatory.observe import take_set

        return await take_set(self, self.current)

    async def twilight_flats(self) -> int:
        from nocturna.observatory.flats import twilight_flats

        return await twilight_flats(self)

    async def housekeeping(self) -> int:
        from nocturna.observatory.calibrations import housekeeping

        return await housekeeping(self)

    async def correct_pointing(self) -> Any | None:
        """Run the pointing-correction hook, if the unit has one and it is enabled."""
        if self.pointing_hook is not None and self.settings.pointing.enabled:
            return await self.pointing_hook(self)
        return None

    async def autofocus_due(self) -> Any | None:
        """Why autofocus should run now (None: it need not); see :mod:`.closedloops`."""
        from nocturna.observatory.closedloops import focus_due

        return await focus_due(self)

    async def autofocus(self) -> Any | None:
        """Run the autofocus hook, if the unit has one and it is enabled."""
        if self.autofocus_hook is not None and self.settings.autofocus.enabled:
            return await self.autofocus_hook(self)
        return None

    # ------------------------------------------------------------ life cycle
    async def start(self) -> None:
        """Connect and enable every component."""
        await self.components.enable()

    async def stop(self) -> None:
        """Disable every component (devices disconnect) and stop their heartbeats."""
        try:
            await self.components.standby()
        finally:
            await self.components.close()
