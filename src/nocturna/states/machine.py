"""The night's state machine.

:class:`StateMachine` runs one state at a time: the state's handler (``on_enter(unit)``)
does its work and names the next state. Around every handler a watcher re-checks, every
``observatory.safety.check_interval`` clock seconds, the state's weather, Sun and
component checks; when one fails the unit starts parking and closing *at once* (the
handler is cancelled meanwhile: an exposure in progress is aborted, frames already
taken finish writing in the background, nothing the handler still does delays the
park), and the unit goes to the table's ``on_unsafe`` state (parking).

Before entering any state all its checks run; a state that is not safe is not entered.
The unit parks instead, or stays where it is where parking is not a transition of the
table. A refused transition never spins: the same target is not tried again before
one check interval has passed, and repeats of a refusal are counted, not recorded one
row each (the log and the record say it once, then at most every
:data:`REPEAT_REPORT_S` clock seconds, with the count).

A unit that cannot be parked and closed (the mount or the dome no longer answers) is
tried again, after one check interval and then twice as long each time up to
:data:`PARK_RETRY_MAX_S`, for :data:`PARK_GIVE_UP_S` clock seconds (a hung controller
that comes back is still parked); then the run ends with :attr:`StateMachine.failure`
set, loudly.

Every transition is recorded in storage with its reason and announced as a
``unit.state`` event. A handler error in a state with checks parks the unit; in a
safe state it goes to that state's first listed next state.

The run ends at ``until`` (the unit first parks and closes if it is not already) or,
with ``until_morning``, when the unit goes to sleep after the morning housekeeping, or
when a :class:`StopRequest` is made (a signal): the unit parks and closes first.
Cancelling :meth:`StateMachine.run` parks and closes before it returns.

Operators steer the machine through the unit's
:class:`~nocturna.observatory.operator.OperatorRequests` and :meth:`StateMachine.interrupt`:
an interrupt ends the running state at once (to ``parking`` it starts parking and
closing first, as an unsafe verdict does); while an operator holds the unit, a
transition to a state with checks goes to ``paused`` (a pause) or ``parking`` (an
operator park, the end of the night) instead. A night ended by an operator ends when
the unit goes to sleep after its housekeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nocturna.observatory.operator import PARK
from nocturna.states.safety import SafetyReport, SafetySupervisor
from nocturna.states.table import StateSpec, StateTable, load_state_table

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

WATCHED = ("weather", "sun", "components")
"""The checks that hold while a state runs (dome and disk are checked on entry)."""
SPIN_LIMIT = 25
"""Transitions at one clock instant after which the machine waits a check interval: a
cycle of states that takes no time is a spin, whatever causes it."""
REPEAT_REPORT_S = 1800.0
"""A refusal repeated unchanged is recorded again at most this often (clock seconds)."""
PARK_GIVE_UP_S = 3600.0
"""How long parking and closing is retried before the run ends as unable to make the
unit safe (clock seconds from the first failure)."""
PARK_RETRY_MAX_S = 300.0
"""The longest wait between two tries at parking."""
SAFE_TO_END = ("sleeping", "parked", "housekeeping")
"""States in which a stopped run may end (the unit is closed in them)."""
PAUSED = "paused"
"""The state an operator's pause holds the unit in."""


