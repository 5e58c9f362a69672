"""The sendimage client: configuration, the header it sends, status handling, errors."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from nocturna.azcam.remote import remote_methods
from nocturna.azcam.sendimage import (
    CHUNK_BYTES,
    HEADER_BYTES,
    STATUS_BYTES,
    ImageServerError,
    SendImage,
    _send_chunks,
    format_header,
    format_status,
)
from nocturna.core.errors import DeviceTimeoutError, InvalidOperationError, InvalidValueError


class FakeServer:
    """Accepts one client at a time, keeps what it received, answers ``reply``."""

    def __init__(self, reply: bytes | None = b"0 OK".ljust(16), *, read_all: bool = True) -> None:
        self.reply = reply
        self.read_all = read_all
        self.received: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            header = await reader.readexactly(HEADER_BYTES)
            size = int(header.split()[0])
            body = await reader.readexactly(size) if self.read_all else b""
            self.received.append(header + body)
            if self.reply is None:
                await asyncio.sleep(30)  # never answers (cancelled when the loop closes)
            writer.write(self.reply)
            await writer.drain()
        finally:
            writer.close()

    async def __aenter__(self) -> FakeServer:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def local_file(tmp_path: Path) -> Path:
    path = tmp_path / "local.fits"
    path.write_bytes(b"SIMPLE  =                    T" + bytes(range(256)) * 10)
    return path


def test_defaults_and_configuration():
    tool = SendImage()
    assert not tool.enabled
    assert tool.get_remote_imageserver() == ["", 6543, "azcam", "image"]
    tool.set_remote_imageserver("lab-pc", 7000, "dataserver", "/data/frame.fits")
    assert tool.enabled
    assert tool.get_remote_imageserver() == ["lab-pc", 7000, "dataserver", "/data/frame.fits"]
    tool.set_remote_imageserver()  # an empty host disables sending
    assert not tool.enabled


def test_azcam_keyword_names_and_short_aliases_are_accepted():
    tool = SendImage()
    tool.set_remote_imageserver(remote_imageserver_host="a", remote_imageserver_port=1,
                                remote_imageserver_type="dataserver",
                                remote_imageserver_filename="f")
    assert tool.get_remote_imageserver() == ["a", 1, "dataserver", "f"]
    tool.set_remote_imageserver(host="b", port=2, type="azcam", filename="g")
    assert tool.get_remote_imageserver() == ["b", 2, "azcam", "g"]
    with pytest.raises(InvalidValueError, match="disagree"):
        tool.set_remote_imageserver("c", host="d")


def test_remote_methods_are_the_configuration_only():
    assert set(remote_methods(SendImage())) == {"set_remote_imageserver",
                                                "get_remote_imageserver"}


def test_unknown_type_names_the_accepted_ones():
    with pytest.raises(InvalidValueError, match=r"'lbtguider'.*azcam, dataserver"):
        SendImage().set_remote_imageserver("host", 6543, "lbtguider")


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_bad_port_is_refused(port):
    with pytest.raises(InvalidValueError, match="remote_imageserver_port"):
        SendImage().set_remote_imageserver("host", port)


def test_header_layout():
    header = format_header(1234, "!a/b.fits", 1, 2048, 4096, True)
    assert len(header) == HEADER_BYTES
    assert header.rstrip(b" ") == b"            1234 !a/b.fits 1 2048 4096 1"
    assert format_status(0) == b"0 OK".ljust(STATUS_BYTES)
    assert format_status(3) == b"3 bad name".ljust(STATUS_BYTES)


async def test_sends_header_and_bytes_and_accepts_status_0(local_file):
    async with FakeServer() as server:
        tool = SendImage()
        tool.set_remote_imageserver("127.0.0.1", server.port, "azcam", "default.fits")
        await tool.send_image(local_file, size_x=10, size_y=20, filetype=2)
        await tool.send_image(local_file, overwrite=True, display=True)
    data = local_file.read_bytes()
    first, second = server.received
    assert first[:HEADER_BYTES].split() == [str(len(data)).encode(), b"default.fits", b"2",
                                            b"10", b"20", b"0"]
    assert first[HEADER_BYTES:] == data
    assert second[:HEADER_BYTES].split()[1::4] == [b"!default.fits", b"1"]


async def test_nonzero_status_raises_with_the_server_message(local_file):
    async with FakeServer(b"1 exists".ljust(16)) as server:
        tool = SendImage()
        tool.set_remote_imageserver("127.0.0.1", server.port)
        with pytest.raises(ImageServerError, match=r"refused 'x\.fits': status '1 exists'") as err:
            await tool.send_image(local_file, "x.fits")
    assert err.value.status == "1 exists"


async def test_status_cut_short_is_an_error(local_file):
    async with FakeServer(b"0") as server:
        tool = SendImage()
        tool.set_remote_imageserver("127.0.0.1", server.port)
        with pytest.raises(ImageServerError, match="after 1 of the 16 status bytes"):
            await tool.send_image(local_file)


async def test_dataserver_type_reads_no_status(local_file):
    async with FakeServer(b"9 ignored".ljust(16)) as server:
        tool = SendImage(dataserver_linger_s=0.2)
        tool.set_remote_imageserver("127.0.0.1", server.port, "dataserver")
        await tool.send_image(local_file, "d.fits")
    assert server.received[0][HEADER_BYTES:] == local_file.read_bytes()


async def test_silent_server_times_out(local_file):
    async with FakeServer(None) as server:
        tool = SendImage(timeout_s=0.2)
        tool.set_remote_imageserver("127.0.0.1", server.port)
        with pytest.raises(DeviceTimeoutError, match=r"status reply took longer than 0\.2 s"):
            await tool.send_image(local_file)


async def test_unreachable_server(local_file):
    tool = SendImage()
    tool.set_remote_imageserver("127.0.0.1", unused_port())
    with pytest.raises(ImageServerError, match=r"cannot connect to image server 127\.0\.0\.1:"):
        await tool.send_image(local_file)


@pytest.mark.parametrize("name, problem", [
    ("a b.fits", "contains ' '"),
    ("tab\there", "contains '\\\\t'"),
    ("", "empty name"),
    ("!", "empty name"),
    ("x" * 250, "too long"),
])
async def test_bad_names_are_refused_before_connecting(local_file, name, problem):
    tool = SendImage()
    tool.set_remote_imageserver("127.0.0.1", unused_port())  # connecting would fail
    with pytest.raises(InvalidValueError, match=problem):
        await tool.send_image(local_file, name)


async def test_bad_default_filename_is_refused_when_set():
    with pytest.raises(InvalidValueError, match="remotefile 'a b'"):
        SendImage().set_remote_imageserver("host", 6543, "azcam", "a b")


async def test_sending_needs_a_host(local_file):
    with pytest.raises(InvalidOperationError, match="set_remote_imageserver"):
        await SendImage().send_image(local_file)


async def test_missing_local_file(tmp_path):
    tool = SendImage()
    tool.set_remote_imageserver("127.0.0.1", unused_port())
    with pytest.raises(InvalidValueError, match=r"localfile .*missing\.fits"):
        await tool.send_image(tmp_path / "missing.fits")


@pytest.mark.parametrize("field", ["filetype", "size_x", "size_y"])
async def test_negative_image_fields_are_refused(local_file, field):
    tool = SendImage()
    tool.set_remote_imageserver("127.0.0.1", unused_port())
    with pytest.raises(InvalidValueError, match=field):
        await tool.send_image(local_file, **{field: -1})


def test_timeout_must_be_positive():
    with pytest.raises(InvalidValueError, match="timeout_s"):
        SendImage(timeout_s=0)


async def test_chunks_stop_with_a_message_when_the_file_is_shorter_than_announced(
        tmp_path: Path) -> None:
    """The chunked path (uvloop has no sendfile) names a file that ends early."""
    path = tmp_path / "short.fits"
    path.write_bytes(b"x" * (CHUNK_BYTES + 10))
    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1 << 16):
            pass
        writer.close()

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    async with server:
        _, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        try:
            with path.open("rb") as stream, pytest.raises(
                    ImageServerError, match=rf"ended after {CHUNK_BYTES + 10} of the "
                                            rf"{CHUNK_BYTES + 20} bytes announced"):
                await _send_chunks(writer, stream, CHUNK_BYTES + 20)
        finally:
            writer.close()
            await writer.wait_closed()


async def test_large_files_go_whole_on_every_loop(tmp_path: Path) -> None:
    path = tmp_path / "large.fits"
    data = os.urandom(3 * CHUNK_BYTES + 12345)
    path.write_bytes(data)
    async with FakeServer() as server:
        client = SendImage(timeout_s=20)
        client.set_remote_imageserver("127.0.0.1", server.port)
        await client.send_image(path, "large.fits")
    [received] = server.received
    assert received[HEADER_BYTES:] == data
