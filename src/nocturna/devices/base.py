"""What every device kind shares: connection, identity, timeouts, snapshots, events.

An interface (``Camera``, ``Mount``...) declares its members as async methods marked
with :func:`command`. Whenever a driver class (simulator, Alpaca client, serial...)
defines one of those members, :class:`Device` wraps it so that every call

* refuses to run while the device is disconnected (:class:`NotConnectedError`),
  except the members declared with ``connected=False``;
* is bounded by a timeout in real seconds (:class:`DeviceTimeoutError`), the
  device's ``timeout_s`` unless the member declares its own;
* passes the device's optional ``gate`` first, unless the member only reads
  (``read_only=True``, and ``info``/``state`` always) or works while disconnected:
  ``gate(device, member)`` raises to refuse the call (a component that is not
  ENABLED refuses everything that acts, see :mod:`nocturna.components`);
* awaits the device's optional ``fault`` hook, ``await fault(device, member)``, after
  the connected check and inside the timeout, for every member (read-only ones too;
  :meth:`Device.connect` and :meth:`Device.disconnect` also meet it, bounded by the
  device's timeout): injected faults of a simulated device
  (:mod:`nocturna.devices.sim.faults`) hang there (the call then times out), raise
  (a lost link, a driver error) or return. While ``fault.link_down(device)`` is true
  the device reads disconnected;
* reports how it ended to the device's optional ``outcome(device, member, error)``
  callback (``error`` is None on success; cancellation is not reported; members
  declared with ``connected=False`` are not reported either).

A member called from inside another member of the same device (a driver override
calling ``super()``) is neither gated, faulted nor reported again: the outer call is.

Drivers therefore cannot forget any of these. Long operations (slews, exposures, moves)
follow ASCOM: the call starts them and returns; the state snapshot shows progress;
:meth:`Device.wait_until` waits (on the nocturna clock) for a condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import (
    ActionNotImplementedError,
    DeviceTimeoutError,
    InvalidValueError,
    NotConnectedError,
    NotImplementedByDeviceError,
)
from nocturna.core.events import EventBus, get_event_bus

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

Gate = Callable[["Device", str], None]
"""``gate(device, member)``: raise to refuse a command that acts."""
Outcome = Callable[["Device", str, "Exception | None"], "Awaitable[None] | None"]
"""``outcome(device, member, error)``: how a command ended (None: it succeeded)."""


class FaultHook(Protocol):
    """Injected faults of one device (see the module docstring)."""

    async def __call__(self, device: Device, member: str) -> None:
        """Before ``member`` runs: hang, raise, or return to let it run."""

    def link_down(self, device: Device) -> bool:
        """Whether the device's link is down now (it then reads disconnected)."""


_SPEC = "__nocturna_command__"
_GUARDED = "__nocturna_guarded__"
_READ_ONLY_MEMBERS = frozenset({"info", "state"})
"""Members that only read, whatever their declaration says (re-declarations in an
interface may omit ``read_only``, and the first declaration in the MRO wins)."""
_ACTIVE: ContextVar[frozenset[int]] = ContextVar("nocturna_active_devices", default=frozenset())
_SAFETY: ContextVar[bool] = ContextVar("nocturna_safety_override", default=False)
"""True while making the unit safe: gates do not refuse (see :func:`safety_override`)."""


@contextlib.contextmanager
def safety_override() -> Iterator[None]:
    """Inside this block, device gates do not refuse commands: parking and closing are
    tried on the hardware even when a component is FAULT or DISABLED (safety outranks
    the bookkeeping of control; a device that really is gone still fails on its own)."""
    token = _SAFETY.set(True)
    try:
        yield
    finally:
        _SAFETY.reset(token)
"""Devices (by id) with a member running in this context: a member that calls another
(an override calling ``super()``) is gated and reported once, by the outermost call."""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    timeout_s: float | None
    connected: bool
    read_only: bool = False


def command(func: F | None = None, *, timeout_s: float | None = None,
            connected: bool = True, read_only: bool = False) -> Any:
    """Declare an interface member (see the module docstring).

    ``read_only`` marks a member that only reads (no motion, no setting, no
    exposure): it passes a device's gate, so it works while a component is DISABLED.
    """

    def mark(target: F) -> F:
        setattr(target, _SPEC, CommandSpec(timeout_s, connected, read_only))
        return target

    return mark(func) if func is not None else mark


