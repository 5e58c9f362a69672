"""Protocol simulators: a device's side of a serial line, byte for byte.

A :class:`ProtocolSimulator` takes the bytes a driver writes (:meth:`~ProtocolSimulator.
receive`) and answers with :meth:`~ProtocolSimulator.send`, on nocturna's clock, so a
driver runs unchanged against it: no hardware and no mocking of the driver. A
:class:`SimulatorHost` serves one simulator on a file descriptor from an event loop; the
``nocturna-sim://`` URL handler gives it a socket pair (:mod:`.protocol_nocturna-sim`),
``pty_host`` a pseudo-terminal that other programs (INDI's drivers) open like a port.

URLs: ``nocturna-sim://KIND?option=value`` makes a fresh simulator of ``KIND``
(:data:`SIMULATOR_KINDS`), its options passed as strings; ``nocturna-sim://KIND/NAME``
serves the instance registered as ``NAME`` with :func:`register_simulator` (a simulated
run registers simulators that wrap the unit's physical simulators).

Every simulator can be made to fail, for the drivers' tests: :meth:`~ProtocolSimulator.
go_silent` (it stops answering, as if unpowered) and :meth:`~ProtocolSimulator.
garble_next` (its next replies come corrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import ConfigError

log = logging.getLogger("nocturna.devices.serial")

SIMULATOR_KINDS: dict[str, str] = {
    "ioptron": "nocturna.devices.ioptron.simulator:IoptronSimulator",
    "astrohaven": "nocturna.devices.astrohaven.simulator:AstrohavenSimulator",
    "weather_board": "nocturna.devices.boards.weather_sim:WeatherBoardSimulator",
    "power_board": "nocturna.devices.boards.power_sim:PowerBoardSimulator",
}
"""Simulator kind → "module:Class"."""

_REGISTERED: weakref.WeakValueDictionary[str, ProtocolSimulator] = \
    weakref.WeakValueDictionary()
"""Registered simulators; whoever registers one keeps it alive (a unit's DeviceSet)."""


class ProtocolSimulator:
    """Base of the protocol simulators (see the module docstring)."""

    kind: ClassVar[str] = ""

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock
        self._output: Callable[[bytes], None] | None = None
        self.silent = False
        self._garble = 0

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    # ------------------------------------------------------------ the wire
    def receive(self, data: bytes) -> None:
        """Bytes the driver wrote (any chunking: frame them yourself)."""
        raise NotImplementedError

    def send(self, data: bytes) -> None:
        """Bytes toward the driver (dropped while silent, corrupted while garbling)."""
        if self.silent or not data:
            return
        if self._garble:
            self._garble -= 1
            data = self.garbled(data)
        if self._output is not None:
            self._output(data)

    def garbled(self, data: bytes) -> bytes:
        """``data`` corrupted (subclasses may corrupt in a protocol-aware way)."""
        return b"\x15?" + bytes(reversed(data[1:])) + b"~"

    def attach(self, output: Callable[[bytes], None] | None) -> None:
        """Where :meth:`send` delivers (None: nowhere, nobody is connected)."""
        self._output = output

    def deliver(self, data: bytes) -> None:
        """The host's entry point: :meth:`receive`, unless silent."""
        if not self.silent:
            self.receive(data)

    # ------------------------------------------------------------ life
    async def start(self) -> None:
        """The host opened the line (connect the physical simulator behind it)."""

    async def stop(self) -> None:
        """The host closed the line."""

    async def run(self) -> None:
        """Unprompted output (status bytes, board lines) until cancelled."""

    # ------------------------------------------------------------ faults
    def go_silent(self, silent: bool = True) -> None:
        """Stop (or resume) answering and emitting, as a device without power."""
        self.silent = silent

    def garble_next(self, count: int = 1) -> None:
        """Corrupt the next ``count`` pieces this simulator sends."""
        self._garble = count


def register_simulator(name: str, simulator: ProtocolSimulator) -> str:
    """Serve ``simulator`` as ``nocturna-sim://KIND/NAME``; returns that URL."""
    _REGISTERED[name] = simulator
    return f"nocturna-sim://{simulator.kind}/{name}"


def unregister_simulator(name: str) -> None:
    _REGISTERED.pop(name, None)


def simulator_class(kind: str) -> type[ProtocolSimulator]:
    target = SIMULATOR_KINDS.get(kind)
    if target is None:
        raise ConfigError(f"nocturna-sim://{kind}: no such simulator (kinds: "
                          f"{', '.join(sorted(SIMULATOR_KINDS))})")
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def simulator_for_url(url: str) -> ProtocolSimulator:
    """The simulator a ``nocturna-sim://`` URL names (see the module docstring)."""
    parts = urlsplit(url)
    kind, name = parts.netloc, parts.path.strip("/")
    if name:
        simulator = _REGISTERED.get(name)
        if simulator is None or simulator.kind != kind:
            known = ", ".join(sorted(n for n, s in _REGISTERED.items() if s.kind == kind))
            raise ConfigError(f"{url}: no {kind} simulator registered as {name!r} "
                              f"(registered: {known or 'none'})")
        return simulator
    cls = simulator_class(kind)
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"{url}: bad simulator options: {exc}") from exc


