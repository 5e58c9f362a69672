"""Operators steer a running unit: park, pause, resume, end the night, observe a target
of opportunity, take calibrations, abort the exposure in progress.

:class:`UnitControl` runs on the unit's event loop (other threads call its coroutines
with ``asyncio.run_coroutine_threadsafe``). Each command either is accepted (a
:class:`CommandResult` saying what will happen) or raises
:class:`~nocturna.core.errors.CommandRefused` with its category; either way it is
recorded in storage (``commands``, with who sent it) and announced as ``unit.command``.
A refused command changes nothing.

The commands act through the unit's
:class:`~nocturna.observatory.operator.OperatorRequests` (what the states read) and
:meth:`~nocturna.states.machine.StateMachine.interrupt`:

* **park** starts parking and closing at once (the safety watcher's own fast path),
  then holds the unit parked until **resume**; never refused.
* **pause** lets the frame being exposed finish and be written, then holds the unit in
  ``paused`` (tracking off, the dome as it is, safety still watched).
* **resume** ends a pause or an operator park; the night goes on through its usual
  checks (an operator park is refused ``unsafe`` while the weather is).
* **end_night** parks and closes now, takes the morning housekeeping and ends the run.
* **observe** queues a target of opportunity: the next field observed, after the frame
  in progress.
* **calibrate** queues bias, darks or dome flats, taken parked (a pause closes first).
* **abort_exposure** aborts the exposure in progress; the night goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nocturna.core.errors import CommandRefused
from nocturna.devices.types import CameraState
from nocturna.observatory.operator import PARK, PAUSE, CalibrationJob
from nocturna.runtime import command_checks as checks
from nocturna.states.machine import PAUSED

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory
    from nocturna.runtime.status_board import StatusBoard
    from nocturna.states.machine import StateMachine

log = logging.getLogger(__name__)

DEFAULT_EXPOSURE_S = 60.0
"""A target of opportunity's exposure when the request names none (a field's default)."""
EXPOSING = (CameraState.WAITING, CameraState.EXPOSING, CameraState.READING,
            CameraState.DOWNLOAD)
"""Camera states in which there is an exposure to abort."""
ABORTABLE = {"observing": "scheduling", "flats": "scheduling", "parked": "parked"}
"""Where the unit goes when the exposure of each state is aborted (the night goes on)."""


@dataclass(frozen=True)
class Operator:
    """Who sent a command."""

    name: str  # token name, or "local" for the CLI on the same machine
    role: str  # "viewer" | "operator"
    address: str | None = None  # client address


@dataclass(frozen=True)
class CommandResult:
    """An accepted command: its row id in storage and what will happen."""

    id: int
    command: str
    accepted: bool
    detail: str


class TargetRequest(BaseModel):
    """A target of opportunity: observed next, ahead of the plan."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80, description="the target's name")
    ra_deg: float = Field(ge=0.0, le=360.0, description="right ascension (ICRS), degrees")
    dec_deg: float = Field(ge=-90.0, le=90.0, description="declination (ICRS), degrees")
    priority: float | None = Field(default=None, gt=0.0, le=1e6, description=(
        "among targets of opportunity, higher first (default: above every planned field)"))
    exposure_s: float | None = Field(default=None, gt=0.0, le=3600.0, description=(
        f"seconds per frame (default {DEFAULT_EXPOSURE_S:g})"))
    count: int = Field(default=1, ge=1, le=1000, description="frames to take")
    filter: str | None = Field(default=None, min_length=1, max_length=40,
                               description="one of the filter wheel's filters")


