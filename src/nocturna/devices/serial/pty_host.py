"""Serve a protocol simulator on a pseudo-terminal, for programs that open a port path.

``with PtyHost(simulator) as host:`` gives ``host.path`` (``/dev/pts/N``), which any
program opens like a serial port: INDI's drivers under ``indiserver``, pyserial,
nocturna's own :class:`~nocturna.devices.serial.line.SerialLine`. The simulator runs on
an event loop of its own in a background thread, in real time (give it a real clock),
served by :class:`~nocturna.devices.serial.simulator.SimulatorHost` on the master side.

Pseudo-terminal details that matter to such peers:

* the host keeps a slave descriptor of its own open (in raw mode) for its whole life:
  reading the master of a pty whose slave nobody holds fails with ``EIO``, and without
  it every peer that closes the port would end the service;
* INDI's ``tty_connect`` sets ``TIOCEXCL`` on the slave, and on a pty that flag outlives
  the peer (the master keeps the terminal alive), so a peer that is not root could never
  open the port again. The host clears it (``TIOCNXCL``) whenever the peer writes: a
  real port's exclusivity ends when its holder closes it, and reconnecting works;
* nothing is written before a peer asks (simulators answer, they do not chatter), since
  a slave still in its initial cooked mode would echo it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import termios
import tty
from typing import Self

from nocturna.devices.serial.simulator import BackgroundLoop, ProtocolSimulator, SimulatorHost

STOP_S = 10.0
"""How long stopping waits for the simulator's ``stop()`` (real seconds)."""


class _PtyServer(SimulatorHost):
    """A :class:`SimulatorHost` on a pty master that lifts ``TIOCEXCL`` after each read."""

    def __init__(self, simulator: ProtocolSimulator, master: int, slave: int,
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(simulator, master, loop)
        self.slave = slave

    def _readable(self) -> None:
        # Lifted before the simulator answers too: a peer that closes as soon as it has
        # its reply and opens again must not find the flag still set (EBUSY).
        self._lift_exclusive()
        super()._readable()
        self._lift_exclusive()

    def _lift_exclusive(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.ioctl(self.slave, termios.TIOCNXCL)


class PtyHost:
    """A simulator served on ``/dev/pts/N`` (see the module docstring)."""

    def __init__(self, simulator: ProtocolSimulator) -> None:
        self.simulator = simulator
        self.path = ""
        self._slave = -1
        self._loop: BackgroundLoop | None = None
        self._server: _PtyServer | None = None

    def start(self) -> Self:
        if self._loop is not None:
            raise RuntimeError(f"{self.path} is already served")
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path, self._slave = os.ttyname(slave), slave
        self._loop = BackgroundLoop()
        loop = self._loop.loop

        def begin() -> _PtyServer:
            server = _PtyServer(self.simulator, master, slave, loop)
            server.begin()
            return server

        try:
            self._server = self._loop.call(begin)
        except BaseException:
            os.close(master)
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving: the simulator's ``stop()`` runs, then the pty goes away."""
        background, self._loop = self._loop, None
        server, self._server = self._server, None
        if background is not None:
            if server is not None:
                future = asyncio.run_coroutine_threadsafe(_shutdown(server), background.loop)
                with contextlib.suppress(Exception):
                    future.result(STOP_S)
            background.stop()
        if self._slave >= 0:
            with contextlib.suppress(OSError):
                os.close(self._slave)
            self._slave = -1

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<PtyHost {self.simulator.kind} on {self.path or 'nothing'}>"


async def _shutdown(server: SimulatorHost) -> None:
    """End ``server`` and wait for what it leaves running (its simulator's ``stop``)."""
    server.end()
    current = asyncio.current_task()
    others = [task for task in asyncio.all_tasks() if task is not current]
    await asyncio.gather(*others, return_exceptions=True)
