"""What every serial driver shares: the port options, connecting, a lost port.

A driver is ``class IoptronMount(SerialDevice, Mount)``. Its device entry names the
``port`` (a device path such as ``/dev/ttyUSB0`` or ``/dev/serial/by-id/...``, or a
pyserial URL: ``socket://host:port``, ``nocturna-sim://ioptron``) and may set
``baudrate`` (the driver's :attr:`SerialDevice.default_baudrate` otherwise),
``timeout_s`` (each command), ``connect_timeout_s`` (the handshake) and
``description``; the driver's own options are its :attr:`SerialDevice.extra_options`,
handed to its ``__init__`` as keyword arguments. Any other key is a ConfigError.

Connecting opens the port and runs the driver's :meth:`SerialDevice._handshake`, which
identifies the device; disconnecting closes the port. When the port vanishes (a USB
adapter unplugged) or stops answering, commands raise (:class:`SerialLinkError`,
:class:`SerialTimeoutError`); the component owning the device then goes FAULT and its
recovery connects again, which opens the port anew.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Self

from nocturna.core.clock import Clock
from nocturna.core.errors import ConfigError
from nocturna.core.events import EventBus
from nocturna.devices.base import Device
from nocturna.devices.driver_options import driver_options
from nocturna.devices.serial.line import SerialLine

log = logging.getLogger("nocturna.devices.serial")

OPTIONS = frozenset({"baudrate", "timeout_s", "connect_timeout_s", "description"})
"""The options every serial driver takes from its device entry."""
IGNORED = frozenset({"primary", "filterwheel", "focuser", "calibrator", "spectrograph",
                     "focal_length_mm", "aperture_mm", "rotation_deg", "weather",
                     "device_number", "address", "model", "simulator"})
"""Keys of a device entry that other layers read (links, optics): not the driver's."""


class SerialDevice(Device):
    """Base of the serial drivers (see the module docstring)."""

    driver_name = "serial"
    default_baudrate: ClassVar[int] = 9600
    extra_options: ClassVar[frozenset[str]] = frozenset()
    """The driver's own entry options, passed to ``__init__`` as keyword arguments."""

    def __init__(self, name: str, *, port: str, baudrate: int | None = None,
                 description: str = "", timeout_s: float = 10.0,
                 connect_timeout_s: float = 5.0, clock: Clock | None = None,
                 events: EventBus | None = None) -> None:
        super().__init__(name, description=description, timeout_s=timeout_s, clock=clock,
                         events=events)
        self.line = SerialLine(port, baudrate=baudrate or self.default_baudrate, name=name)
        self.connect_timeout_s = float(connect_timeout_s)

    @property
    def port(self) -> str:
        return self.line.url

    @classmethod
    def from_config(cls, cfg: Any, **context: Any) -> Self:
        """Build from a device entry (see the module docstring); of the factory's
        context only ``clock`` and ``events`` are used."""
        name = cfg.name
        extra: dict[str, Any] = dict(getattr(cfg, "model_extra", None) or {})
        options = OPTIONS | cls.extra_options
        kwargs, problems = driver_options(name, cls.driver_name, extra, options=options,
                                          ignored=IGNORED - cls.extra_options,
                                          listed="port, " + ", ".join(sorted(options)))
        if not getattr(cfg, "port", None):
            problems.insert(0, f"{name}.port: a {cls.driver_name} device needs its serial "
                               "port (a device path such as /dev/ttyUSB0, or a URL such as "
                               f"nocturna-sim://{cls.simulator_kind()})")
        baudrate = kwargs.get("baudrate")
        if baudrate is not None and (isinstance(baudrate, bool)
                                     or not isinstance(baudrate, int)):
            problems.append(f"{name}.baudrate: expected a whole number, got {baudrate!r}")
        if problems:
            raise ConfigError(problems)
        kwargs.update((key, context[key]) for key in ("clock", "events")
                      if context.get(key) is not None)
        return cls(name, port=cfg.port, **kwargs)

    @classmethod
    def simulator_kind(cls) -> str:
        """The ``nocturna-sim://`` kind that simulates this driver's device."""
        return cls.driver_name

    # ------------------------------------------------------------ connection
    async def _connect(self) -> None:
        await self.line.open()
        try:
            await self._handshake()
        except BaseException:
            await self.line.close()
            raise
        log.info("connected to %s %s on %s", self.driver_name, self.kind, self.port,
                 extra={"device": self.name})

    async def _disconnect(self) -> None:
        await self.line.close()

    async def _handshake(self) -> None:
        """Identify the device and read what does not change (subclasses)."""

    @property
    def connected(self) -> bool:
        """Connected, and the port is still there (an unplugged port reads disconnected
        until the component's recovery connects again)."""
        return super().connected and self.line.is_open