class CalibrationRequest(BaseModel):
    """A calibration sequence: bias, darks or dome flats, taken with the dome closed."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["bias", "dark", "flat"]
    count: int = Field(default=10, ge=1, le=100, description="frames to take")
    exposure_s: float | None = Field(default=None, ge=0.0, le=3600.0, description=(
        "seconds per frame: needed for darks; flats default to the panel's level"))
    filter: str | None = Field(default=None, min_length=1, max_length=40,
                               description="flats: one of the filter wheel's filters")

    @model_validator(mode="after")
    def _fits_kind(self) -> CalibrationRequest:
        if self.kind == "bias" and self.exposure_s:
            raise ValueError("bias frames have no exposure time")
        if self.kind == "dark" and self.exposure_s is None:
            raise ValueError("darks need exposure_s")
        if self.kind != "flat" and self.filter is not None:
            raise ValueError(f"{self.kind} frames take no filter")
        return self


class UnitControl:
    """Operator commands to one running unit (see the module docstring)."""

    def __init__(self, unit: Observatory, machine: StateMachine, board: StatusBoard) -> None:
        self.unit = unit
        self.machine = machine
        self.board = board

    @property
    def requests(self) -> Any:
        return self.unit.operator

    # ------------------------------------------------------------ recording
    def record(self, who: Operator, command: str, args: dict[str, Any] | None,
               accepted: bool, detail: str) -> int:
        """Record a command (``commands`` row, ``unit.command`` event); its row id."""
        unit = self.unit
        row_id = 0
        try:
            row_id = unit.storage.add_command(who.name, who.role, command, args or {},
                                              accepted=accepted, detail=detail,
                                              address=who.address, time=unit.clock.now()).id
        except Exception as exc:  # the record must never stop a command, least a park
            log.error("could not record the command %s from %s: %s", command, who.name, exc)
        log.log(logging.WARNING if accepted else logging.INFO, "%s %s from %s: %s",
                "accepted" if accepted else "refused", command, who.name, detail)
        unit.publish("command", id=row_id, command=command, operator=who.name,
                     accepted=accepted, detail=detail)
        return row_id

    def _accept(self, who: Operator, command: str, detail: str,
                args: dict[str, Any] | None = None) -> CommandResult:
        return CommandResult(self.record(who, command, args, True, detail), command, True,
                             detail)

    def _refuse(self, who: Operator, command: str, refusal: CommandRefused,
                args: dict[str, Any] | None = None) -> CommandRefused:
        self.record(who, command, args, False, str(refusal))
        return refusal

    # ------------------------------------------------------------ commands
    async def park(self, who: Operator) -> CommandResult:
        """Park and close now, then stay parked until resumed; never refused."""
        unit, machine, requests = self.unit, self.machine, self.requests
        unit.begin_park_and_close()  # first: nothing may delay it
        requests.hold, requests.held_by = PARK, who.name
        requests.changed()
        state = machine.state
        if machine.interrupt(machine.table.on_unsafe, f"park asked by {who.name}"):
            detail = f"parking and closing now (was {state}); parked until resumed"
        elif state == machine.table.on_unsafe:
            detail = "already parking: joined; parked until resumed"
        else:
            detail = f"the unit is {state} (closed); it stays parked until resumed"
        return self._accept(who, "park", detail)

    async def pause(self, who: Operator, reason: str = "") -> CommandResult:
        """Hold the unit after the frame being exposed (see the module docstring)."""
        machine, requests = self.machine, self.requests
        args = {"reason": reason} if reason else {}
        state = machine.state
        if requests.end_night:
            raise self._refuse(who, "pause", CommandRefused("state", "the night is ending"),
                               args)
        if requests.hold == PARK:
            raise self._refuse(who, "pause", CommandRefused(
                "state", f"parked by {requests.held_by}: resume first"), args)
        if requests.hold == PAUSE:
            return self._accept(who, "pause", f"already paused (by {requests.held_by})", args)
        requests.hold, requests.held_by = PAUSE, who.name
        requests.changed()
        why = f"paused by {who.name}" + (f": {reason}" if reason else "")
        if state in ("observing", "flats"):
            detail = "pausing after the frame being exposed"
        elif state not in ("parking", "parked", "housekeeping", "sleeping", PAUSED) and \
                machine.interrupt(PAUSED, why):
            detail = f"paused now (was {state})"
        else:
            detail = f"the unit is {state}: it holds instead of reopening until resumed"
        return self._accept(who, "pause", detail, args)

    async def resume(self, who: Operator) -> CommandResult:
        """End a pause or an operator park (refused ``state`` when nothing is held)."""
        unit, machine, requests = self.unit, self.machine, self.requests
        try:
            if requests.end_night:
                raise CommandRefused("state", "the night is ending")
            if requests.hold is None:
                raise CommandRefused("state", "nothing is paused or parked by an operator")
            if requests.hold == PARK:
                await checks.weather_safe(unit)
        except CommandRefused as refusal:
            raise self._refuse(who, "resume", refusal) from None
        held = requests.hold
        requests.hold, requests.held_by = None, ""
        requests.changed()
        if machine.state == PAUSED and machine.interrupt("ready", f"resumed by {who.name}"):
            detail = "resumed: opening up again through the usual checks"
        elif unit.is_dark("flat"):
            detail = f"{'park' if held == PARK else 'pause'} released: the unit reopens " \
                     "through the usual checks"
        else:
            detail = f"{'park' if held == PARK else 'pause'} released: the unit opens at dusk"
        return self._accept(who, "resume", detail)

    async def end_night(self, who: Operator) -> CommandResult:
        """Park, close, take the morning housekeeping, end the run."""
        machine, requests = self.machine, self.requests
        if requests.end_night:
            return self._accept(who, "end-night", "already ending the night")
        requests.end_night = True
        requests.changed()
        state = machine.state
        if machine.interrupt(machine.table.on_unsafe, f"night ended by {who.name}"):
            self.unit.begin_park_and_close()
            detail = f"parking and closing now (was {state}), then housekeeping; the run ends"
        else:
            detail = f"the unit is {state}: housekeeping next, then the run ends"
        return self._accept(who, "end-night", detail)

    async def observe(self, who: Operator, target: TargetRequest) -> CommandResult:
        """Queue a target of opportunity: the next field observed."""
        from nocturna.scheduler import Field as SkyField
        from nocturna.scheduler import Observation

        unit, machine, requests = self.unit, self.machine, self.requests
        args = target.model_dump(exclude_none=True)
        try:
            if requests.end_night:
                raise CommandRefused("state", "the night is ending")
            checks.dark_enough(unit)
            await checks.weather_safe(unit)
            checks.no_fault(unit)
            checks.above_horizon_now(unit, target.name, target.ra_deg, target.dec_deg)
            await checks.known_filter(unit, target.filter)
            if target.name in {f.name for f in unit.scheduler.fields}:
                raise CommandRefused("invalid", f"a field named {target.name!r} is already "
                                                "planned: give the target another name")
            planned = [f.priority for f in unit.scheduler.fields]
            priority = target.priority or (max(planned, default=0.0) + 1.0)
            fld = SkyField(target.name, target.ra_deg, target.dec_deg, priority=priority,
                           exptimes_s=(target.exposure_s or DEFAULT_EXPOSURE_S,),
                           filters=(target.filter,), min_nexp=target.count,
                           exp_set_size=target.count)
        except CommandRefused as refusal:
            raise self._refuse(who, "observe", refusal, args) from None
        except ValueError as exc:
            raise self._refuse(who, "observe", CommandRefused("invalid", str(exc)),
                               args) from None
        unit.scheduler.add_field(fld)
        observation = unit.observations[fld.name] = Observation(fld)
        place = requests.add_target(observation)
        if machine.state == "scheduling":
            machine.interrupt("scheduling", f"target of opportunity {fld.name}")
        if requests.hold is not None:
            detail = f"{fld.name} queued: observed when the unit is resumed"
        elif place == 0:
            detail = f"{fld.name} is the next field (after the frame in progress)"
        else:
            detail = f"{fld.name} queued after {place} other target(s) of opportunity"
        return self._accept(who, "observe", detail, args)

    async def calibrate(self, who: Operator, request: CalibrationRequest) -> CommandResult:
        """Queue a calibration sequence, taken parked (accepted parked or paused)."""
        unit, machine, requests = self.unit, self.machine, self.requests
        args = request.model_dump(exclude_none=True)
        state = machine.state
        try:
            if state not in ("parked", PAUSED) and requests.hold is None:
                raise CommandRefused("state", f"the unit is {state}: calibrations are taken "
                                              "parked or paused (pause first)")
            if request.kind == "flat":
                checks.has_flat_panel(unit)
                await checks.known_filter(unit, request.filter)
        except CommandRefused as refusal:
            raise self._refuse(who, "calibrate", refusal, args) from None
        job = CalibrationJob(request.kind, request.count, request.exposure_s, request.filter,
                             who.name)
        requests.calibrations.append(job)
        requests.changed()
        when = "now" if state == "parked" else "once the unit has closed"
        return self._accept(who, "calibrate", f"{job.label}: taken {when}", args)

    async def abort_exposure(self, who: Operator) -> CommandResult:
        """Abort the exposure in progress (its frame is not kept); the night goes on."""
        unit, machine = self.unit, self.machine
        state = machine.state
        try:
            camera = await unit.instrument.camera.state()
            if camera.camera_state not in EXPOSING:
                raise CommandRefused("state", "nothing is exposing")
            if state not in ABORTABLE:
                raise CommandRefused("state", f"the exposure belongs to {state}: pause or "
                                              "park to stop it")
        except CommandRefused as refusal:
            raise self._refuse(who, "abort", refusal) from None
        except Exception as exc:
            raise self._refuse(who, "abort", CommandRefused(
                "fault", f"the camera cannot be read: {exc}")) from None
        machine.interrupt(ABORTABLE[state], f"exposure aborted by {who.name}")
        return self._accept(who, "abort", f"exposure aborted ({state}); the night goes on")
