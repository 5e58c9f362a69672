"""PtyHost: a protocol simulator on /dev/pts/N, opened like a serial port by other
programs (a raw peer, a peer that sets TIOCEXCL and reconnects, nocturna's own driver)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import termios
import tty

import pytest

from nocturna.core.clock import RealClock
from nocturna.core.events import EventBus
from nocturna.devices.ioptron.mount import IoptronMount
from nocturna.devices.ioptron.simulator import IoptronSimulator
from nocturna.devices.serial.pty_host import PtyHost
from nocturna.devices.serial.simulator import ProtocolSimulator
from nocturna.devices.sim.mount import SimMount

PEER = r"""
import fcntl, os, select, sys, termios, tty
path = sys.argv[1]
for attempt in range(2):  # INDI's tty_connect: open, raw, TIOCEXCL; talk; close; again
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    fcntl.ioctl(fd, termios.TIOCEXCL)
    os.write(fd, b"ping\n")
    assert select.select([fd], [], [], 10)[0], "no reply"
    print(os.read(fd, 100).decode().strip(), flush=True)
    os.close(fd)
"""


class Upper(ProtocolSimulator):
    """Answers each line in capitals (and counts its starts and stops)."""

    kind = "upper"

    def __init__(self) -> None:
        super().__init__()
        self.buffer = b""
        self.started = self.stopped = 0

    def receive(self, data: bytes) -> None:
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.send(line.upper() + b"\n")

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1


def exchange(path: str, data: bytes) -> bytes:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        os.write(fd, data)
        reply = b""
        while not reply.endswith(b"\n"):
            assert select.select([fd], [], [], 10)[0], f"no reply from {path}"
            reply += os.read(fd, 100)
        return reply
    finally:
        os.close(fd)


def test_a_peer_talks_to_the_simulator_closes_and_comes_back():
    simulator = Upper()
    with PtyHost(simulator) as host:
        assert host.path.startswith("/dev/pts/") and os.path.exists(host.path)
        assert exchange(host.path, b"hello\n") == b"HELLO\n"
        assert exchange(host.path, b"again\n") == b"AGAIN\n"  # the service outlives a peer
        assert (simulator.started, simulator.stopped) == (1, 0)
    assert simulator.stopped == 1
    with pytest.raises(OSError):
        os.open(host.path, os.O_RDWR | os.O_NOCTTY)


def test_a_peer_that_takes_the_port_exclusively_can_open_it_again():
    """INDI sets TIOCEXCL; on a pty that flag outlives the peer. As root it binds nobody,
    so the peer runs as an ordinary user (nobody) when the test runs as root."""
    with PtyHost(Upper()) as host:
        command = [sys.executable, "-c", PEER, host.path]
        if os.geteuid() == 0:
            os.chmod(host.path, 0o666)
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["PING", "PING"]


async def test_nocturna_driver_opens_the_pty_like_a_port():
    clock = RealClock()
    sky = SimMount("cem60", clock=clock, events=EventBus())
    with PtyHost(IoptronSimulator(sky, clock=clock, model="0060")) as host:
        mount = IoptronMount("mount0", port=host.path, model="CEM60", clock=clock,
                             site=(sky.latitude_deg, sky.longitude_deg, 0.0))
        await mount.connect()
        try:
            assert mount.model_name == "CEM60"
            state = await mount.state()
            assert state.at_park and abs(state.alt_deg - sky.latitude_deg) < 0.01
            await mount.unpark()
            assert not (await sky.state()).at_park
        finally:
            await mount.disconnect()
        # the port is free again, for another program
        fd = os.open(host.path, os.O_RDWR | os.O_NOCTTY)
        assert termios.tcgetattr(fd)
        os.close(fd)
