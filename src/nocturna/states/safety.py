"""Safety checks: weather, Sun, dome, components, disk space.

:class:`SafetySupervisor` answers "may the unit be in this state now?" for a
:class:`~nocturna.states.table.StateSpec`: it runs the checks the state lists and
returns a :class:`SafetyReport` with every reason it is not safe. A device that cannot
be read counts as unsafe (its error is the reason): when in doubt, close.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nocturna.components import SummaryState
from nocturna.core.diskspace import free_bytes
from nocturna.devices.types import ShutterState

if TYPE_CHECKING:
    from nocturna.observatory.unit import Observatory
    from nocturna.states.table import StateSpec

log = logging.getLogger(__name__)

WEATHER = "weather"


@dataclass
class SafetyReport:
    """The outcome of a state's checks: per check, the reasons it failed."""

    failures: dict[str, list[str]] = field(default_factory=dict)

    @property
    def safe(self) -> bool:
        return not self.failures

    @property
    def reasons(self) -> list[str]:
        return [reason for reasons in self.failures.values() for reason in reasons]

    @property
    def weather_unsafe(self) -> bool:
        return WEATHER in self.failures

    def __str__(self) -> str:
        return "safe" if self.safe else "; ".join(self.reasons)


class SafetySupervisor:
    """Runs the checks of a state against one unit."""

    def __init__(self, unit: Observatory) -> None:
        self.unit = unit

    async def check(self, spec: StateSpec, *, checks: tuple[str, ...] | None = None
                    ) -> SafetyReport:
        """The report for ``spec`` (only ``checks`` of its checks, if given)."""
        report = SafetyReport()
        for name in spec.checks if checks is None else [c for c in spec.checks if c in checks]:
            reasons = await self._run(name, spec)
            if reasons:
                report.failures[name] = reasons
        return report

    async def _run(self, name: str, spec: StateSpec) -> list[str]:
        if name == "weather":
            return await self.weather()
        if name == "sun":
            return self.sun(spec.sun or "observe")
        if name == "dome":
            return await self.dome(spec.dome or "open")
        if name == "components":
            return self.components(spec.components)
        if name == "disk":
            return self.disk()
        raise ValueError(f"unknown safety check {name!r}")

    # ----------------------------------------------------------- the checks
    async def weather(self) -> list[str]:
        """Every safety monitor safe and every station's readings within limits."""
        from nocturna.observatory.weather import read_weather

        return (await read_weather(self.unit)).reasons

    def sun(self, limit: str) -> list[str]:
        """The Sun below the ``limit`` twilight altitude."""
        altitude, allowed = self.unit.sun_altitude(), self.unit.twilight(limit)
        if altitude < allowed:
            return []
        return [f"the Sun is at {altitude:+.1f}°, above the {limit} limit {allowed:+.1f}°"]

    async def dome(self, position: str) -> list[str]:
        """The dome/roof open (and, once it has stopped turning, facing the mount) or closed."""
        dome = self.unit.dome
        if dome is None:
            return []
        try:
            status = await dome.state()
        except Exception as exc:
            return [f"dome {dome.name} cannot be read ({exc})"]
        wanted = ShutterState.OPEN if position == "open" else ShutterState.CLOSED
        if status.shutter_status != wanted:
            return [f"dome {dome.name} shutter is {status.shutter_status.name.lower()}, "
                    f"expected {wanted.name.lower()}"]
        if position == "open" and not status.slewing:
            return await self._dome_facing_mount(status)
        return []

    async def _dome_facing_mount(self, status: Any) -> list[str]:
        mount = self.unit.mount
        if mount is None or status.azimuth_deg is None:
            return []
        try:
            mount_status = await mount.state()
        except Exception as exc:
            return [f"mount {mount.name} cannot be read ({exc})"]
        if mount_status.at_park or mount_status.alt_deg > 85.0:
            return []  # near the zenith every azimuth sees the sky
        offset = abs((status.azimuth_deg - mount_status.az_deg + 180.0) % 360.0 - 180.0)
        limit = self.unit.settings.safety.max_dome_offset.to_value("deg")
        if offset > limit:
            return [f"dome azimuth {status.azimuth_deg:.1f}° is {offset:.1f}° from the "
                    f"mount's {mount_status.az_deg:.1f}° (limit {limit:g}°)"]
        return []

    def components(self, names: tuple[str, ...] | None) -> list[str]:
        """The components ENABLED and sending heartbeats."""
        group = self.unit.components
        interval = self.unit.settings.heartbeat_interval.to_value("s")
        reasons = []
        wanted = group.components_to_check() if names is None else \
            [n for n in names if n in group]
        missing = [] if names is None else [n for n in names if n not in group]
        reasons += [f"component {name} does not exist" for name in missing]
        for name in wanted:
            component = group[name]
            if component.state is not SummaryState.ENABLED:
                why = f" ({component.fault_reason})" if component.fault_reason else ""
                reasons.append(f"{name} is {component.state.name}{why}")
                continue
            age = component.heartbeat_age_s()
            if age is not None and age > 3 * interval + 1.0:
                reasons.append(f"{name} sent no heartbeat for {age:.0f} s")
        return reasons

    def disk(self) -> list[str]:
        """Enough free space where the images go."""
        minimum_mb = self.unit.settings.safety.min_free_disk_mb
        try:  # a data directory not created yet: the file system that will hold it
            free_mb = free_bytes(self.unit.config.data_dir) / 1e6
        except OSError as exc:
            return [f"cannot read the free space of {self.unit.config.data_dir} ({exc})"]
        low = free_mb < minimum_mb or math.isnan(free_mb)
        if low and not self.unit.status.disk_low:  # told once, until there is room again
            self.unit.publish("disk_low", free_mb=None if math.isnan(free_mb) else free_mb,
                              limit_mb=minimum_mb, path=str(self.unit.config.data_dir))
        self.unit.status.disk_low = low
        if low:
            return [f"only {free_mb:.0f} MB free in {self.unit.config.data_dir} "
                    f"(need {minimum_mb:g} MB)"]
        return []
