"""The client's own HTTP plumbing against raw TCP servers that misbehave on purpose:
image downloads into one buffer, and the keep-alive pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from nocturna.core.errors import NotConnectedError
from nocturna.devices.alpaca import download, imagebytes
from nocturna.devices.alpaca.connections import ConnectionPool
from nocturna.devices.alpaca.imagebytes import ElementType
from nocturna.devices.alpaca.transport import AlpacaClient

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def json_reply(body: bytes, *, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def imagebytes_reply(image: np.ndarray) -> bytes:
    head = imagebytes.header(client_transaction_id=0, server_transaction_id=1,
                             image_type=ElementType.INT32,
                             transmission_type=ElementType.UINT16,
                             dimensions=imagebytes.ascom_shape(image))
    return head + b"".join(imagebytes.chunks(image, ElementType.UINT16))


async def test_an_image_sent_in_small_pieces_lands_whole_in_one_buffer():
    image = np.arange(300 * 257, dtype=np.uint16).reshape(300, 257)
    body = imagebytes_reply(image)

    async def handler(reader, writer):
        try:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/imagebytes\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
            for start in range(0, len(body), 4093):  # pieces that straddle everything
                writer.write(body[start:start + 4093])
                await writer.drain()
            await asyncio.sleep(1)  # keeps the connection open: the length ends the body
        finally:  # also when the loop closes first and cancels the handler
            writer.close()

    server, port = await serve(handler)
    async with server:
        client = AlpacaClient(f"127.0.0.1:{port}")
        got = await client.get_image("/api/v1/camera/0/imagearray")
    np.testing.assert_array_equal(got.data, image)


async def test_an_image_that_stops_short_of_its_length_is_a_lost_connection():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/imagebytes\r\n"
                     b"Content-Length: 1000\r\n\r\n" + b"x" * 600)
        await writer.drain()
        writer.close()

    server, port = await serve(handler)
    async with server:
        client = AlpacaClient(f"127.0.0.1:{port}")
        with pytest.raises(NotConnectedError, match="announced 1000 bytes and sent 600"):
            await client.get_image("/api/v1/camera/0/imagearray")


def test_chunked_framing_is_removed():
    assert download.dechunk(b"4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n") == b"abcdefg"
    with pytest.raises(download.ConnectionLost):
        download.dechunk(b"4\r\nab")


async def test_a_pooled_connection_the_server_closed_is_replaced_once():
    served = []

    async def handler(reader, writer):  # one reply per connection, then it closes
        served.append(await read_request(reader))
        writer.write(json_reply(b'{"Value": %d}' % len(served)))
        await writer.drain()
        writer.close()

    server, port = await serve(handler)
    async with server:
        pool = ConnectionPool("127.0.0.1", port, limit=2, keepalive_s=60)
        request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        first = await pool.request(request)
        await asyncio.sleep(0.1)  # the server has closed the idle connection by now
        second = await pool.request(request)
        pool.close()
    assert (first.body, second.body) == (b'{"Value": 1}', b'{"Value": 2}')
    assert len(served) == 2


async def test_keep_alive_reuses_one_connection():
    connections = []

    async def handler(reader, writer):
        connections.append(writer)
        try:
            while True:
                try:
                    await read_request(reader)
                except asyncio.IncompleteReadError:
                    return  # the client hung up
                writer.write(json_reply(b'{"Value": 1}'))
        finally:  # also when the loop closes first and cancels the handler
            writer.close()

    server, port = await serve(handler)
    async with server:
        pool = ConnectionPool("127.0.0.1", port, limit=2, keepalive_s=60)
        for _ in range(5):
            reply = await pool.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert (reply.status, reply.content_type) == (200, "application/json")
        pool.close()
    assert len(connections) == 1