@dataclass
class StopRequest:
    """A request to end the run (a signal, an operator): the unit parks and closes first."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = ""
    source: Any = None  # what asked (e.g. the signal)

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def request(self, reason: str, source: Any = None) -> None:
        """Ask the run to park, close and end (the first request's reason is kept)."""
        if not self.event.is_set():
            self.reason, self.source = reason, source
            self.event.set()


@dataclass
class _Refusal:
    """A refused transition and how often it repeated since it was last recorded."""

    target: str
    why: str
    first: datetime
    last_try: datetime
    count: int = 1
    unrecorded: int = 0
    recorded_at: datetime | None = None


class StateMachine:
    """Runs the unit through the states of ``table``; see the module docstring."""

    def __init__(self, unit: Observatory, table: StateTable | None = None, *,
                 until: datetime | None = None, until_morning: bool = False,
                 stop: StopRequest | None = None) -> None:
        self.unit = unit
        self.table = table or load_state_table(unit.settings.state_table)
        self.safety = SafetySupervisor(unit)
        self.until = until
        self.until_morning = until_morning
        self.stop = stop or StopRequest()
        self.state = self.table.initial
        self.last_report = SafetyReport()
        self.failure: str | None = None
        """Why the run ended early without being able to make the unit safe."""
        self.refusals: dict[str, _Refusal] = {}
        self._park_failed_since: datetime | None = None
        self._park_retry_s = self.interval_s
        self._instant: datetime | None = None
        self._at_instant = 0
        self._interrupt: tuple[str, str] | None = None
        self._interrupted = asyncio.Event()

    @property
    def clock(self) -> Any:
        return self.unit.clock

    @property
    def interval_s(self) -> float:
        return float(self.unit.settings.safety.check_interval.to_value("s"))

    # ------------------------------------------------------------ running
    async def run(self) -> None:
        """Run until the end of the run; parks and closes when cancelled."""
        self._record(None, self.state, "start of the run")
        try:
            while not self._finished():
                next_state, reason = await self._run_state(self.table[self.state])
                if next_state is None:
                    break
                next_state, reason = self._end_of_run_instead(next_state, reason)
                await self._enter(next_state, reason)
            if self.stop.requested and self.failure is None:
                await self._shut_down(self.stop.reason or "stop requested")
        except asyncio.CancelledError:
            await asyncio.shield(self._shut_down("run cancelled"))
            raise
        finally:
            self._flush_refusals()

    def interrupt(self, target: str, reason: str) -> bool:
        """End the running state now and go to ``target`` (an operator's command);
        False (nothing done) when the table has no such transition from the state."""
        if self.state == target == self.table.on_unsafe or \
                not self.table.allowed(self.state, target):
            return False
        self._interrupt = (target, reason)
        self._interrupted.set()
        return True

    def _take_interrupt(self) -> tuple[str, str] | None:
        wanted, self._interrupt = self._interrupt, None
        self._interrupted.clear()
        return wanted

    def _end_of_run_instead(self, target: str, reason: str) -> tuple[str, str]:
        """Past ``until``, park rather than go on to another working state: states
        shorter than a check interval (frames of a few seconds) never meet the end of
        the run in :meth:`_watch`."""
        on_unsafe = self.table.on_unsafe
        if self.until is None or self.clock.now() < self.until or target in SAFE_TO_END \
                or on_unsafe in (target, self.state) or \
                not self.table.allowed(self.state, on_unsafe):
            return target, reason
        return on_unsafe, "end of the run"

    def _finished(self) -> bool:
        if self.failure is not None:
            return True
        if self.unit.operator.end_night and self.state == "sleeping":
            return True
        if self.stop.requested and self.state in SAFE_TO_END:
            return True
        if self.until_morning and self.state == "sleeping" and self.unit.housekeeping_done:
            return True
        if self.until is not None and self.clock.now() >= self.until:
            return self.state in SAFE_TO_END
        return False

    async def _shut_down(self, reason: str) -> None:
        """Park and close now, whatever state the unit was in."""
        on_unsafe = self.table.on_unsafe
        if self.state in (on_unsafe, *SAFE_TO_END):
            from nocturna.observatory.enclosure import is_closed

            with contextlib.suppress(Exception):
                if await is_closed(self.unit):
                    return
        self._record(self.state, on_unsafe, reason)
        self.state = on_unsafe
        try:
            await self.unit.park_and_close()
            self._record(on_unsafe, "parked", "shut down")
            self.state = "parked"
        except Exception as exc:
            log.error("could not park and close while shutting down: %s", exc)
            self.failure = f"could not park and close: {exc}"

    async def _run_state(self, spec: StateSpec) -> tuple[str | None, str]:
        """Run the handler with the watcher; the next state and why (None: stop)."""
        if self._interrupt is not None and not self.table.allowed(spec.name,
                                                                  self._interrupt[0]):
            self._take_interrupt()  # meant for the state before, which ended meanwhile
        handler = asyncio.ensure_future(self._call(spec))
        watcher = asyncio.ensure_future(self._watch(spec))
        waiting = {handler, watcher}
        stopper = interrupter = None
        if spec.name != self.table.on_unsafe:  # parking always runs to its end
            stopper = asyncio.ensure_future(self.stop.event.wait())
            interrupter = asyncio.ensure_future(self._interrupted.wait())
            waiting |= {stopper, interrupter}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            verdict = None
            if watcher.done() and not watcher.cancelled() and watcher.exception() is None:
                verdict = watcher.result()
            elif stopper is not None and stopper.done() and not handler.done():
                verdict = (None, f"stop: {self.stop.reason}")
            elif interrupter is not None and interrupter.done() and not handler.done():
                verdict = self._take_interrupt()
            if verdict is not None and verdict[0] == self.table.on_unsafe:
                self.unit.begin_park_and_close()  # before anything else finishes
        finally:
            for task in waiting:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
        if verdict is not None:
            return verdict
        if handler.cancelled():
            return self.table.on_unsafe, f"{spec.name} was cancelled"
        if spec.name == self.table.on_unsafe and handler.exception() is None:
            self._park_failed_since = None
            self._park_retry_s = self.interval_s
        error = handler.exception()
        if error is not None:
            return self._after_error(spec, error)
        return handler.result()

    async def _call(self, spec: StateSpec) -> tuple[str, str]:
        result = await spec.on_enter()(self.unit)
        if isinstance(result, tuple):
            return str(result[0]), str(result[1])
        return str(result), ""

    def _after_error(self, spec: StateSpec, error: BaseException) -> tuple[str | None, str]:
        reason = f"error in {spec.name}: {type(error).__name__}: {error}"
        if spec.name == self.table.on_unsafe:
            now = self.clock.now()
            since = self._park_failed_since = self._park_failed_since or now
            trying_s = (now - since).total_seconds()
            log.error("%s (failing for %.0f s, giving up after %.0f s)", reason, trying_s,
                      PARK_GIVE_UP_S)
            if trying_s >= PARK_GIVE_UP_S:
                self.failure = f"the unit cannot be parked and closed: {error}"
                log.critical("%s; ending the run", self.failure)
                return None, self.failure
            return spec.name, reason
        log.error("state %s failed: %s", spec.name, error, exc_info=error)
        if spec.checks:
            return self.table.on_unsafe, reason
        return self.table.transitions[spec.name][0], reason

    async def _watch(self, spec: StateSpec) -> tuple[str | None, str] | None:
        """Return (next, why) when the state must be left; never returns otherwise."""
        while True:
            await self.clock.sleep(self.interval_s)
            if self.until is not None and self.clock.now() >= self.until \
                    and spec.name != self.table.on_unsafe:
                if spec.is_safe_state and spec.name != "ready":
                    return None, "end of the run"
                return self.table.on_unsafe, "end of the run"
            if not spec.checks:
                continue
            report = await self.safety.check(spec, checks=WATCHED)
            self._note(report, [c for c in spec.checks if c in WATCHED])
            if not report.safe:
                self._announce_unsafe(report)
                return self.table.on_unsafe, f"unsafe during {spec.name}: {report}"

    # ------------------------------------------------------------ transitions
    async def _enter(self, target: str, reason: str) -> None:
        await self._guard_spin()
        source = self.state
        target, reason = self._held(source, target, reason)
        if target == source == self.table.on_unsafe:  # a failed park is tried again
            await self.clock.sleep(self._park_retry_s)
            self._park_retry_s = min(PARK_RETRY_MAX_S, 2 * self._park_retry_s)
        if target not in self.table.states or not self.table.allowed(source, target):
            log.error("state %s asked for %r, which the table does not allow", source, target)
            reason = f"{source} asked for {target!r}, not an allowed transition; {reason}"
            target = self.table.on_unsafe if self.table.allowed(source, self.table.on_unsafe) \
                else self.table.transitions[source][0]
        spec = self.table[target]
        await self._back_off(target)
        report = await self.safety.check(spec)
        self._note(report, list(spec.checks))
        if report.safe:
            self.refusals.pop(target, None)
        else:
            refused = target
            if self.table.allowed(source, self.table.on_unsafe):
                target = self.table.on_unsafe
                self._announce_unsafe(report)
            else:
                target = source if self.table.allowed(source, source) \
                    else self.table.transitions[source][0]
            if not self._refused(refused, report, source, target):
                self.state = target
                self.unit.status.state = target
                return
            reason = self._refusal_reason(refused, report)
        if source != target or reason:
            self._record(source, target, reason)
        self.state = target
        self.unit.status.state = target

    def _held(self, source: str, target: str, reason: str) -> tuple[str, str]:
        """Where an operator's hold sends a transition to ``target`` (see the module doc):
        ``paused`` for a pause where the table allows it, else ``parking``, else stay."""
        requests = self.unit.operator
        spec = self.table.states.get(target)
        if requests.hold is None and not requests.end_night:
            return target, reason
        if spec is None or not spec.checks or (target == PAUSED
                                                and not requests.holds_closed):
            return target, reason
        who = requests.held_by or "an operator"
        why = "the night was ended by an operator" if requests.end_night \
            else f"parked by {who}" if requests.hold == PARK else f"paused by {who}"
        why = f"{why}; {reason}" if reason and why not in reason else (reason or why)
        if not requests.holds_closed and self.table.allowed(source, PAUSED):
            return PAUSED, why
        for held in (self.table.on_unsafe, source):
            if self.table.allowed(source, held):
                return held, why
        return target, reason

    async def _guard_spin(self) -> None:
        """Wait a check interval when too many transitions happened at one instant."""
        now = self.clock.now()
        if now != self._instant:
            self._instant, self._at_instant = now, 0
        self._at_instant += 1
        if self._at_instant > SPIN_LIMIT:
            log.error("%d transitions at %s without time passing (last state %s): waiting "
                      "%g s", self._at_instant, f"{now:%H:%M:%S}Z", self.state, self.interval_s)
            await self.clock.sleep(self.interval_s)

    async def _back_off(self, target: str) -> None:
        """Wait until one check interval has passed since ``target`` was last refused."""
        refusal = self.refusals.get(target)
        if refusal is None:
            return
        wait = self.interval_s - (self.clock.now() - refusal.last_try).total_seconds()
        if wait > 0:
            await self.clock.sleep(wait)

    def _refused(self, target: str, report: SafetyReport, source: str, fallback: str) -> bool:
        """Count a refusal; whether to record it (new, changed, or due for a reminder)."""
        now, why = self.clock.now(), str(report)
        refusal = self.refusals.get(target)
        self.unit.nightlog.refused(target, report.reasons)
        if refusal is None or refusal.why != why:
            self.refusals[target] = _Refusal(target, why, now, now, recorded_at=now)
            log.warning("%s → %s refused: %s", source, target, why)
            return True
        refusal.count += 1
        refusal.last_try = now
        assert refusal.recorded_at is not None
        if (now - refusal.recorded_at).total_seconds() >= REPEAT_REPORT_S \
                or source != fallback:
            log.warning("%s → %s refused %d times since %s: %s", source, target, refusal.count,
                        f"{refusal.first:%H:%M:%S}Z", why)
            refusal.recorded_at = now
            refusal.unrecorded = 0
            return True
        refusal.unrecorded += 1
        return False

    def _refusal_reason(self, target: str, report: SafetyReport) -> str:
        refusal = self.refusals[target]
        repeats = f" (refused {refusal.count} times since {refusal.first:%H:%M:%S}Z)" \
            if refusal.count > 1 else ""
        return f"not safe to enter {target}: {report}{repeats}"

    def _flush_refusals(self) -> None:
        for refusal in self.refusals.values():
            if refusal.unrecorded:
                log.info("%s was refused %d times in all since %s: %s", refusal.target,
                         refusal.count, f"{refusal.first:%H:%M:%S}Z", refusal.why)

    def _note(self, report: SafetyReport, ran: list[str]) -> None:
        """Keep the latest verdict (of the checks that ``ran``) for the status and the
        night log."""
        unit = self.unit
        self.last_report = report
        unit.note_safety(report.safe, report.reasons,
                         {name: report.failures.get(name, []) for name in ran})
        if report.weather_unsafe:
            unit.nightlog.unsafe(self.clock.now(), report.failures["weather"])

    def _announce_unsafe(self, report: SafetyReport) -> None:
        """``unit.unsafe``: the unit parks for a safety reason (the Sun rising or setting
        is routine, not one)."""
        reasons = [reason for check, reasons in report.failures.items() if check != "sun"
                   for reason in reasons]
        if reasons:
            self.unit.publish("unsafe", reasons=reasons)

    def _record(self, source: str | None, target: str, reason: str) -> None:
        unit = self.unit
        now = self.clock.now()
        unit.nightlog.transitions += 1
        if source != target:
            unit.status.progress = None
        unit.status.state, unit.status.reason, unit.status.since = target, reason, now
        log.info("%s → %s: %s", source, target, reason)
        try:
            unit.storage.add_transition(source, target, reason, time=now)
        except Exception as exc:  # recording must never stop the night
            log.error("could not record the transition %s → %s: %s", source, target, exc)
        unit.publish("state", from_state=source, to_state=target, reason=reason)
