"""What every INDI client driver shares: configuration, connection, properties.

A driver is ``class IndiFocuser(IndiDevice, Focuser)``. This class handles the server
(``address``, ``device``: the INDI device name), connecting (the shared connection to
the server, the device's ``CONNECTION`` switch, then the kind's static info), and
reading and setting properties:

* :meth:`IndiDevice.vector` gives a property as the server last described it;
  :class:`IndiConnectionError` if the link is down or the server restarted since this
  device connected (its driver process then lost the hardware connection, so nocturna
  connects again: the component's recovery does that), and
  :class:`NotImplementedByDeviceError` if the device has no such property.
* :meth:`IndiDevice.send` sets elements of a property (``new*Vector``); with ``wait`` it
  returns once the server has answered and the property is no longer Busy. A property
  that turns Alert raises :class:`IndiAlertError` with the driver's message.

Disconnecting gives the connection back but does not switch the INDI device off: other
clients of the same server (a guider, a planetarium) may be using it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar, Self

from nocturna.core.clock import Clock
from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    NocturnaError,
    NotImplementedByDeviceError,
)
from nocturna.core.events import EventBus
from nocturna.devices.base import Device, Snapshot
from nocturna.devices.driver_options import driver_options
from nocturna.devices.indi.connection import (
    IndiConnection,
    IndiConnectionError,
    acquire,
    parse_indi_address,
    release,
)
from nocturna.devices.indi.properties import Vector

log = logging.getLogger(__name__)

OPTIONS = frozenset({"timeout_s", "description", "connect_timeout_s"})
"""The driver's own options in a device entry."""
IGNORED = frozenset({"primary", "filterwheel", "focuser", "calibrator", "spectrograph",
                     "focal_length_mm", "aperture_mm", "rotation_deg", "weather",
                     "device_number"})
"""Keys of a device entry that other layers read (links, optics): not the driver's."""
_REQUIRED: Any = object()
CONNECT_TIMEOUT_S = 30.0
BARRIER_TIMEOUT_S = 5.0
"""Real seconds to wait for a driver's answer that ends its connect definitions."""
"""Real seconds for the server to answer and the INDI device to connect."""


class IndiAlertError(NocturnaError):
    """An INDI property went to Alert: the driver refused or failed (its message says)."""


