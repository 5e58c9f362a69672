"""What every Alpaca client driver shares: configuration, connection, reading members.

A driver is ``class AlpacaFocuser(AlpacaDevice, Focuser)``: this class handles the
server (``address``, ``device_number``), connecting (``PUT connected``, then the
remote identity and the kind's static info, cached while connected), and reading
members: :meth:`AlpacaDevice._values` GETs many members concurrently over the
keep-alive pool, giving optional members that answer "not implemented" (0x400) their
default (remembered while connected, so they are not asked again), and — for state
snapshots on servers whose interface has ``DeviceState`` — takes what it can from one
``devicestate`` call.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, ClassVar, Self, TypeVar

from nocturna.core.clock import Clock
from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    InvalidOperationError,
    NocturnaError,
    NotConnectedError,
    NotImplementedByDeviceError,
    ValueNotSetError,
)
from nocturna.core.events import EventBus
from nocturna.devices.alpaca.transport import AlpacaClient, acquire, parse_address, release
from nocturna.devices.base import Device, Snapshot
from nocturna.devices.driver_options import driver_options

log = logging.getLogger(__name__)

E = TypeVar("E", bound=IntEnum)

REQUIRED: Any = object()
"""A member with no default: any error it answers is raised."""

OPTIONS = frozenset({"timeout_s", "description"})
"""The driver's own options in a device entry."""
IGNORED = frozenset({"primary", "filterwheel", "focuser", "calibrator", "spectrograph",
                     "focal_length_mm", "aperture_mm", "rotation_deg", "weather"})
"""Keys of a device entry that other layers read (links, optics): not the driver's."""


@dataclass(frozen=True, slots=True)
class Unset:
    """A default also used when the member answers "value not set" (0x402) or "invalid
    operation" (0x40B), e.g. the last exposure's duration before any exposure."""

    default: Any


@dataclass(frozen=True, slots=True)
class RemoteIdentity:
    """Who the served device says it is (read at connect)."""

    name: str
    description: str
    driver_info: str
    driver_version: str
    interface_version: int


