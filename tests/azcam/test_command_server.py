"""The azcam command server over real TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import AsyncIterator

import pytest
from command_helpers import DemoTool, LineClient

from nocturna.azcam.dispatch import CommandTable
from nocturna.azcam.server import CommandServer


@pytest.fixture
async def served() -> AsyncIterator[tuple[CommandServer, DemoTool]]:
    tool = DemoTool()
    server = CommandServer(CommandTable({"demo": tool}, default_tool="demo"), port=0,
                           max_line_bytes=4096)
    async with server:
        yield server, tool


@pytest.fixture
async def client(served: tuple[CommandServer, DemoTool]) -> AsyncIterator[LineClient]:
    c = await LineClient.connect(served[0].port)
    yield c
    await c.close()


async def test_replies_are_ok_with_the_payload(client: LineClient) -> None:
    assert await client.ask("demo.add 2 b=0.25") == "OK 2.25"
    assert await client.ask("demo.nothing") == "OK"
    assert shlex.split((await client.ask("demo.words"))[3:]) == ["one", "two words", "3", ""]
    assert json.loads((await client.ask("demo.status"))[3:]) == {"state": "idle",
                                                                "left": 1.5, "bad": None}


async def test_bare_method_goes_to_the_default_tool(client: LineClient) -> None:
    assert await client.ask("add 1") == "OK 1.5"


async def test_crlf_and_lf_requests_both_work(client: LineClient) -> None:
    assert await client.ask(b"demo.add 1 1\r") == "OK 2.0"
    assert await client.ask(b"demo.add 1 2") == "OK 3.0"


async def test_arguments_are_converted_by_the_signature(client: LineClient) -> None:
    assert await client.ask('demo.say "a b" loud=yes times=2') == "OK A BA B"
    assert await client.ask("demo.say x times=None") == "OK x"


@pytest.mark.parametrize(("line", "message"), [
    ("demo.add", "ERROR demo.add: missing argument(s) a"),
    ("demo.add x", "ERROR demo.add: a must be an integer, got 'x'"),
    ("demo.add 1 2 3", "ERROR demo.add takes at most 2 argument(s) (a, b), got 3"),
    ("demo.add 1 c=2", "ERROR demo.add: unknown keyword 'c' (accepted: a, b)"),
    ("demo.say x loud=maybe", "ERROR demo.say: loud must be a flag (1/0, true/false, "
                              "yes/no, on/off), got 'maybe'"),
    ("nosuch.add 1", "ERROR unknown tool 'nosuch' (tools: demo)"),
    ("demo.secret", "ERROR demo has no remote method 'secret'"),
    ("demo.__class__", "ERROR demo has no remote method '__class__'"),
    ("demo.fail", "ERROR RuntimeError: tool bug"),
    ("demo.fail_silently", "ERROR NotImplementedError (raised without a message)"),
    ("exit", "ERROR exit: stopping the server is not available over the network"),
    ('demo.say "open', "ERROR cannot split the request: no closing quotation"),
])
async def test_bad_requests_get_an_error_naming_the_problem(client: LineClient, line: str,
                                                            message: str) -> None:
    assert await client.ask(line) == message
    assert await client.ask("demo.add 1") == "OK 1.5"  # the connection stays usable


async def test_builtins(served: tuple[CommandServer, DemoTool], client: LineClient) -> None:
    server, _ = served
    assert await client.ask("echo hello there") == "OK hello there"
    assert await client.ask("ECHO") == "OK"
    assert await client.ask("") == "OK"
    assert await client.ask("register console") == "OK"
    assert "console" in server.clients.values()
    assert await client.ask("closeconnection") == "OK"
    assert await client.reader.read() == b""  # closed by the server


async def test_pipelined_requests_are_answered_in_order(client: LineClient) -> None:
    lines = [f"demo.add {i}" if i % 7 else "demo.add bad" for i in range(500)]
    client.writer.write("".join(line + "\r\n" for line in lines).encode())
    replies = [await client.reply() for _ in lines]
    for i, reply in enumerate(replies):
        assert reply == (f"OK {i + 0.5}" if i % 7 else
                         "ERROR demo.add: a must be an integer, got 'bad'")


async def test_a_waiting_client_does_not_block_another(
        served: tuple[CommandServer, DemoTool]) -> None:
    server, tool = served
    first = await LineClient.connect(server.port)
    second = await LineClient.connect(server.port)
    try:
        first.writer.write(b"demo.wait\n")
        assert await second.ask("demo.add 1") == "OK 1.5"
        tool.release.set()
        assert await first.reply() == "OK released"
    finally:
        await first.close()
        await second.close()


async def test_overlong_lines_and_invalid_utf8_are_refused(client: LineClient) -> None:
    assert await client.ask(b"x" * 10000) == "ERROR request longer than 4096 bytes, ignored"
    assert await client.ask(b"demo.say \xff\xfe") == ("ERROR request is not valid UTF-8 "
                                                      "(byte 9)")
    assert await client.ask("demo.add 4") == "OK 4.5"


async def test_a_final_line_without_newline_is_answered(
        served: tuple[CommandServer, DemoTool]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served[0].port)
    writer.write(b"demo.add 2")
    writer.write_eof()
    assert await reader.read() == b"OK 2.5\r\n"
    writer.close()


async def test_many_clients_at_once(served: tuple[CommandServer, DemoTool]) -> None:
    async def session(k: int) -> list[str]:
        c = await LineClient.connect(served[0].port)
        try:
            return [await c.ask(f"demo.add {k} {j}") for j in range(20)]
        finally:
            await c.close()

    results = await asyncio.gather(*(session(k) for k in range(20)))
    for k, replies in enumerate(results):
        assert replies == [f"OK {float(k + j)}" for j in range(20)]


def test_help_lists_every_remote_method_with_its_arguments() -> None:
    table = CommandTable({"demo": DemoTool()})
    usage = table.help()
    assert "demo.add a [b]" in usage and "demo.say text [loud] [times]" in usage
    assert not any("secret" in u for u in usage)


def test_unknown_default_tool_is_refused() -> None:
    with pytest.raises(Exception, match="default tool 'x' is not one of demo"):
        CommandTable({"demo": DemoTool()}, default_tool="x")


async def test_an_overlong_line_arriving_in_pieces_gets_one_error(client: LineClient) -> None:
    for _ in range(5):  # 5 x 2000 bytes, no newline yet: more than the 4096 allowed
        client.writer.write(b"y" * 2000)
        await client.writer.drain()
        await asyncio.sleep(0.01)
    client.writer.write(b"tail\ndemo.add 7\n")
    assert await client.reply() == "ERROR request longer than 4096 bytes, ignored"
    assert await client.reply() == "OK 7.5"


async def test_the_client_ending_its_side_during_a_waiting_request(
        served: tuple[CommandServer, DemoTool]) -> None:
    server, tool = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"demo.wait\ndemo.add 1\ndemo.add 2")  # the last line has no newline
    writer.write_eof()
    await asyncio.sleep(0.05)
    tool.release.set()
    assert await asyncio.wait_for(reader.read(), 10) == b"OK released\r\nOK 1.5\r\nOK 2.5\r\n"
    writer.close()


async def test_an_overlong_final_line_is_refused_at_the_end(
        served: tuple[CommandServer, DemoTool]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served[0].port)
    writer.write(b"z" * 9000)
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 10) == \
        b"ERROR request longer than 4096 bytes, ignored\r\n"
    writer.close()


async def test_a_flood_of_pipelined_requests_is_answered_in_full_and_in_order(
        client: LineClient) -> None:
    """More than the socket buffers hold both ways: reading and answering pause and
    resume without losing or reordering a line."""
    count = 60_000
    payload = b"".join(b"demo.say %d\n" % i for i in range(count))

    async def send() -> None:
        client.writer.write(payload)
        await client.writer.drain()

    sending = asyncio.create_task(send())
    replies = [await client.reply() for _ in range(count)]
    await sending
    assert replies == [f"OK {i}" for i in range(count)]
    assert await client.ask("demo.add 1") == "OK 1.5"


async def test_repeated_lines_reuse_their_call_and_see_fresh_state(
        served: tuple[CommandServer, DemoTool], client: LineClient) -> None:
    _, tool = served
    for _ in range(3):
        assert await client.ask("demo.nothing") == "OK"
    assert tool.calls == [("nothing", None)] * 3  # each request calls the method again