class IndiDevice(Device):
    """Base of the INDI client drivers (one subclass per device kind)."""

    driver_name = "indi"
    required: ClassVar[tuple[str, ...]] = ()
    """Properties the kind cannot work without: waited for at connect."""

    def __init__(self, name: str, *, address: str, device: str, description: str = "",
                 timeout_s: float = 10.0, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                 clock: Clock | None = None, events: EventBus | None = None) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        parse_indi_address(address, owner=name)
        if not isinstance(device, str) or not device.strip():
            raise ConfigError(f"{name}.device: expected the INDI device's name "
                              f"(e.g. 'CCD Simulator'), got {device!r}")
        self.address = address
        self.indi_device = device
        self.connect_timeout_s = float(connect_timeout_s)
        self._connection: IndiConnection | None = None
        self._generation = 0
        self._info: Any = None

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> Self:
        """Build from a device entry (``address: host:port``, ``device: "CCD Simulator"``).

        Options: ``timeout_s``, ``connect_timeout_s``, ``description``. Of the
        factory's context only ``clock`` and ``events`` are used; the keys other layers
        read (``primary``, ``filterwheel``, ``focal_length_mm``...) are ignored; any
        other key is an error.
        """
        name = cfg.name
        extra: dict[str, Any] = {key: context[key] for key in OPTIONS if key in context}
        extra.update(getattr(cfg, "model_extra", None) or {})
        device = extra.pop("device", None)
        problems: list[str] = []
        if not cfg.address:
            problems.append(f"{name}.address: an indi device needs 'host:port' of its INDI "
                            "server")
        if not isinstance(device, str) or not device.strip():
            problems.append(f"{name}.device: an indi device needs the INDI device's name "
                            f"(e.g. 'CCD Simulator'), got {device!r}")
        kwargs, found = driver_options(name, "indi", extra, options=OPTIONS, ignored=IGNORED,
                                       listed="device, " + ", ".join(sorted(OPTIONS)))
        problems += found
        if problems:
            raise ConfigError(problems)
        parse_indi_address(cfg.address, owner=name)
        kwargs.update((key, context[key]) for key in ("clock", "events")
                      if context.get(key) is not None)
        return cls(name, address=cfg.address, device=device, **kwargs)

    # ------------------------------------------------------------- connection
    @property
    def connection(self) -> IndiConnection:
        if self._connection is None:
            raise IndiConnectionError(f"{self.kind} {self.name!r} has no INDI connection")
        return self._connection

    async def _connect(self) -> None:
        self._connection = acquire(self.address)
        try:
            await self._connect_device()
            self._info = await self._read_info()
        except BaseException:
            await self._drop_connection()
            raise
        log.info("connected to INDI %s %r at %s", self.kind, self.indi_device, self.address,
                 extra={"device": self.name})

    async def _connect_device(self) -> None:
        """Wait for the server and the device, switch the device on, wait for its
        properties (:attr:`required`)."""
        connection = self.connection
        await connection.wait_up(self.connect_timeout_s)
        connection.get_properties(self.indi_device)
        switch = await connection.wait_for(
            lambda: connection.store.get(self.indi_device, "CONNECTION"),
            self.connect_timeout_s,
            f"INDI device {self.indi_device!r} (is its driver running on the server?)")
        if not switch.elements.get("CONNECT") or not switch["CONNECT"] \
                or switch.state != "Ok":
            connection.send_new(switch, {"CONNECT": True, "DISCONNECT": False})

        def connected() -> bool:
            vector = connection.store.get(self.indi_device, "CONNECTION")
            if vector is not None and vector.state == "Alert":
                raise IndiAlertError(f"INDI device {self.indi_device!r} did not connect: "
                                     f"{vector.message or 'Alert'}")
            return vector is not None and vector["CONNECT"] is True and vector.state == "Ok"

        await connection.wait_for(connected, self.connect_timeout_s,
                                  f"INDI device {self.indi_device!r} connecting")
        await self._definitions_sent()
        for name in self.required:
            await connection.wait_for(
                lambda n=name: connection.store.get(self.indi_device, n),
                self.connect_timeout_s,
                f"property {name} of INDI device {self.indi_device!r}")
        self._generation = connection.generation

    async def _definitions_sent(self) -> None:
        """Wait until the driver has sent what it defines on connecting.

        INDI marks no end of that burst, but a driver handles requests in order: it is
        asked for its ``CONNECTION`` property once more, and its answer (a new
        definition) comes after the definitions of its connect. A server that does not
        answer within :data:`BARRIER_TIMEOUT_S` is not waited for longer.
        """
        connection = self.connection
        before = connection.store.get(self.indi_device, "CONNECTION")
        connection.get_properties(self.indi_device, "CONNECTION")

        def answered() -> bool:
            now = connection.store.get(self.indi_device, "CONNECTION")
            return now is not None and now is not before

        try:
            await connection.wait_for(answered, min(BARRIER_TIMEOUT_S, self.connect_timeout_s),
                                      f"INDI device {self.indi_device!r} definitions")
        except DeviceTimeoutError:
            log.info("INDI device %r did not answer a second getProperties; going on",
                     self.indi_device, extra={"device": self.name})

    async def _disconnect(self) -> None:
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await release(connection)

    async def _read_info(self) -> Snapshot | None:
        """Read the kind's static info (once per connection); None if the kind has none."""
        return None

    async def info(self) -> Any:
        """The static info read at connect."""
        return self._info

    # ------------------------------------------------------------- properties
    def has(self, name: str) -> bool:
        """Whether the device has property ``name`` now."""
        connection = self._connection
        return connection is not None and connection.store.get(self.indi_device,
                                                                name) is not None

    def vector(self, name: str) -> Vector:
        """Property ``name`` as last described (see the module docstring for errors)."""
        connection = self.connection
        if not connection.up:
            raise IndiConnectionError(
                f"{self.kind} {self.name!r}: INDI server {connection.address} is not "
                f"connected{': ' + connection.last_error if connection.last_error else ''}")
        if connection.generation != self._generation:
            raise IndiConnectionError(
                f"{self.kind} {self.name!r}: the link to INDI server {connection.address} "
                "was lost and made again since this device connected; connect again")
        vector = connection.store.get(self.indi_device, name)
        if vector is None:
            raise NotImplementedByDeviceError(
                f"{self.kind} {self.name!r}: INDI device {self.indi_device!r} has no "
                f"property {name}")
        return vector

    def value(self, name: str, element: str, default: Any = _REQUIRED) -> Any:
        """One element's value; ``default`` (if given) when the device lacks the property."""
        try:
            return self.vector(name)[element]
        except NotImplementedByDeviceError:
            if default is _REQUIRED:
                raise
            return default

    async def send(self, name: str, values: dict[str, Any], *, wait: bool = False,
                   busy_ok: bool = False, timeout_s: float | None = None,
                   done: Callable[[Vector], bool] | None = None) -> Vector:
        """Set elements of property ``name`` (``new*Vector``).

        With ``wait``, return once the server has answered and (unless ``busy_ok``: a
        motion it has started is enough) the property is no longer Busy (``timeout_s``
        real seconds, default the device's timeout); :class:`IndiAlertError` if it turns
        Alert. Without, return once sent. ``done(vector)`` tells an answer from an update
        the driver sent before it read the request (a periodic one): a Busy update
        counts, a settled one only if ``done`` sees the request's effect.
        """
        vector = self.vector(name)
        if vector.perm == "ro":
            raise NotImplementedByDeviceError(
                f"{self.kind} {self.name!r}: property {name} of INDI device "
                f"{self.indi_device!r} is read-only")
        unknown = [key for key in values if key not in vector.elements]
        if unknown:
            raise NocturnaError(f"{self.kind} {self.name!r}: property {name} has no "
                                f"element {', '.join(unknown)} (it has "
                                f"{', '.join(vector.elements)})")
        before = vector.updates
        self.connection.send_new(vector, values)
        if wait:
            return await self.wait_answered(name, before, timeout_s, busy_ok=busy_ok,
                                            done=done)
        return vector

    async def wait_answered(self, name: str, after: int, timeout_s: float | None = None,
                            *, busy_ok: bool = False,
                            done: Callable[[Vector], bool] | None = None) -> Vector:
        """Wait for an update of ``name`` past update count ``after`` and, unless
        ``busy_ok``, for its state to leave Busy (see :meth:`send`)."""
        connection = self.connection

        def settled() -> Vector | None:
            vector = self.vector(name)
            if vector.updates <= after:
                return None
            if vector.state == "Alert":
                raise IndiAlertError(
                    f"{self.kind} {self.name!r}: INDI device {self.indi_device!r} set "
                    f"{name} to Alert{': ' + vector.message if vector.message else ''}")
            if vector.state == "Busy":
                return vector if busy_ok else None
            return vector if done is None or done(vector) else None

        return await connection.wait_for(
            settled, self.timeout_s if timeout_s is None else timeout_s,
            f"{self.indi_device!r} {name} answered")
