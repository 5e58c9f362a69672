"""Summary states, their allowed steps, state changes and the errors of components."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from nocturna.core.errors import (
    ActionNotImplementedError,
    DeviceTimeoutError,
    InvalidOperationError,
    InvalidValueError,
    InvalidWhileParkedError,
    InvalidWhileSlavedError,
    NocturnaError,
    NotImplementedByDeviceError,
    NotSafeError,
    OperationCancelledError,
    ValueNotSetError,
)


class SummaryState(StrEnum):
    """How far a component is under control (see the module docstring)."""

    OFFLINE = "offline"
    STANDBY = "standby"
    DISABLED = "disabled"
    ENABLED = "enabled"
    FAULT = "fault"


OFFLINE, STANDBY, DISABLED, ENABLED, FAULT = (
    SummaryState.OFFLINE, SummaryState.STANDBY, SummaryState.DISABLED, SummaryState.ENABLED,
    SummaryState.FAULT,
)
LADDER = (OFFLINE, STANDBY, DISABLED, ENABLED)
CONNECTED = frozenset({DISABLED, ENABLED})

TRANSITIONS: Mapping[SummaryState, frozenset[SummaryState]] = {
    OFFLINE: frozenset({STANDBY, FAULT}),
    STANDBY: frozenset({OFFLINE, DISABLED, FAULT}),
    DISABLED: frozenset({STANDBY, ENABLED, FAULT}),
    ENABLED: frozenset({DISABLED, FAULT}),
    FAULT: frozenset({STANDBY}),
}
"""The allowed single steps (FAULT is entered only through :meth:`Component.fault`)."""

USER_ERRORS: tuple[type[Exception], ...] = (
    InvalidValueError,
    InvalidOperationError,
    NotImplementedByDeviceError,
    ActionNotImplementedError,
    OperationCancelledError,
    ValueNotSetError,
    InvalidWhileParkedError,
    InvalidWhileSlavedError,
    NotSafeError,
)
"""Errors that say the request was wrong or untimely, not that the device failed."""

def parse_state(value: SummaryState | str) -> SummaryState:
    """A summary state from itself or its name in any case (``"enabled"``, ``"ENABLED"``)."""
    if isinstance(value, SummaryState):
        return value
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return SummaryState(value.strip().lower())
    names = ", ".join(state.name for state in SummaryState)
    raise InvalidValueError(f"{value!r} is not a summary state (one of {names})")


def is_device_failure(error: BaseException) -> bool:
    """Whether ``error`` means the device failed (rather than the request being refused)."""
    return isinstance(error, Exception) and not isinstance(error, USER_ERRORS)


def describe_error(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def is_finite_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def state_names(states: Iterable[SummaryState]) -> str:
    order = {state: index for index, state in enumerate((*LADDER, FAULT))}
    return ", ".join(state.name for state in sorted(states, key=order.__getitem__))


@dataclass(frozen=True, slots=True)
class StateChange:
    """One summary-state change of a component, as given to ``on_change`` callbacks."""

    component: str
    previous: SummaryState
    state: SummaryState
    reason: str
    time: datetime
    kind: str = "component"
    """The component's kind (``"focuser"``, ``"instrument"``...)."""


ChangeCallback = Callable[[StateChange], Awaitable[None] | None]


class ComponentStateError(NocturnaError):
    """One or more components of a group could not be brought to the requested state."""

    def __init__(self, message: str, failures: Mapping[str, BaseException]) -> None:
        super().__init__(message)
        self.failures = dict(failures)


class LivelinessError(DeviceTimeoutError):
    """One or more components have not sent a heartbeat recently enough."""
