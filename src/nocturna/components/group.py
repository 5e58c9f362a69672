"""Several components driven together: enable, standby, liveliness, assertions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from nocturna.components.component import Component
from nocturna.components.device import DeviceComponent
from nocturna.components.recovery import RecoveryPolicy
from nocturna.components.states import (
    DISABLED,
    ENABLED,
    OFFLINE,
    STANDBY,
    ChangeCallback,
    ComponentStateError,
    LivelinessError,
    SummaryState,
    describe_error,
    parse_state,
)
from nocturna.core.clock import Clock
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
)
from nocturna.core.events import EventBus
from nocturna.devices.base import Device

log = logging.getLogger(__name__)


class ComponentGroup:
    """Several components driven together (the remote-group API of LATISS-like systems).

    ``components`` arguments take names (or None for all); unknown names are refused
    with :class:`InvalidValueError` listing the known ones. Components can be left
    out of :meth:`assert_all_enabled` and :meth:`assert_liveliness` with
    :meth:`set_check`.
    """

    def __init__(self, components: Iterable[Component]) -> None:
        self._components: dict[str, Component] = {}
        for component in components:
            if component.name in self._components:
                raise InvalidValueError(f"two components are named {component.name!r}")
            self._components[component.name] = component
        self._check = dict.fromkeys(self._components, True)

    @classmethod
    def for_devices(
        cls,
        devices: Iterable[Device],
        *,
        clock: Clock | None = None,
        events: EventBus | None = None,
        heartbeat_interval_s: float = 1.0,
        probe_timeout_s: float = 2.0,
        fault_after: int = 3,
        on_change: ChangeCallback | Iterable[ChangeCallback] | None = None,
        recovery: RecoveryPolicy | None = None,
    ) -> ComponentGroup:
        """A group with one :class:`DeviceComponent` per device (all OFFLINE), each
        recovering from FAULT by itself with ``recovery`` (None: not)."""
        callbacks = [on_change] if callable(on_change) else list(on_change or [])
        return cls(
            DeviceComponent(device, clock=clock, events=events,
                            heartbeat_interval_s=heartbeat_interval_s,
                            probe_timeout_s=probe_timeout_s, fault_after=fault_after,
                            on_change=callbacks, recovery=recovery)
            for device in devices
        )

    # -------------------------------------------------------------- access
    @property
    def components(self) -> list[str]:
        """The names, in the order given."""
        return list(self._components)

    def __getitem__(self, name: str) -> Component:
        return self._work([name])[0]

    def __contains__(self, name: object) -> bool:
        return name in self._components

    def __iter__(self) -> Iterator[Component]:
        return iter(self._components.values())

    def __len__(self) -> int:
        return len(self._components)

    def _work(self, components: Iterable[str] | str | None) -> list[Component]:
        if components is None:
            return list(self._components.values())
        names = [components] if isinstance(components, str) else list(components)
        unknown = [name for name in names if name not in self._components]
        if unknown:
            known = ", ".join(self._components) or "none"
            raise InvalidValueError(f"unknown component{'s' if len(unknown) > 1 else ''} "
                                    f"{', '.join(map(repr, unknown))} (known: {known})")
        return [self._components[name] for name in dict.fromkeys(names)]

    def set_check(self, component: str, check: bool) -> None:
        """Include (True) or leave out (False) a component from the assertions."""
        self._work([component])
        self._check[component] = bool(check)

    def reset_checks(self) -> None:
        self._check = dict.fromkeys(self._components, True)

    def components_to_check(self) -> list[str]:
        return [name for name, check in self._check.items() if check]

    # --------------------------------------------------------- transitions
    async def set_state(self, state: SummaryState | str,
                        components: Iterable[str] | str | None = None) -> None:
        """Bring the components (all, or the named ones) to ``state``, concurrently.

        Every component is tried; if any fails, :class:`ComponentStateError` lists
        each failure (its ``failures`` maps names to errors).
        """
        target = parse_state(state)
        work = self._work(components)
        results = await asyncio.gather(*(c.set_state(target) for c in work),
                                       return_exceptions=True)
        failures: dict[str, BaseException] = {}
        for component, result in zip(work, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):
                failures[component.name] = result
        if failures:
            details = "; ".join(f"{name}: {describe_error(error)}"
                                for name, error in failures.items())
            error = ComponentStateError(
                f"could not bring {len(failures)} of {len(work)} components to "
                f"{target.name}: {details}", failures)
            raise error from next(iter(failures.values()))

    async def enable(self, components: Iterable[str] | str | None = None) -> None:
        await self.set_state(ENABLED, components)

    async def disable(self, components: Iterable[str] | str | None = None) -> None:
        await self.set_state(DISABLED, components)

    async def standby(self, components: Iterable[str] | str | None = None) -> None:
        await self.set_state(STANDBY, components)

    async def offline(self, components: Iterable[str] | str | None = None) -> None:
        await self.set_state(OFFLINE, components)

    # ------------------------------------------------------------- reading
    def get_state(self, component: str) -> SummaryState:
        return self[component].state

    def get_heartbeat(self, component: str) -> datetime | None:
        """The clock time of the component's last heartbeat (None if none yet)."""
        return self[component].last_heartbeat

    async def next_heartbeat(self, component: str, timeout_s: float | None = None) -> datetime:
        """Wait (on the clock) for the component's next heartbeat; see Component."""
        return await self[component].next_heartbeat(timeout_s)

    def get_software_versions(self, components: Iterable[str] | str | None = None
                              ) -> dict[str, str]:
        return {c.name: c.software_version for c in self._work(components)}

    def get_simulation_mode(self, components: Iterable[str] | str | None = None
                            ) -> dict[str, bool]:
        return {c.name: c.simulation_mode for c in self._work(components)}

    def summary(self) -> list[dict[str, Any]]:
        """One row per component (see :meth:`Component.summary`), plus ``check``."""
        return [{**c.summary(), "check": self._check[c.name]} for c in self]

    # ---------------------------------------------------------- assertions
    def assert_all_enabled(self, message: str = "") -> None:
        """Raise :class:`InvalidOperationError` naming every checked component not ENABLED."""
        laggards = []
        for name in self.components_to_check():
            component = self._components[name]
            if component.state is not ENABLED:
                fault = f" ({component.fault_reason})" if component.fault_reason else ""
                laggards.append(f"{name} is {component.state.name}{fault}")
        if laggards:
            suffix = f": {message}" if message else ""
            raise InvalidOperationError(
                f"not all components are ENABLED: {'; '.join(laggards)}{suffix}")

    def assert_liveliness(self, timeout_s: float | None = None) -> None:
        """Every checked component's last heartbeat is at most ``timeout_s`` clock seconds old.

        The default limit is three of the component's heartbeat intervals. Raises
        :class:`LivelinessError` naming each stale or silent component.
        """
        problems = []
        for name in self.components_to_check():
            component = self._components[name]
            limit = 3 * component.heartbeat_interval_s if timeout_s is None else timeout_s
            age = component.heartbeat_age_s()
            if age is None or age > limit:
                problems.append(f"{name} ({component._staleness()}, limit {limit:g} s)")
        if problems:
            raise LivelinessError("components without a recent heartbeat: "
                                  + "; ".join(problems))

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        for component in self:
            await component.start()

    async def close(self) -> None:
        for component in self:
            await component.close()

    async def __aenter__(self) -> ComponentGroup:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        states = ", ".join(f"{c.name}={c.state.name}" for c in self)
        return f"<ComponentGroup {states}>"