def _spec_for(cls: type, name: str) -> CommandSpec | None:
    for base in cls.__mro__:
        member = vars(base).get(name)
        spec = getattr(member, _SPEC, None)
        if spec is not None:
            return spec
    return None


def _guard(func: Callable[..., Awaitable[Any]], name: str, spec: CommandSpec) -> Any:
    gated = spec.connected and not (spec.read_only or name in _READ_ONLY_MEMBERS)

    async def run(self: Device, args: tuple[Any, ...], kwargs: dict[str, Any],
                  outermost: bool = True) -> Any:
        if spec.connected and not self.connected:
            raise NotConnectedError(f"{self.kind} {self.name!r} is not connected ({name})")
        timeout = spec.timeout_s if spec.timeout_s is not None else self.timeout_s
        try:
            async with asyncio.timeout(timeout):
                if outermost and self.fault is not None:
                    await self.fault(self, name)
                return await func(self, *args, **kwargs)
        except TimeoutError as exc:
            if isinstance(exc, DeviceTimeoutError):
                raise
            raise _timed_out(self, name, timeout) from None

    @functools.wraps(func)
    async def guarded(self: Device, *args: Any, **kwargs: Any) -> Any:
        outer = _ACTIVE.get()
        if id(self) in outer:  # called by another member of this device: that one reports
            return await run(self, args, kwargs, outermost=False)
        if gated and self.gate is not None and not _SAFETY.get():
            self.gate(self, name)
        token = _ACTIVE.set(outer | {id(self)})
        error: Exception | None = None
        try:
            result = await run(self, args, kwargs)
        except Exception as exc:
            error = exc
        finally:
            _ACTIVE.reset(token)
        if spec.connected:
            await _report(self, name, error)
        if error is not None:
            raise error
        return result

    setattr(guarded, _GUARDED, True)
    setattr(guarded, _SPEC, spec)
    return guarded


def _timed_out(device: Device, name: str, timeout: float) -> DeviceTimeoutError:
    return DeviceTimeoutError(
        f"{device.kind} {device.name!r}: {name} did not finish within {timeout:g} s")


async def _connection_fault(device: Device, name: str) -> None:
    """The fault hook for :meth:`Device.connect`/:meth:`Device.disconnect`, which no guard
    wraps: bounded by the device's timeout, and skipped inside a guarded call of the
    device (an override calling ``super()``: that call met the hook)."""
    if device.fault is None or id(device) in _ACTIVE.get():
        return
    try:
        async with asyncio.timeout(device.timeout_s):
            await device.fault(device, name)
    except TimeoutError as exc:
        if isinstance(exc, DeviceTimeoutError):
            raise
        raise _timed_out(device, name, device.timeout_s) from None


async def _report(device: Device, name: str, error: Exception | None) -> None:
    """Tell ``device.outcome`` how a command ended; its own errors are logged, not raised."""
    if device.outcome is None:
        return
    try:
        result = device.outcome(device, name, error)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("device outcome callback failed",
                      extra={"device": device.name, "kind": device.kind, "member": name})


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """Who a device is (ASCOM Name, Description, DriverInfo, DriverVersion, InterfaceVersion)."""

    name: str
    description: str
    driver_info: str
    driver_version: str
    interface_version: int