class SimulatorHost:
    """Serves one simulator on a file descriptor from an event loop.

    Reads what the driver wrote from ``fd`` into :meth:`ProtocolSimulator.deliver`,
    writes what the simulator sends to ``fd``, and runs its :meth:`~ProtocolSimulator.
    run` task. Input that arrives before :meth:`ProtocolSimulator.start` has finished is
    held and delivered in order after it.
    """

    def __init__(self, simulator: ProtocolSimulator, fd: int,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.simulator = simulator
        self.fd = fd
        self.loop = loop
        self._held: bytearray | None = bytearray()
        self._out = bytearray()
        self._tasks: list[asyncio.Task[Any]] = []
        self.closed = False

    def begin(self) -> None:
        """Start serving (call on the loop's thread)."""
        os.set_blocking(self.fd, False)
        self.simulator.attach(self._write)
        self.loop.add_reader(self.fd, self._readable)
        self._tasks.append(self.loop.create_task(self._start(), name="simulator start"))

    async def _start(self) -> None:
        try:
            await self.simulator.start()
        finally:
            held, self._held = self._held, None
            if held and not self.closed:
                self.simulator.deliver(bytes(held))
        if not self.closed:
            self._tasks.append(self.loop.create_task(self.simulator.run(),
                                                     name="simulator run"))

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # the peer went away
            data = b""
        if not data:
            self.end()
            return
        if self._held is not None:
            self._held += data
            return
        try:
            self.simulator.deliver(data)
        except Exception:  # a simulator bug must not take the loop down
            log.exception("%s simulator failed on %r", self.simulator.kind, data)

    def _write(self, data: bytes) -> None:
        if self.closed:
            return
        self._out += data
        self._flush()

    def _flush(self) -> None:
        try:
            sent = os.write(self.fd, self._out)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._out.clear()
            return
        del self._out[:sent]
        if self._out:
            self.loop.add_writer(self.fd, self._flush)
        else:
            self.loop.remove_writer(self.fd)

    def end(self) -> None:
        """Stop serving (idempotent); the simulator's ``stop`` runs as a task."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.fd)
            self.loop.remove_writer(self.fd)
        for task in self._tasks:
            task.cancel()
        self.simulator.attach(None)
        if not self.loop.is_closed():
            self.loop.create_task(self.simulator.stop(), name="simulator stop")
        with contextlib.suppress(OSError):
            os.close(self.fd)


class BackgroundLoop:
    """An event loop in a daemon thread, for simulators opened outside any loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="nocturna-sim")
        self.thread.start()

    def call(self, func: Callable[[], Any]) -> Any:
        """Run ``func`` on the loop's thread and return its result."""
        done = threading.Event()
        result: list[Any] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                result.append(func())
            except BaseException as exc:  # handed to the caller's thread
                failure.append(exc)
            finally:
                done.set()

        self.loop.call_soon_threadsafe(run)
        done.wait()
        if failure:
            raise failure[0]
        return result[0]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()
