"""Coming back from FAULT by itself: the recovery attempts of a component (a mixin of
:class:`~nocturna.components.component.Component`, which holds the state it uses)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from nocturna.components.recovery import DUE_SLACK_S, RECOVERY_STEPS, RecoveryPolicy
from nocturna.components.states import (
    CONNECTED,
    FAULT,
    LADDER,
    SummaryState,
    describe_error,
)

log = logging.getLogger("nocturna.components.component")


class Recovering:
    """Recovery attempts out of FAULT under a :class:`RecoveryPolicy` (see the module
    docstring of :mod:`nocturna.components.component`)."""

    recovery: RecoveryPolicy | None
    recovery_attempts: int
    next_recovery: datetime | None
    def _plan_recovery(self, previous: SummaryState, now: datetime) -> None:
        """On entering FAULT: plan the next recovery attempt, if there is to be one."""
        if self.recovery is None or self._closed:
            return
        if self._attempt is None:  # a new fault: remember what to come back to
            self._forget_recovery()
            if previous not in CONNECTED:
                return  # faulted from OFFLINE or STANDBY: nothing to come back to
            self._recover_to = previous
        elif self._recover_to is None:
            return  # cancelled while the attempt was under way
        delay = self.recovery.delay_s(self.recovery_attempts)
        self.next_recovery = now + timedelta(seconds=delay)

    def _report_recovery_plan(self) -> None:
        """After entering FAULT: log the first planned attempt (INFO), or summarise a
        repeating FAULT every ``log_every`` failed attempts (WARNING), never every time."""
        policy, attempts, due = self.recovery, self.recovery_attempts, self.next_recovery
        wait = ("no further attempt" if due is None else
                f"next in {(due - self.clock.now()).total_seconds():g} s")
        if self._attempt is None:
            if due is not None:
                log.info("%s: recovery from FAULT planned, %s", self.label, wait,
                         extra={"component": self.name, "next_recovery": due})
            return
        if policy is None or attempts % policy.log_every:
            return
        log.warning("%s still in FAULT after %d recovery attempts (%s; %s)", self.label,
                    attempts, self.fault_reason, wait,
                    extra={"component": self.name, "attempts": attempts})

    def _forget_recovery(self) -> None:
        self._recover_to = None
        self.next_recovery = None
        self.recovery_attempts = 0

    def _cancel_recovery(self, why: str) -> None:
        """Stop recovery, pending or under way (an explicit request decides instead)."""
        if self._recover_to is None and self._attempt is None:
            return
        self._series += 1
        self._attempt = None
        self._forget_recovery()
        log.info("%s: recovery from FAULT cancelled (%s)", self.label, why,
                 extra={"component": self.name})

    def _recovery_level(self, level: int) -> int:
        """``level`` for messages of the first recovery attempt (or none), DEBUG after."""
        return logging.DEBUG if self._attempt is not None and self._attempt > 1 else level

    def _recovery_due(self) -> bool:
        due = self.next_recovery
        return (due is not None and self._state is FAULT and not self._closed
                and (due - self.clock.now()).total_seconds() <= DUE_SLACK_S)

    async def _recover(self) -> None:
        """One recovery attempt: walk back to the state before the fault, then probe once."""
        target, series = self._recover_to, self._series
        self.next_recovery = None
        if target is None or self._state is not FAULT:
            return
        self.recovery_attempts += 1
        attempt = self._attempt = self.recovery_attempts
        try:
            async with self._lock:
                for state, doing in RECOVERY_STEPS:
                    if self._series != series:
                        return  # cancelled: an explicit request decides now
                    if LADDER.index(state) > LADDER.index(target):
                        break
                    await self._step(state, f"recovery attempt {attempt}: {doing}")
                if self._series != series:
                    return
                epoch = self._epoch
                failure = await self._probe_once()
                if self._series != series or epoch != self._epoch:
                    return
                if failure is not None:
                    await self.fault(f"{self.label} {failure}")
                    return
                self._recovered(attempt)
        except Exception as exc:
            if self._series == series and self._state is not FAULT:
                await self.fault(f"{self.label}: {describe_error(exc)}")
            # else: the failed step has put it in FAULT already, with its reason
        finally:
            if self._attempt == attempt:
                self._attempt = None

    def _recovered(self, attempt: int) -> None:
        self.probe_failures = 0
        self._record_heartbeat()
        self._forget_recovery()
        now = self.clock.now()
        log.warning("%s recovered from FAULT: %s again after %d recovery attempt%s",
                    self.label, self._state.name, attempt, "" if attempt == 1 else "s",
                    extra={"component": self.name, "attempts": attempt})
        self.events.publish("component.recovered", self.name, time=now, state=self._state,
                            attempts=attempt)
