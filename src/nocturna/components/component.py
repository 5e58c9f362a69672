"""Components: devices (and the instrument) as units with a summary state and a heartbeat.

Every device runs under a :class:`Component` that says how far it is under control:

========  ====================================================================
OFFLINE   not under control (where every component starts)
STANDBY   under control, not connected to its hardware
DISABLED  connected, its state can be read, but commands that act are refused
ENABLED   fully commandable
FAULT     something failed; ``standby`` (or recovery, below) leaves it
========  ====================================================================

Single steps go OFFLINE ↔ STANDBY ↔ DISABLED ↔ ENABLED, anything → FAULT (only
through :meth:`Component.fault`), and FAULT → STANDBY. :meth:`Component.set_state`
walks the steps in between (STANDBY → ENABLED goes through DISABLED and connects on
the way). A component that is not ENABLED refuses device commands that act, through
the device's gate (see :mod:`nocturna.devices.base`); reads (``state()``, ``info()``
and members declared ``read_only``) work while DISABLED.

While a component is not OFFLINE it sends a heartbeat every
``heartbeat_interval_s`` seconds of its clock. In DISABLED and ENABLED a heartbeat
needs the liveliness probe to succeed (for a device: ``state()`` answering within
``probe_timeout_s`` *real* seconds, since a hung driver does not move a simulated
clock); in STANDBY and FAULT it only shows that the component itself is alive.
``fault_after`` consecutive failed probes, or ``fault_after`` consecutive device
commands failing for a reason that is the device's (a timeout, a lost connection, an
I/O error, an unexpected exception; not a refused value or an invalid operation),
put the component in FAULT with a reason that says what happened.

Recovery from FAULT is opt-in: a component given a :class:`RecoveryPolicy` that
faulted while DISABLED or ENABLED tries to come back by itself, in its heartbeat
task. ``first_retry_s`` clock seconds after the fault, then after waits growing
``factor`` (2) times up to ``max_retry_s``, an attempt walks FAULT → STANDBY →
DISABLED (→ ENABLED if it was ENABLED) through the usual transitions (a device
disconnects, connects again) and needs one successful liveliness probe to count as
recovered; success resets the wait. A failed attempt puts it back in FAULT ("recovery
attempt 3 failed: …"). Each step is a ``component.state`` event ("recovery attempt
2: reconnecting"), success a ``component.recovered`` event. The first fault is logged
at ERROR, failed attempts only as a WARNING summary every ``log_every`` attempts. An
explicit :meth:`Component.set_state` (also :meth:`~Component.standby`) or
:meth:`Component.close` cancels recovery, pending or under way; a component that
faulted from OFFLINE or STANDBY (e.g. a failed connect) is not recovered. Without a
policy, FAULT stays until someone calls ``standby``.

:class:`ComponentGroup` drives several components together: enable, standby,
offline, liveliness and state assertions, software versions, simulation modes.
"""


from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from nocturna.components.heartbeat import Heartbeating
from nocturna.components.recovering import Recovering
from nocturna.components.recovery import RecoveryPolicy
from nocturna.components.states import (
    DISABLED,
    ENABLED,
    FAULT,
    LADDER,
    OFFLINE,
    STANDBY,
    TRANSITIONS,
    ChangeCallback,
    StateChange,
    SummaryState,
    describe_error,
    parse_state,
    state_names,
)
from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
)
from nocturna.core.events import EventBus, get_event_bus

log = logging.getLogger(__name__)


