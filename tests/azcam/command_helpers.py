"""A small tool set and a line client for testing the azcam command server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from nocturna.azcam.remote import remote
from nocturna.core.listen import loop_factory


def event_loops() -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """asyncio's default event loop and, when it is another, the one nocturna's servers
    and CLI run (uvloop when installed), by name."""
    loops: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop}
    cli_loop = loop_factory()
    if cli_loop is not asyncio.new_event_loop:
        loops[cli_loop.__module__.split(".")[0]] = cli_loop
    return loops


class DemoTool:
    """Remote methods of every argument kind, plus one that is not remote."""

    name = "demo"

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.release = asyncio.Event()

    @remote
    def add(self, a: int, b: float = 0.5) -> float:
        return a + b

    @remote
    def words(self) -> list[Any]:
        return ["one", "two words", 3, ""]

    @remote
    def status(self) -> dict[str, Any]:
        return {"state": "idle", "left": 1.5, "bad": float("nan")}

    @remote
    def nothing(self) -> None:
        self.calls.append(("nothing", None))

    @remote
    def say(self, text: str, loud: bool = False, times: int | None = None) -> str:
        return (text.upper() if loud else text) * (times or 1)

    @remote
    async def wait(self) -> str:
        await self.release.wait()
        return "released"

    @remote
    def fail(self) -> None:
        raise RuntimeError("tool bug")

    @remote
    def fail_silently(self) -> None:
        raise NotImplementedError  # no message, as uvloop's missing sendfile raised

    def secret(self) -> str:  # not remote: must be unreachable
        return "leaked"


class LineClient:
    """Sends request lines and reads CRLF reply lines."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> LineClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def reply(self) -> str:
        line = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), 10)
        return line[:-2].decode()

    async def ask(self, line: str | bytes) -> str:
        data = line if isinstance(line, bytes) else line.encode()
        self.writer.write(data + b"\n")
        return await self.reply()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()
