"""The night's state machine.

:class:`StateMachine` runs one state at a time: the state's handler (``on_enter(unit)``)
does its work and names the next state. Around every handler a watcher re-checks, every
``observatory.safety.check_interval`` clock seconds, the state's weather, Sun and
component checks; when one fails the handler is cancelled (an exposure in progress is
aborted, frames already taken are still written) and the unit goes to the table's
``on_unsafe`` state (parking). Before entering any state all its checks run; a state
that is not safe is not entered, the unit parks instead.

Every transition is recorded in storage with its reason and announced as a
``unit.state`` event. A handler error in a state with checks parks the unit; in a
safe state it goes to that state's first listed next state.

The run ends at ``until`` (the unit first parks and closes if it is not already) or,
with ``until_morning``, when the unit goes to sleep after the morning housekeeping.
Cancelling :meth:`StateMachine.run` (Ctrl-C) parks and closes before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from nocturna.states.safety import SafetyReport, SafetySupervisor
from nocturna.states.table import StateSpec, StateTable, load_state_table

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

WATCHED = ("weather", "sun", "components")
"""The checks that hold while a state runs (dome and disk are checked on entry)."""


class StateMachine:
    """Runs the unit through the states of ``table``; see the module docstring."""

    def __init__(self, unit: Observatory, table: StateTable | None = None, *,
                 until: datetime | None = None, until_morning: bool = False) -> None:
        self.unit = unit
        self.table = table or load_state_table(unit.settings.state_table)
        self.safety = SafetySupervisor(unit)
        self.until = until
        self.until_morning = until_morning
        self.state = self.table.initial
        self.last_report = SafetyReport()
        self._ending = False

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
                await self._enter(next_state, reason)
        except asyncio.CancelledError:
            await asyncio.shield(self._shut_down("run cancelled (Ctrl-C or stop)"))
            raise

    def _finished(self) -> bool:
        if self.until_morning and self.state == "sleeping" and self.unit.housekeeping_done:
            return True
        if self.until is not None and self.clock.now() >= self.until:
            return self.state in ("sleeping", "parked", "housekeeping")
        return False

    async def _shut_down(self, reason: str) -> None:
        """Park and close now, whatever state the unit was in."""
        on_unsafe = self.table.on_unsafe
        if self.state in (on_unsafe, "parked", "sleeping", "housekeeping"):
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

    async def _run_state(self, spec: StateSpec) -> tuple[str | None, str]:
        """Run the handler with the watcher; the next state and why (None: stop)."""
        handler = asyncio.ensure_future(self._call(spec))
        watcher = asyncio.ensure_future(self._watch(spec))
        try:
            await asyncio.wait({handler, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (handler, watcher):
                if not task.done():
                    task.cancel()
            await asyncio.gather(handler, watcher, return_exceptions=True)
        if watcher.done() and not watcher.cancelled() and watcher.exception() is None \
                and watcher.result() is not None:
            return watcher.result()
        if handler.cancelled():
            return self.table.on_unsafe, f"{spec.name} was cancelled"
        error = handler.exception()
        if error is not None:
            return self._after_error(spec, error)
        return handler.result()

    async def _call(self, spec: StateSpec) -> tuple[str, str]:
        result = await spec.on_enter()(self.unit)
        if isinstance(result, tuple):
            return str(result[0]), str(result[1])
        return str(result), ""

    def _after_error(self, spec: StateSpec, error: BaseException) -> tuple[str, str]:
        log.error("state %s failed: %s", spec.name, error, exc_info=error)
        reason = f"error in {spec.name}: {type(error).__name__}: {error}"
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
            self._note(report)
            if not report.safe:
                return self.table.on_unsafe, f"unsafe during {spec.name}: {report}"

    # ------------------------------------------------------------ transitions
    async def _enter(self, target: str, reason: str) -> None:
        source = self.state
        if target not in self.table.states or not self.table.allowed(source, target):
            log.error("state %s asked for %r, which the table does not allow", source, target)
            reason = f"{source} asked for {target!r}, not an allowed transition; {reason}"
            target = self.table.on_unsafe if self.table.allowed(source, self.table.on_unsafe) \
                else self.table.transitions[source][0]
        spec = self.table[target]
        report = await self.safety.check(spec)
        self._note(report)
        if not report.safe:
            refused = target
            reason = f"not safe to enter {refused}: {report}"
            if self.table.allowed(source, self.table.on_unsafe):
                target = self.table.on_unsafe
            else:
                target = source if self.table.allowed(source, source) \
                    else self.table.transitions[source][0]
        if source != target or reason:
            self._record(source, target, reason)
        self.state = target
        self.unit.status.state = target

    def _note(self, report: SafetyReport) -> None:
        """Keep the latest verdict for the status line and the night log."""
        unit = self.unit
        self.last_report = report
        weather_bad = report.weather_unsafe
        unit.status.safe = report.safe
        unit.status.reasons = report.reasons
        if weather_bad:
            unit.nightlog.unsafe(self.clock.now(), report.failures["weather"])

    def _record(self, source: str | None, target: str, reason: str) -> None:
        unit = self.unit
        now = self.clock.now()
        unit.nightlog.transitions += 1
        unit.status.state = target
        log.info("%s → %s: %s", source, target, reason)
        try:
            unit.storage.add_transition(source, target, reason, time=now)
        except Exception as exc:  # recording must never stop the night
            log.error("could not record the transition %s → %s: %s", source, target, exc)
        unit.publish("state", from_state=source, to_state=target, reason=reason)
