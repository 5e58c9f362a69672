"""The serial transport: real ptys, sockets, pyserial URLs and the simulator handler."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import subprocess
import sys
import threading
import tty

import pytest
import serial
import uvloop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocturna.core.errors import ConfigError, DeviceTimeoutError
from nocturna.devices.serial import simulator as simulators
from nocturna.devices.serial.line import (
    SerialLine,
    SerialLinkError,
    SerialProtocolError,
    SerialTimeoutError,
)
from nocturna.devices.serial.simulator import (
    ProtocolSimulator,
    register_simulator,
    unregister_simulator,
)


class EchoSimulator(ProtocolSimulator):
    """Answers each ``\\r``-ended command with ``<COMMAND>#``, ``delay_s`` later on its
    clock; says ``tick\\n`` every second once asked to (``T\\r``)."""

    kind = "echo"

    def __init__(self, *, clock=None, delay_s: str | float = 0) -> None:
        super().__init__(clock=clock)
        self.delay_s = float(delay_s)
        self.received = bytearray()
        self.started = self.stopped = 0
        self.ticking = False

    def receive(self, data: bytes) -> None:
        self.received += data
        while b"\r" in self.received:
            command, _, rest = bytes(self.received).partition(b"\r")
            self.received[:] = rest
            if command == b"T":
                self.ticking = True
            elif self.delay_s:
                asyncio.get_running_loop().create_task(self._later(command))
            else:
                self.send(command.upper() + b"#")

    async def _later(self, command: bytes) -> None:
        await self.clock.sleep(self.delay_s)
        self.send(command.upper() + b"#")

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    async def run(self) -> None:
        while True:
            await self.clock.sleep(1.0)
            if self.ticking:
                self.send(b"tick\n")


@pytest.fixture
def echo_kind(monkeypatch):
    monkeypatch.setitem(simulators.SIMULATOR_KINDS, "echo",
                        f"{EchoSimulator.__module__}:EchoSimulator")


@pytest.fixture
def pty_pair():
    """(master fd, slave path) of a raw pseudo-terminal; the test owns the master."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)
    yield master, path
    with contextlib.suppress(OSError):
        os.close(master)


def _master_reader(master: int) -> bytes:
    out = bytearray()
    while True:
        try:
            out += os.read(master, 1024)
        except BlockingIOError:
            return bytes(out)


# ------------------------------------------------------------------ a real pty
async def test_pty_framed_reads_and_writes(pty_pair):
    master, path = pty_pair
    line = SerialLine(path, baudrate=115200, name="mount")
    await line.open()
    try:
        line.write(b":GLS#")
        await asyncio.sleep(0.05)
        os.set_blocking(master, False)
        assert _master_reader(master) == b":GLS#"
        os.write(master, b"0123")
        os.write(master, b"45#extra")
        assert await line.read_until(b"#", timeout_s=2) == b"012345#"
        assert await line.read_exactly(3, timeout_s=2) == b"ext"
        assert await line.read_some(timeout_s=2) == b"ra"
        os.write(master, b'{"a": 1}\r\n{"b"')
        assert await line.read_line(timeout_s=2) == b'{"a": 1}'
        with pytest.raises(SerialTimeoutError) as caught:
            await line.read_line(timeout_s=0.2)
        assert path in str(caught.value) and "b'{\"b\"'" in str(caught.value)
        assert isinstance(caught.value, DeviceTimeoutError)
        assert line.discard_input() == b'{"b"'
    finally:
        await line.close()
    assert not line.is_open


async def test_requests_take_turns_and_drop_stale_input(pty_pair):
    master, path = pty_pair
    line = SerialLine(path, name="mount")
    await line.open()
    os.set_blocking(master, False)
    seen: list[bytes] = []

    async def device() -> None:  # answers each command after a pause, in order
        while len(seen) < 2:
            await asyncio.sleep(0.02)
            data = _master_reader(master)
            for command in data.split(b"#")[:-1]:
                seen.append(command)
                await asyncio.sleep(0.05)
                os.write(master, command[1:] + b"!")

    try:
        os.write(master, b"stale")
        await asyncio.sleep(0.05)
        answering = asyncio.create_task(device())
        first, second = await asyncio.gather(
            line.request(b":one#", until=b"!", timeout_s=2),
            line.request(b":two#", until=b"!", timeout_s=2))
        await answering
        assert (first, second) == (b"one!", b"two!")
        assert seen == [b":one", b":two"]  # the second was written after the first reply
        assert await line.request(b":none#", size=0) == b""
        with pytest.raises(ValueError, match="exactly one"):
            await line.request(b":x#", timeout_s=1)
    finally:
        await line.close()