class Component(Recovering, Heartbeating):
    """Something under control with a summary state and a heartbeat.

    Subclasses fill in two hooks: :meth:`_on_enter` (work needed to enter a state,
    e.g. connect) and :meth:`_probe` (the liveliness check of DISABLED and ENABLED).
    """

    kind: str = "component"
    probe_description: str = "its liveliness probe"
    """How the probe is named in fault reasons (a device component: ``state()``)."""

    def __init__(
        self,
        name: str,
        *,
        clock: Clock | None = None,
        events: EventBus | None = None,
        heartbeat_interval_s: float = 1.0,
        probe_timeout_s: float = 2.0,
        fault_after: int = 3,
        software_version: str = "",
        simulation_mode: bool = False,
        on_change: ChangeCallback | Iterable[ChangeCallback] | None = None,
        recovery: RecoveryPolicy | None = None,
    ) -> None:
        if recovery is not None and not isinstance(recovery, RecoveryPolicy):
            raise InvalidValueError(f"{name}: recovery must be a RecoveryPolicy or None, "
                                    f"got {recovery!r}")
        if not name or not isinstance(name, str):
            raise InvalidValueError(f"a component needs a non-empty name, got {name!r}")
        if not heartbeat_interval_s > 0:
            raise InvalidValueError(
                f"{name}: heartbeat_interval_s must be > 0, got {heartbeat_interval_s!r}")
        if not probe_timeout_s > 0:
            raise InvalidValueError(f"{name}: probe_timeout_s must be > 0, got {probe_timeout_s!r}")
        if isinstance(fault_after, bool) or not isinstance(fault_after, int) or fault_after < 1:
            raise InvalidValueError(f"{name}: fault_after must be a whole number >= 1, "
                                    f"got {fault_after!r}")
        self.name = name
        self.heartbeat_interval_s = float(heartbeat_interval_s)
        self.probe_timeout_s = float(probe_timeout_s)
        self.fault_after = fault_after
        self.software_version = software_version
        self.simulation_mode = bool(simulation_mode)
        self._clock = clock
        self._events = events
        self._state = OFFLINE
        self.previous_state: SummaryState | None = None
        self.fault_reason: str | None = None
        self.last_heartbeat: datetime | None = None
        self.heartbeat_count = 0
        self.probe_failures = 0
        """Consecutive failed liveliness probes (reset by a success or a state change)."""
        self.command_failures = 0
        """Consecutive device commands that failed (reset by a success or a state change)."""
        self.last_failure: str | None = None
        """What the latest failed probe or command did, for diagnostics."""
        self.recovery = recovery
        """How to recover from FAULT by itself (None: only ``standby`` leaves FAULT)."""
        self.recovery_attempts = 0
        """Recovery attempts since the latest fault (0 when no recovery is under way)."""
        self.next_recovery: datetime | None = None
        """Clock time of the next recovery attempt (None when none is planned)."""
        self._recover_to: SummaryState | None = None  # the state it faulted from, to return to
        self._attempt: int | None = None  # the number of the attempt under way
        self._series = 0  # bumped by every cancel: an attempt under way then stops
        self._epoch = 0  # counts state changes: a probe result from an older state is void
        self._lock = asyncio.Lock()
        self._callbacks: list[ChangeCallback] = []
        if callable(on_change):
            self._callbacks.append(on_change)
        elif on_change is not None:
            self._callbacks.extend(on_change)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._waiters: set[asyncio.Future[datetime]] = set()
        self._closed = False

    # ------------------------------------------------------------ plumbing
    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    @property
    def events(self) -> EventBus:
        return self._events if self._events is not None else get_event_bus()

    @property
    def label(self) -> str:
        """How messages name this component, e.g. ``camera 'cam0'``."""
        return f"{self.kind} {self.name!r}"

    @property
    def state(self) -> SummaryState:
        return self._state

    @property
    def closed(self) -> bool:
        return self._closed

    def heartbeat_age_s(self) -> float | None:
        """Clock seconds since the last heartbeat (None if there was none)."""
        if self.last_heartbeat is None:
            return None
        return (self.clock.now() - self.last_heartbeat).total_seconds()

    def allowed_next(self) -> list[SummaryState]:
        """The states :meth:`set_state` may step to from here (FAULT only via fault())."""
        return [state for state in (*LADDER, FAULT)
                if state in TRANSITIONS[self._state] and state is not FAULT]

    def require_enabled(self, what: str) -> None:
        """Refuse ``what`` (a command, a sequence) with :class:`InvalidOperationError`
        unless ENABLED; usable as a gate by anything this component controls."""
        state = self._state
        if state is ENABLED:
            return
        if state is FAULT:
            raise InvalidOperationError(
                f"{self.label} is FAULT ({self.fault_reason}): {what} refused; put it in "
                f"STANDBY, then enable it (commands need ENABLED)")
        raise InvalidOperationError(
            f"{self.label} is {state.name}: enable it first (commands need ENABLED; "
            f"{what} refused)")

    def add_on_change(self, callback: ChangeCallback) -> None:
        """Call ``callback(change)`` (sync or async) after every state change."""
        self._callbacks.append(callback)

    # --------------------------------------------------------------- hooks
    async def _on_enter(self, state: SummaryState) -> None:
        """Work needed to enter ``state``; ``self.state`` is still the state being left.

        For FAULT it runs just after the change (a fault takes effect at once), its
        errors are logged. Entering STANDBY from FAULT, errors are logged too; any
        other error puts the component in FAULT and is raised.
        """

    async def _probe(self) -> None:
        """Liveliness check in DISABLED and ENABLED; raise (or hang) when not alive."""

    def _transition_action(self, previous: SummaryState, state: SummaryState) -> str:
        """How a fault reason names the work of ``previous`` → ``state``."""
        return f"going from {previous.name} to {state.name}"

    # --------------------------------------------------------- transitions
    def _refusal(self, target: SummaryState, why: str) -> InvalidOperationError:
        current = self._state
        fault = f" ({self.fault_reason})" if current is FAULT and self.fault_reason else ""
        return InvalidOperationError(
            f"{self.label} cannot go from {current.name}{fault} to {target.name}: {why}; "
            f"allowed next from {current.name}: {state_names(self.allowed_next())}")

    def _next_step(self, target: SummaryState) -> SummaryState:
        current = self._state
        if current is FAULT:
            if target is STANDBY:
                return STANDBY
            raise self._refusal(target, "a FAULT is left only through STANDBY "
                                        "(put it in STANDBY first)")
        here, there = LADDER.index(current), LADDER.index(target)
        return LADDER[here + (1 if there > here else -1)]

    def _accepts(self, target: SummaryState) -> bool:
        """Whether a walk to ``target`` can start from the current state."""
        if self._state is target:
            return True
        try:
            self._next_step(target)
        except InvalidOperationError:
            return False
        return True

    async def set_state(self, target: SummaryState | str, *, reason: str = "") -> None:
        """Walk step by step to ``target`` (see the module docstring).

        Refused with :class:`InvalidOperationError` when no allowed path leads there
        (FAULT → anything but STANDBY; → FAULT, which only :meth:`fault` enters). A
        request that is not refused cancels recovery from FAULT, pending or under way.
        """
        target = parse_state(target)
        if target is FAULT:
            raise self._refusal(target, "only fault(reason) puts a component in FAULT")
        if self._accepts(target):  # a request that will be refused leaves recovery alone
            self._cancel_recovery(f"{target.name} was requested")
        async with self._lock:
            while self._state is not target:
                await self._step(self._next_step(target), reason)

    async def enable(self, *, reason: str = "") -> None:
        await self.set_state(ENABLED, reason=reason)

    async def disable(self, *, reason: str = "") -> None:
        await self.set_state(DISABLED, reason=reason)

    async def standby(self, *, reason: str = "") -> None:
        await self.set_state(STANDBY, reason=reason)

    async def offline(self, *, reason: str = "") -> None:
        await self.set_state(OFFLINE, reason=reason)

    async def _step(self, state: SummaryState, reason: str) -> None:
        previous = self._state
        try:
            await self._on_enter(state)
        except Exception as exc:
            if previous is FAULT:
                log.log(self._recovery_level(logging.WARNING),
                        "error while leaving FAULT (ignored): %s", describe_error(exc),
                        extra={"component": self.name, "to": state.value})
            else:
                await self.fault(f"{self.label}: {self._transition_action(previous, state)} "
                                 f"failed: {describe_error(exc)}")
                raise
        if self._state is not previous:  # went to FAULT meanwhile (heartbeat, command)
            raise self._refusal(state, "it changed state during the transition")
        await self._change(state, reason)

    async def fault(self, reason: str) -> None:
        """Go to FAULT at once (a no-op if already there: the first reason is kept).

        During a recovery attempt the reason is prefixed "recovery attempt N failed: ".
        """
        if not reason or not isinstance(reason, str):
            raise InvalidValueError(f"{self.label}: a fault needs a reason, got {reason!r}")
        if self._attempt is not None:
            reason = f"recovery attempt {self._attempt} failed: {reason}"
        if self._state is FAULT:
            log.info("already in FAULT", extra={"component": self.name, "reason": reason})
            return
        await self._change(FAULT, reason)
        try:
            await self._on_enter(FAULT)
        except Exception:
            log.exception("error while entering FAULT (ignored)",
                          extra={"component": self.name})

    async def _change(self, state: SummaryState, reason: str) -> None:
        previous = self._state
        self._state = state
        self.previous_state = previous
        self._epoch += 1
        self.probe_failures = self.command_failures = 0
        self.fault_reason = reason if state is FAULT else None
        now = self.clock.now()
        if state is FAULT:
            self._plan_recovery(previous, now)
        elif self._attempt is None:  # left FAULT (or never was) other than by recovery
            self._forget_recovery()
        level = logging.ERROR if state is FAULT else logging.INFO
        if self._attempt is not None:  # a step of recovery: the first attempt at INFO
            level = logging.INFO if self._attempt == 1 else logging.DEBUG
        log.log(level, "%s: %s -> %s%s", self.label, previous.name, state.name,
                f" ({reason})" if reason else "",
                extra={"component": self.name, "from": previous.value, "to": state.value,
                       "reason": reason})
        if state is FAULT:
            self._report_recovery_plan()
        self.events.publish("component.state", self.name, time=now,
                            **{"from": previous, "to": state, "reason": reason})
        if state is not OFFLINE and not self._closed:
            self._ensure_heartbeat()
        self._wake.set()
        change = StateChange(self.name, previous, state, reason, now, self.kind)
        for callback in list(self._callbacks):
            try:
                result = callback(change)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("state-change callback failed", extra={"component": self.name})

    # ------------------------------------------------------------- summary
    def summary(self) -> dict[str, Any]:
        """One row for a table: name, kind, state, fault, heartbeat, version, simulation,
        recovery (attempts since the fault, clock time of the next one or None)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "state": self._state.value,
            "fault_reason": self.fault_reason,
            "last_heartbeat": self.last_heartbeat,
            "heartbeat_age_s": self.heartbeat_age_s(),
            "heartbeat_count": self.heartbeat_count,
            "software_version": self.software_version,
            "simulation_mode": self.simulation_mode,
            "recovery_attempts": self.recovery_attempts,
            "next_recovery": self.next_recovery,
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self._state.name}>"

