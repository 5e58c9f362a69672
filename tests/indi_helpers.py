"""A real ``indiserver`` with Debian's INDI simulators (indi-bin), on a free port.

``with IndiServer(tmp_path, "ccd", "focuser") as server:`` starts the server with those
simulators (or drivers of :data:`HARDWARE_DRIVERS`, named explicitly) and waits until
every device has defined its ``CONNECTION`` property;
``server.address`` is ``127.0.0.1:PORT``. :meth:`IndiServer.kill` and
:meth:`IndiServer.start` (same port) stop it hard and bring it back. The simulators
keep their configuration under ``tmp_path`` (``HOME``), never in the user's ``~/.indi``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SIMULATORS = {
    "ccd": ("indi_simulator_ccd", "CCD Simulator"),
    "telescope": ("indi_simulator_telescope", "Telescope Simulator"),
    "dome": ("indi_simulator_dome", "Dome Simulator"),
    "focuser": ("indi_simulator_focus", "Focuser Simulator"),
    "wheel": ("indi_simulator_wheel", "Filter Simulator"),
    "rotator": ("indi_simulator_rotator", "Rotator Simulator"),
    "weather": ("indi_simulator_weather", "Weather Simulator"),
    "lightpanel": ("indi_simulator_lightpanel", "Light Panel Simulator"),
}
"""Short name → (the driver program, the INDI device it serves)."""
HARDWARE_DRIVERS = {
    "ioptron": ("indi_ioptronv3_telescope", "iOptronV3"),
}
"""Drivers of real hardware, started only when named (pointed at a simulator on a pty)."""


def driver(name: str) -> tuple[str, str]:
    """(program, INDI device) of a simulator or hardware driver (looked up at call time,
    so a test may add one to either table)."""
    return SIMULATORS[name] if name in SIMULATORS else HARDWARE_DRIVERS[name]

START_TIMEOUT_S = 30.0


def need_indiserver() -> None:
    """Fail (not skip) when indi-bin is missing: CI installs it (``.ci/run``)."""
    if shutil.which("indiserver") is None:
        pytest.fail("indiserver is not installed (apt-get install indi-bin)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class IndiServer:
    """An indiserver process running the named simulators (see the module docstring)."""

    def __init__(self, home: Path, *names: str, port: int | None = None) -> None:
        need_indiserver()
        self.names = names or tuple(SIMULATORS)
        self.home = home
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home / f"indiserver-{self.port}.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def device(self, name: str) -> str:
        """The INDI device name of simulator ``name`` (``"ccd"`` → ``"CCD Simulator"``)."""
        return driver(name)[1]

    def start(self) -> IndiServer:
        self.home.mkdir(parents=True, exist_ok=True)
        programs = [driver(name)[0] for name in self.names]
        # -u: a local (abstract) socket of its own; the default /tmp/indiserver is taken
        # by whichever indiserver started first, and a second one then exits.
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["indiserver", "-v", "-p", str(self.port), "-r", "0",
                 "-u", f"/tmp/indiserver-nocturna-{self.port}", *programs],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "HOME": str(self.home)})
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        wanted = {driver(name)[1] for name in self.names}
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"indiserver exited: {self.log.read_text()[-2000:]}")
            try:
                seen = self._devices_with_connection(wanted)
            except OSError:
                seen = set()
            if wanted <= seen:
                return
            time.sleep(0.1)
        raise RuntimeError(f"indiserver on {self.port} not ready: {self.log.read_text()[-2000:]}")

    def _devices_with_connection(self, wanted: set[str]) -> set[str]:
        seen: set[str] = set()
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as link:
            link.sendall(b'<getProperties version="1.7" name="CONNECTION"/>\n')
            link.settimeout(0.5)
            data = b""
            try:
                while not wanted <= seen:
                    chunk = link.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    seen = {name for name in wanted
                            if f'device="{name}"'.encode() in data}
            except TimeoutError:
                pass
        return seen

    def kill(self) -> None:
        """Stop the server and its drivers at once (SIGKILL to the process group)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def __enter__(self) -> IndiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