async def test_unplugged_port_raises_link_error_and_reopens(pty_pair):
    master, path = pty_pair
    line = SerialLine(path, name="mount")
    await line.open()
    os.close(master)  # the adapter is gone: the slave reads EIO / end of file
    with pytest.raises(SerialLinkError, match="mount: port"):
        await line.read_until(b"#", timeout_s=5)
    assert not line.is_open
    with pytest.raises(SerialLinkError, match="cannot write"):
        line.write(b"x")
    with pytest.raises(SerialLinkError, match="cannot open port"):
        await line.open()  # the device node is gone too


async def test_a_port_is_open_once(pty_pair):
    _, path = pty_pair
    first, second = SerialLine(path, name="mount"), SerialLine(path, name="dome")
    await first.open()
    try:
        with pytest.raises(SerialLinkError, match=r"already open \(by 'mount'"):
            await second.open()
        # another process holding the port (pyserial's exclusive lock) is refused too
        await first.close()
        holder = subprocess.Popen(
            [sys.executable, "-c", "import serial,sys; p=serial.Serial(sys.argv[1], "
             "exclusive=True); print('held', flush=True); sys.stdin.read()", path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(SerialLinkError, match="busy"):
                await second.open()
        finally:
            holder.communicate("")
        await second.open()
        await second.close()
    finally:
        await first.close()


async def test_missing_port_and_bad_settings_are_named():
    with pytest.raises(SerialLinkError, match="/dev/ttyNOPE0: no such device"):
        await SerialLine("/dev/ttyNOPE0", name="mount").open()
    with pytest.raises(ConfigError, match=r"mount\.baudrate: 1234"):
        SerialLine("/dev/ttyUSB0", baudrate=1234, name="mount")
    with pytest.raises(ConfigError, match=r"mount\.port"):
        SerialLine("", name="mount")


async def test_traffic_is_logged_at_debug_level(pty_pair, caplog):
    master, path = pty_pair
    line = SerialLine(path, name="mount")
    await line.open()
    try:
        with caplog.at_level(logging.DEBUG, logger="nocturna.devices.serial"):
            line.write(b":GUT#")
            os.write(master, b"ok#")
            await line.read_until(b"#", timeout_s=2)
    finally:
        await line.close()
    text = caplog.text
    assert "mount → b':GUT#'" in text and "mount ← b'ok#'" in text


def test_framing_holds_on_uvloop(pty_pair):
    master, path = pty_pair

    async def main() -> bytes:
        line = SerialLine(path, name="mount")
        await line.open()
        try:
            os.write(master, b"12")
            asyncio.get_running_loop().call_later(0.05, os.write, master, b"34#")
            return await line.read_until(b"#", timeout_s=2)
        finally:
            await line.close()

    assert uvloop.run(main()) == b"1234#"


# ------------------------------------------------------------------ pyserial URLs
async def test_socket_url_and_reconnect():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []

    def accept(count: int) -> None:
        for _ in range(count):
            conn, _ = server.accept()
            accepted.append(conn)
            conn.sendall(conn.recv(64)[::-1])

    acceptor = threading.Thread(target=accept, args=(2,), daemon=True)
    acceptor.start()
    line = SerialLine(f"socket://127.0.0.1:{port}", name="board")
    try:
        await line.open()
        assert await line.request(b"#abc", until=b"#", timeout_s=2) == b"cba#"
        accepted[0].close()  # the far end drops: the line is lost...
        with pytest.raises(SerialLinkError):
            await line.read_some(timeout_s=5)
        await line.open()  # ...and opens again
        assert await line.request(b"#xy", until=b"#", timeout_s=2) == b"yx#"
    finally:
        await line.close()
        acceptor.join(5)
        for conn in accepted:
            conn.close()
        server.close()


async def test_loop_url_without_a_file_descriptor_is_polled():
    line = SerialLine("loop://", name="loopback")
    await line.open()
    try:
        assert await line.request(b"hello\n", until=b"\n", timeout_s=2) == b"hello\n"
    finally:
        await line.close()


# ------------------------------------------------------------------ nocturna-sim://
@pytest.mark.virtual_time
async def test_simulator_answers_on_virtual_time(echo_kind):
    loop = asyncio.get_running_loop()
    line = SerialLine("nocturna-sim://echo?delay_s=30", name="sim")
    await line.open()
    try:
        began = loop.time()
        assert await line.request(b"ping\r", until=b"#", timeout_s=60) == b"PING#"
        assert loop.time() - began == pytest.approx(30)  # simulated, not waited for
        with pytest.raises(SerialTimeoutError, match="waited 10 s"):
            await line.request(b"slow\r", until=b"#", timeout_s=10)
        line.write(b"T\r")
        assert await line.read_line(timeout_s=5) == b"tick"
    finally:
        await line.close()


async def test_registered_simulator_survives_reconnects_and_fails_on_demand():
    echo = EchoSimulator()
    url = register_simulator("echo-1", echo)
    assert url == "nocturna-sim://echo/echo-1"
    line = SerialLine(url, name="sim")
    try:
        await line.open()
        assert await line.request(b"a\r", until=b"#", timeout_s=2) == b"A#"
        echo.go_silent()
        with pytest.raises(SerialTimeoutError):
            await line.request(b"b\r", until=b"#", timeout_s=0.2)
        echo.go_silent(False)
        echo.garble_next()
        garbled = await line.request(b"cd\r", until=b"~", timeout_s=2)
        assert garbled != b"CD#"
        assert await line.request(b"e\r", until=b"#", timeout_s=2) == b"E#"
        await line.close()
        await asyncio.sleep(0.01)
        assert echo.stopped == 1
        await line.open()
        assert await line.request(b"f\r", until=b"#", timeout_s=2) == b"F#"
        assert echo.started == 2
    finally:
        await line.close()
        unregister_simulator("echo-1")


async def test_unknown_simulators_are_named():
    with pytest.raises(SerialLinkError, match=r"no such simulator.*kinds: .*ioptron"):
        await SerialLine("nocturna-sim://toaster", name="x").open()
    with pytest.raises(SerialLinkError, match="no ioptron simulator registered as 'm9'"):
        await SerialLine("nocturna-sim://ioptron/m9", name="x").open()


def test_blocking_pyserial_use_runs_the_simulator_on_a_thread(echo_kind):
    port = serial.serial_for_url("nocturna-sim://echo", timeout=2)
    try:
        port.write(b"hi\r")
        assert port.read_until(b"#") == b"HI#"
        assert port.in_waiting == 0
    finally:
        port.close()


# ------------------------------------------------------------------ framing, fuzzed
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(st.binary(max_size=20).map(lambda b: b.replace(b"#", b"")),
                       min_size=1, max_size=6),
       cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_frames_survive_any_chunking(frames, cuts):
    stream = b"".join(frame + b"#" for frame in frames)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]

    async def main() -> list[bytes]:
        line = SerialLine("loop://", name="fuzz")
        await line.open()
        try:
            for chunk in chunks:
                line._received(chunk)
            return [await line.read_until(b"#", timeout_s=1) for _ in frames]
        finally:
            await line.close()

    assert asyncio.run(main()) == [frame + b"#" for frame in frames]


async def test_a_reply_without_its_terminator_is_a_protocol_error(monkeypatch):
    monkeypatch.setattr("nocturna.devices.serial.line.MAX_FRAME", 16)
    line = SerialLine("loop://", name="noisy")
    await line.open()
    try:
        line._received(b"x" * 40)
        with pytest.raises(SerialProtocolError, match=r"no a reply ending b'#' in 16 bytes"):
            await line.read_until(b"#", timeout_s=1)
    finally:
        await line.close()