class AlpacaDevice(Device):
    """Base of the Alpaca client drivers (one subclass per device kind)."""

    driver_name = "alpaca"
    alpaca_type: ClassVar[str]
    """The ASCOM device type in the URL (``camera``, ``telescope``...)."""
    device_state_since: ClassVar[int] = 99
    """The interface version that introduced ``DeviceState`` for this kind."""

    def __init__(self, name: str, *, address: str, device_number: int = 0,
                 description: str = "", timeout_s: float = 10.0, clock: Clock | None = None,
                 events: EventBus | None = None) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        parse_address(address, owner=name)
        if isinstance(device_number, bool) or not isinstance(device_number, int) \
                or device_number < 0:
            raise ConfigError(f"{name}.device_number: expected an integer >= 0, "
                              f"got {device_number!r}")
        self.address = address
        self.device_number = device_number
        self.remote: RemoteIdentity | None = None
        self._path = f"/api/v1/{self.alpaca_type}/{device_number}/"
        self._client: AlpacaClient | None = None
        self._info: Any = None
        self._unimplemented: set[str] = set()
        self._device_state_ok = False
        self._actions: list[str] = []

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> Self:
        """Build from a device entry (``address: host:port``, ``device_number``).

        Options: ``timeout_s``, ``description`` (also accepted as keyword arguments,
        the entry's value winning). Of the factory's context only ``clock`` and
        ``events`` are used (the site, mount, focuser... are the server's business);
        the keys other layers read (``primary``, ``filterwheel``, ``focal_length_mm``...)
        are ignored; any other key is an error.
        """
        name = cfg.name
        if not cfg.address:
            raise ConfigError(f"{name}.address: an alpaca device needs 'host:port' of its "
                              "Alpaca server")
        parse_address(cfg.address, owner=name)
        extra: dict[str, Any] = {key: context[key] for key in OPTIONS if key in context}
        extra.update(getattr(cfg, "model_extra", None) or {})
        kwargs, problems = driver_options(name, "alpaca", extra, options=OPTIONS,
                                          ignored=IGNORED,
                                          listed=", ".join(sorted(OPTIONS)))
        if problems:
            raise ConfigError(problems)
        kwargs.update((key, context[key]) for key in ("clock", "events")
                      if context.get(key) is not None)
        return cls(name, address=cfg.address, device_number=cfg.device_number, **kwargs)

    # ------------------------------------------------------------- connection
    async def _connect(self) -> None:
        self._client = acquire(self.address)
        self._unimplemented = set()
        try:
            await self._put("connected", Connected=True)
        except BaseException:
            await self._drop_client()
            raise
        try:
            self.remote = await self._read_identity()
            self._device_state_ok = self.remote.interface_version >= self.device_state_since
            self._info = await self._read_info()
        except BaseException:
            await self._disconnect()  # do not leave the server's device connected
            raise
        log.info("connected to alpaca %s %s/%d at %s (%s)", self.kind, self.alpaca_type,
                 self.device_number, self.address, self.remote.name,
                 extra={"device": self.name})

    async def _disconnect(self) -> None:
        try:
            await self._put("connected", Connected=False)
        except NocturnaError as exc:  # the session ends on our side whatever it says
            log.warning("alpaca %s %r: disconnecting: %s", self.kind, self.name, exc)
        finally:
            await self._drop_client()

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await release(client)

    async def _read_identity(self) -> RemoteIdentity:
        v = await self._values({"name": "", "description": "", "driverinfo": "",
                                "driverversion": "", "interfaceversion": 1,
                                "supportedactions": []})
        self._actions = as_strings(v["supportedactions"])
        return RemoteIdentity(str(v["name"]), str(v["description"]), str(v["driverinfo"]),
                              str(v["driverversion"]), as_int(v["interfaceversion"]))

    @abstractmethod
    async def _read_info(self) -> Snapshot:
        """Read the kind's static info (once per connection)."""

    async def info(self) -> Snapshot:
        """The static info read at connect."""
        return self._info

    @property
    def supported_actions(self) -> list[str]:
        """The server's SupportedActions (read at connect)."""
        return list(self._actions)

    async def action(self, name: str, parameters: str = "") -> str:
        """ASCOM custom action, run by the server."""
        value = await self.client.put(self._path + "action",
                                      {"Action": name, "Parameters": parameters},
                                      timeout_s=self.timeout_s, value=True)
        return "" if value is None else str(value)

    # ---------------------------------------------------------------- members
    @property
    def client(self) -> AlpacaClient:
        if self._client is None:
            raise NotConnectedError(f"{self.kind} {self.name!r} is not connected")
        return self._client

    async def _get(self, member: str, **params: Any) -> Any:
        return await self.client.get(self._path + member, params, timeout_s=self.timeout_s)

    async def get_member(self, member: str, **params: Any) -> Any:
        """The raw ``Value`` of one GET member (``"position"``; parameters spec-cased):
        one request, for diagnostics and benchmarks."""
        return await self._get(member, **params)

    async def _put(self, member: str, *, timeout_s: float | None = None,
                   **params: Any) -> None:
        """PUT a member; ``timeout_s`` (default the device's) for methods that may return
        only when their motion has ended (a synchronous Park)."""
        await self.client.put(self._path + member, params,
                              timeout_s=self.timeout_s if timeout_s is None else timeout_s)

    async def _value(self, member: str, default: Any = REQUIRED, **params: Any) -> Any:
        """GET one member; ``default`` (or :class:`Unset`) when it is not implemented."""
        fallback = default.default if isinstance(default, Unset) else default
        if default is not REQUIRED and member in self._unimplemented:
            return fallback
        try:
            return await self._get(member, **params)
        except NotImplementedByDeviceError:
            if default is REQUIRED:
                raise
            if not params:
                self._unimplemented.add(member)
            return fallback
        except (ValueNotSetError, InvalidOperationError):
            if isinstance(default, Unset):
                return fallback
            raise

    async def _values(self, spec: Mapping[str, Any], *, state: bool = False) -> dict[str, Any]:
        """GET the members of ``spec`` (member → default) concurrently.

        With ``state``, members the server's ``DeviceState`` holds are taken from one
        ``devicestate`` call instead.
        """
        found = await self._device_state() if state and self._device_state_ok else {}
        wanted = [member for member in spec if member not in found]
        results = await asyncio.gather(*(self._value(m, spec[m]) for m in wanted))
        values = {member: found[member] for member in spec if member in found}
        values.update(zip(wanted, results, strict=True))
        return values

    async def _device_state(self) -> dict[str, Any]:
        """The ``devicestate`` reply by lower-case member name; {} (and not asked again
        while connected) if the server does not answer it."""
        try:
            items = await self._get("devicestate")
        except (DeviceTimeoutError, NotConnectedError):
            raise
        except NocturnaError as exc:
            log.info("alpaca %s %r: no usable DeviceState (%s); reading members one by one",
                     self.kind, self.name, exc)
            self._device_state_ok = False
            return {}
        if not isinstance(items, list):
            self._device_state_ok = False
            return {}
        return {str(item["Name"]).lower(): item.get("Value") for item in items
                if isinstance(item, dict) and "Name" in item}


# ----------------------------------------------------------------- conversions
def _bad(value: Any, what: str) -> NocturnaError:
    return NocturnaError(f"an Alpaca server answered {value!r} where {what} was expected")


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(value, "a number")
    return float(value)


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not value.is_integer()):
        raise _bad(value, "an integer")
    return int(value)


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(value, "true or false")


def as_enum(cls: type[E], value: Any) -> E:
    try:
        return cls(as_int(value))
    except ValueError:
        raise _bad(value, f"a {cls.__name__} value") from None


def optional_float(value: Any) -> float | None:
    return None if value is None else as_float(value)


def as_strings(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _bad(value, "a list of strings")
    return [str(item) for item in value]


def nan_if_none(value: Any) -> float:
    return math.nan if value is None else as_float(value)


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: Any) -> datetime | None:
    """An Alpaca date-time string (ISO 8601, UTC unless it says otherwise), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _bad(value, "an ISO 8601 date and time")
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(value, "an ISO 8601 date and time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
