"""Safety monitor interface (ASCOM ISafetyMonitorV3): one verdict, with reasons."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field

from nocturna.devices.base import Device, Snapshot, command


@dataclass(frozen=True)
class SafetyInfo(Snapshot):
    checks: list[str]  # what the verdict is based on


@dataclass(frozen=True)
class SafetyStatus(Snapshot):
    is_safe: bool
    reasons: list[str] = field(default_factory=list)  # why it is unsafe


class SafetyMonitor(Device):
    """Says whether it is safe to open and observe."""

    kind = "safetymonitor"
    interface_version = 3
    _last_verdict: bool | None = None  # the verdict :meth:`verdict` gave last

    @abstractmethod
    @command
    async def info(self) -> SafetyInfo:
        """What is checked."""

    @abstractmethod
    @command
    async def state(self) -> SafetyStatus:
        """The verdict now."""

    async def is_safe(self) -> bool:
        return (await self.state()).is_safe

    def verdict(self, reasons: list[str]) -> SafetyStatus:
        """The status for ``reasons`` (none: safe), announcing ``verdict.changed`` when
        the verdict differs from the one before (not for the first)."""
        is_safe = not reasons
        last = self._last_verdict
        if is_safe != last:
            if last is not None:
                self.publish("verdict.changed", is_safe=is_safe, reasons=list(reasons))
            self._last_verdict = is_safe
        return SafetyStatus(is_safe=is_safe, reasons=reasons)