class Snapshot:
    """Base of info/state dataclasses: plain-dict conversion for APIs and storage."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


class Device(ABC):
    """Base of every device interface."""

    kind: ClassVar[str] = "device"
    interface_version: ClassVar[int] = 1
    driver_name: ClassVar[str] = "abstract"
    driver_version: ClassVar[str] = "1.0"

    gate: Gate | None = None
    """Called before every command that acts; raises to refuse it (see the module doc)."""
    outcome: Outcome | None = None
    """Told how every connected command ended (see the module doc)."""
    fault: FaultHook | None = None
    """Injected faults, awaited inside every call (simulation; see the module doc)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if not inspect.iscoroutinefunction(member) or getattr(member, _GUARDED, False):
                continue
            spec = _spec_for(cls, name)
            if spec is not None:
                setattr(cls, name, _guard(member, name, spec))

    def __init__(
        self,
        name: str,
        *,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        if not name or not isinstance(name, str):
            raise InvalidValueError(f"a device needs a non-empty name, got {name!r}")
        if not timeout_s > 0:
            raise InvalidValueError(f"{name}: timeout_s must be > 0, got {timeout_s!r}")
        self.name = name
        self.description = description or f"{self.driver_name} {self.kind}"
        self.timeout_s = float(timeout_s)
        self._clock = clock
        self._events = events
        self._connected = False

    # ------------------------------------------------------------ plumbing
    @property
    def clock(self) -> Clock:
        """The clock this device lives on (the process clock unless one was given)."""
        return self._clock if self._clock is not None else get_clock()

    @property
    def events(self) -> EventBus:
        return self._events if self._events is not None else get_event_bus()

    def publish(self, topic: str, **data: Any) -> None:
        """Announce ``<kind>.<topic>`` from this device."""
        self.events.publish(f"{self.kind}.{topic}", self.name, time=self.clock.now(), **data)

    @property
    def identity(self) -> DeviceIdentity:
        return DeviceIdentity(self.name, self.description, f"nocturna {self.driver_name} driver",
                              self.driver_version, self.interface_version)

    @property
    def connected(self) -> bool:
        if self.fault is not None and self._connected:
            return not self.fault.link_down(self)
        return self._connected

    # ----------------------------------------------------------- connection
    @command(connected=False)
    async def connect(self) -> None:
        """Connect (idempotent)."""
        await _connection_fault(self, "connect")
        if not self._connected:
            await self._connect()
            self._connected = True
            self.publish("connected")

    @command(connected=False)
    async def disconnect(self) -> None:
        """Disconnect (idempotent)."""
        await _connection_fault(self, "disconnect")
        if self._connected:
            await self._disconnect()
            self._connected = False
            self.publish("disconnected")

    async def _connect(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Driver hook: open the connection."""

    async def _disconnect(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Driver hook: close the connection."""

    # ------------------------------------------------------------ snapshots
    @abstractmethod
    @command(read_only=True)
    async def info(self) -> Snapshot:
        """Static description and capabilities (does not change while connected)."""

    @abstractmethod
    @command(read_only=True)
    async def state(self) -> Snapshot:
        """The current state."""

    async def status(self) -> dict[str, Any]:
        """A snapshot for people and telemetry; works while disconnected."""
        status: dict[str, Any] = {"name": self.name, "kind": self.kind,
                                  "driver": self.driver_name, "connected": self.connected}
        if self.connected:
            status["state"] = (await self.state()).as_dict()
        return status

    def not_implemented(self, member: str) -> NotImplementedByDeviceError:
        """The error for an optional member this driver does not implement."""
        return NotImplementedByDeviceError(f"{self.kind} {self.name!r} does not implement {member}")

    # -------------------------------------------------------------- actions
    @property
    def supported_actions(self) -> list[str]:
        return []

    @command
    async def action(self, name: str, parameters: str = "") -> str:
        """ASCOM custom action; none by default."""
        raise ActionNotImplementedError(f"{self.kind} {self.name!r} has no action {name!r}")

    # ---------------------------------------------------------------- waits
    async def wait_until(
        self,
        condition: Callable[[Any], bool],
        *,
        timeout_s: float,
        poll_s: float = 0.5,
        what: str = "the operation",
    ) -> Any:
        """Poll :meth:`state` every ``poll_s`` clock seconds until ``condition(state)``.

        ``timeout_s`` is in clock seconds (simulated time when simulating). Returns the
        state that satisfied the condition.
        """
        deadline = self.clock.timestamp() + timeout_s
        while True:
            state = await self.state()
            if condition(state):
                return state
            if self.clock.timestamp() >= deadline:
                raise DeviceTimeoutError(
                    f"{self.kind} {self.name!r}: {what} did not complete within {timeout_s:g} s"
                )
            await self.clock.sleep(poll_s)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<{type(self).__name__} {self.name!r} {state}>"
