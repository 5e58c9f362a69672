"""pyserial URL handler ``nocturna-sim://KIND[/NAME][?option=value]``: a protocol simulator.

``serial.serial_for_url("nocturna-sim://ioptron")`` gives a port whose other end is a
:class:`~nocturna.devices.serial.simulator.ProtocolSimulator` (see that module for the
URL forms). The two ends are a socket pair, so the port has a file descriptor like a
real one: nocturna's :class:`~nocturna.devices.serial.line.SerialLine` watches it on
its loop, and blocking pyserial use (a script, ``miniterm``) works too. Opened while an
event loop runs in this thread, the simulator runs on that loop (on a simulated night,
on its virtual time); otherwise on a background loop thread, in real time.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import termios
import threading
import time
from typing import Any

from serial import SerialBase, SerialException, SerialTimeoutException

from nocturna.core.errors import ConfigError
from nocturna.devices.serial.simulator import BackgroundLoop, SimulatorHost, simulator_for_url

_background: BackgroundLoop | None = None
_background_lock = threading.Lock()


def _background_loop() -> BackgroundLoop:
    global _background
    with _background_lock:
        if _background is None:
            _background = BackgroundLoop()
        return _background


class Serial(SerialBase):
    """A port whose far end is a protocol simulator."""

    _socket: socket.socket | None = None
    _host: SimulatorHost | None = None

    def open(self) -> None:
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise SerialException("Port is already open.")
        try:
            simulator = simulator_for_url(self._port)
        except ConfigError as exc:
            raise SerialException(str(exc)) from exc
        driver_end, simulator_end = socket.socketpair()
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        background = None if loop is not None else _background_loop()
        host = SimulatorHost(simulator, simulator_end.detach(),
                             loop if loop is not None else background.loop)  # type: ignore[union-attr]
        if background is None:
            host.begin()
        else:
            background.call(host.begin)
        self._socket, self._host = driver_end, host
        self.is_open = True

    def close(self) -> None:
        host, sock = self._host, self._socket
        self._host, self._socket = None, None
        self.is_open = False
        if host is not None:
            if host.loop.is_closed():
                host.closed = True
            else:
                try:
                    running = asyncio.get_running_loop()
                except RuntimeError:
                    running = None
                if running is host.loop:
                    host.end()
                else:
                    host.loop.call_soon_threadsafe(host.end)
        if sock is not None:
            sock.close()

    def _reconfigure_port(self, *args: Any, **kwargs: Any) -> None:
        """Baud rate and framing mean nothing on a socket pair."""

    def fileno(self) -> int:
        if self._socket is None:
            raise SerialException("port not open")
        return self._socket.fileno()

    @property
    def in_waiting(self) -> int:
        if self._socket is None:
            raise SerialException("port not open")
        size = bytearray(4)
        fcntl.ioctl(self._socket.fileno(), termios.FIONREAD, size)
        return int.from_bytes(size, "little")

    def read(self, size: int = 1) -> bytes:
        if self._socket is None:
            raise SerialException("port not open")
        data = bytearray()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while len(data) < size:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._socket.settimeout(remaining)
            try:
                chunk = self._socket.recv(size - len(data))
            except (TimeoutError, BlockingIOError):
                break
            if not chunk:
                raise SerialException("the simulator closed the line")
            data += chunk
            if remaining == 0.0:
                break
        return bytes(data)

    def write(self, data: bytes) -> int:
        if self._socket is None:
            raise SerialException("port not open")
        self._socket.settimeout(self._write_timeout or None)
        try:
            self._socket.sendall(data)
        except TimeoutError as exc:
            raise SerialTimeoutException("write timeout") from exc
        return len(data)

    def reset_input_buffer(self) -> None:
        while self._socket is not None and self.in_waiting:
            self._socket.recv(65536)

    def reset_output_buffer(self) -> None:
        """Nothing is buffered on this side."""

    def send_break(self, duration: float = 0.25) -> None:
        """A break means nothing to a simulator."""

    def _update_break_state(self) -> None:
        """No break line."""

    def _update_rts_state(self) -> None:
        """No RTS line."""

    def _update_dtr_state(self) -> None:
        """No DTR line."""

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True
