"""The parameters tool over the command server: server parameters whose getters answer
at once or must wait, user parameters, unknown names."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from command_helpers import LineClient

from nocturna.azcam.dispatch import CommandTable
from nocturna.azcam.server import CommandServer
from nocturna.azcam.tools.parameters import Parameter, ParametersTool


async def slow_temperature() -> float:
    await asyncio.sleep(0.01)
    return -99.5


@pytest.fixture
async def client() -> AsyncIterator[LineClient]:
    tool = ParametersTool([Parameter("version", lambda: "1.2.3"),
                           Parameter("camtemp", slow_temperature)])
    async with CommandServer(CommandTable({"parameters": tool}), port=0) as server:
        c = await LineClient.connect(server.port)
        yield c
        await c.close()


async def test_getters_that_answer_at_once_or_wait_both_reply(client: LineClient) -> None:
    assert await client.ask("parameters.get_par version") == "OK 1.2.3"
    assert await client.ask("parameters.get_par CamTemp") == "OK -99.5"
    # pipelined: the waiting getter's reply still comes before the next one's
    client.writer.write(b"parameters.get_par camtemp\nparameters.get_par version\n")
    assert [await client.reply(), await client.reply()] == ["OK -99.5", "OK 1.2.3"]


async def test_user_parameters_and_unknown_names(client: LineClient) -> None:
    assert await client.ask("parameters.set_par observer ada") == "OK"
    assert await client.ask("parameters.get_par observer") == "OK ada"
    reply = await client.ask("parameters.get_par nosuch")
    assert reply.startswith("ERROR unknown parameter 'nosuch'") and "version" in reply
