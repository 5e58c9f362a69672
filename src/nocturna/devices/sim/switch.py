"""Simulated switch: power outlets, a dew heater and a read-only supply voltage.

Switching is instantaneous (``state_change_complete`` always true). Following
ASCOM, writing a read-only channel raises :class:`NotImplementedByDeviceError`
(MethodNotImplemented for CanWrite false); a value outside ``minimum..maximum`` or
off the channel's step raises :class:`InvalidValueError`, as does a channel number
out of range.

A channel is described by :class:`ChannelSpec`; in configuration, ``channels`` is
a list of mappings with the same keys (``name`` required; ``description``,
``minimum`` 0, ``maximum`` 1, ``step`` 1, ``can_write`` true, ``value`` = minimum).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import InvalidValueError, NotImplementedByDeviceError
from nocturna.core.events import EventBus
from nocturna.devices.sim import options as opt
from nocturna.devices.switch import Switch, SwitchChannel, SwitchInfo, SwitchStatus


@dataclass(frozen=True)
class ChannelSpec:
    """One channel of a simulated switch and its initial value."""

    name: str
    description: str = ""
    minimum: float = 0.0
    maximum: float = 1.0
    step: float = 1.0
    can_write: bool = True
    value: float | None = None  # None: the minimum

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidValueError("a switch channel needs a name")
        if not (math.isfinite(self.minimum) and math.isfinite(self.maximum)
                and self.minimum < self.maximum):
            raise InvalidValueError(f"switch channel {self.name!r}: minimum {self.minimum} "
                                    f"must be below maximum {self.maximum}")
        if not 0 < self.step <= self.maximum - self.minimum:
            raise InvalidValueError(f"switch channel {self.name!r}: step {self.step} must be "
                                    f"in (0, {self.maximum - self.minimum}]")
        if self.value is not None:
            _check_value(self, self.value)


def _check_value(spec: ChannelSpec, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise InvalidValueError(f"switch channel {spec.name!r}: {value!r} is not a number")
    if not spec.minimum <= value <= spec.maximum:
        raise InvalidValueError(f"switch channel {spec.name!r}: {value:g} is not in "
                                f"{spec.minimum:g}..{spec.maximum:g}")
    steps = (value - spec.minimum) / spec.step
    if abs(steps - round(steps)) > 1e-6 * max(1.0, abs(steps)):
        raise InvalidValueError(f"switch channel {spec.name!r}: {value:g} is not on a step of "
                                f"{spec.step:g} from {spec.minimum:g}")
    return float(value)


def _outlet(name: str, on: bool = True) -> ChannelSpec:
    return ChannelSpec(name, f"power outlet: {name}", value=1.0 if on else 0.0)


DEFAULT_CHANNELS: tuple[ChannelSpec, ...] = (
    _outlet("mount"), _outlet("camera"), _outlet("focuser"), _outlet("filter wheel"),
    _outlet("dome"), _outlet("flat panel"), _outlet("usb hub"), _outlet("aux", on=False),
    ChannelSpec("dew heater", "dew heater power, %", 0.0, 100.0, 1.0, True, 0.0),
    ChannelSpec("supply voltage", "power supply voltage, V", 0.0, 15.0, 0.01, False, 12.6),
)
"""Eight outlets, a 0–100 % dew heater and a read-only supply voltage."""


class SimSwitch(Switch):
    """A simulated switch; see the module docstring."""

    driver_name = "sim"

    def __init__(
        self,
        name: str = "switch",
        *,
        channels: Sequence[ChannelSpec] = DEFAULT_CHANNELS,
        description: str = "",
        timeout_s: float = 10.0,
        clock: Clock | None = None,
        events: EventBus | None = None,
    ) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        if not channels:
            raise InvalidValueError(f"{name}: a switch needs at least one channel")
        self._specs = list(channels)
        self._values = [spec.minimum if spec.value is None else float(spec.value)
                        for spec in self._specs]

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> SimSwitch:
        """Build from a device entry; ``context`` may hold ``clock`` and ``events``.

        Option: ``channels``, a list of mappings (see the module docstring).
        """
        kwargs = opt.driver_options(cfg, {"channels": opt.list_of(_channel, min_length=1)})
        return cls(cfg.name, **kwargs, **opt.device_context(context))

    def _channel(self, channel: int) -> ChannelSpec:
        if isinstance(channel, bool) or not isinstance(channel, int) \
                or not 0 <= channel < len(self._specs):
            raise InvalidValueError(
                f"switch channel {channel!r} is not in 0..{len(self._specs) - 1}")
        return self._specs[channel]

    async def info(self) -> SwitchInfo:
        return SwitchInfo(channels=[
            SwitchChannel(s.name, s.description, s.can_write, s.minimum, s.maximum, s.step)
            for s in self._specs
        ])

    async def state(self) -> SwitchStatus:
        return SwitchStatus(values=list(self._values), names=[s.name for s in self._specs],
                            state_change_complete=[True] * len(self._specs))

    async def set_value(self, channel: int, value: float) -> None:
        spec = self._channel(channel)
        if not spec.can_write:
            raise NotImplementedByDeviceError(
                f"{self.kind} {self.name!r}: channel {channel} ({spec.name}) is read-only")
        self._values[channel] = _check_value(spec, value)
        self.publish("value.changed", channel=channel, name=spec.name, value=float(value))

    async def set_name(self, channel: int, name: str) -> None:
        spec = self._channel(channel)
        if not isinstance(name, str) or not name.strip():
            raise InvalidValueError(f"switch channel name {name!r} must be a non-empty string")
        self._specs[channel] = replace(spec, name=name)


def _channel(value: Any) -> ChannelSpec:
    if not isinstance(value, dict):
        raise ValueError("each channel must be a mapping with at least a name")
    unknown = set(value) - {"name", "description", "minimum", "maximum", "step", "can_write",
                            "value"}
    if unknown:
        raise ValueError(f"unknown channel key(s) {sorted(unknown)}")
    number = opt.number()
    fields: dict[str, Any] = {"name": opt.text(value.get("name"))}
    if "description" in value:
        fields["description"] = str(value["description"])
    for key in ("minimum", "maximum", "step"):
        if key in value:
            fields[key] = number(value[key])
    if "can_write" in value:
        fields["can_write"] = opt.boolean(value["can_write"])
    if value.get("value") is not None:
        fields["value"] = number(value["value"])
    try:
        return ChannelSpec(**fields)
    except InvalidValueError as exc:
        raise ValueError(str(exc)) from None
