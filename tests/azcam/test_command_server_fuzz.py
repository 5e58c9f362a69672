"""Random lines thrown at the azcam command server: one OK or ERROR each, never dies."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from command_helpers import DemoTool, event_loops
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nocturna.azcam.dispatch import CommandTable
from nocturna.azcam.server import CommandServer

MAX_LINE = 4096


class ServerThread:
    """The command server on its own event loop in a thread."""

    def __init__(self, new_loop: Callable[[], asyncio.AbstractEventLoop]) -> None:
        self.ready = threading.Event()
        self.loop = new_loop()
        self.server = CommandServer(CommandTable({"demo": DemoTool()}, default_tool="demo"),
                                    port=0, max_line_bytes=MAX_LINE)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.server.close())
        self.loop.close()

    def __enter__(self) -> ServerThread:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module", params=list(event_loops().values()), ids=list(event_loops()))
def server(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    with ServerThread(request.param) as running:
        yield running


class Conn:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the server closed the connection"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def close(self) -> None:
        self.sock.close()


def _check(conn: Conn, data: bytes) -> None:
    """Send ``data`` (LF-terminated) and expect one well-formed reply per line."""
    payload = data if data.endswith(b"\n") else data + b"\n"
    conn.send(payload)
    for line in payload.split(b"\n")[:-1]:
        reply = conn.reply()
        assert reply == b"OK" or reply.startswith((b"OK ", b"ERROR ")), (line, reply)
        assert b"\n" not in reply and b"\r" not in reply


quoted_text = st.lists(st.sampled_from(
    ["demo.add", "demo.say", "add", "say", "echo", "register", "exit", "closeconnection_",
     "'", '"', "\\", "=", "a=", "=b", "x=1", "loud=yes", "times=None", " ", "\t", "é",
     "日本", "\u0000", "\r", "demo.", ".add", "demo.secret", "1", "-1", "1e999", "nan",
     "demo.wait_", "parameters.get_par", "💥"]), max_size=12).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=st.one_of(quoted_text, st.text(max_size=200)).filter(lambda s: "\n" not in s))
def test_random_text_lines_get_one_reply_each(server: ServerThread, line: str) -> None:
    if line.strip().lower().startswith("closeconnection"):
        return  # closes by design
    conn = Conn(server.server.port)
    try:
        _check(conn, line.encode("utf-8", "surrogatepass"))
        conn.send(b"demo.add 1\n")
        assert conn.reply() == b"OK 1.5"
    finally:
        conn.close()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blob=st.binary(max_size=3 * MAX_LINE))
def test_random_bytes_get_one_reply_per_line(server: ServerThread, blob: bytes) -> None:
    if any(line.strip().lower().startswith(b"closeconnection") for line in blob.split(b"\n")):
        return
    conn = Conn(server.server.port)
    try:
        _check(conn, blob)
        conn.send(b"demo.add 2\n")
        assert conn.reply() == b"OK 2.5"
    finally:
        conn.close()


def test_huge_lines_are_refused_and_the_server_goes_on(server: ServerThread) -> None:
    conn = Conn(server.server.port)
    try:
        for size in (MAX_LINE + 1, 1 << 20, 8 << 20):
            conn.send(b"demo.say " + b"\"'" * (size // 2) + b"\n")
            assert conn.reply() == f"ERROR request longer than {MAX_LINE} bytes, ignored".encode()
        conn.send(b"demo.add 3\n")
        assert conn.reply() == b"OK 3.5"
    finally:
        conn.close()
