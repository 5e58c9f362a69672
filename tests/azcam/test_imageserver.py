"""The image server: azcam's sendimage wire format into a directory, atomically and safely."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from pathlib import Path

import pytest

from nocturna.azcam.imageserver import ImageServer, parse_header, resolve_name
from nocturna.azcam.sendimage import (
    HEADER_BYTES,
    STATUS_BYTES,
    ImageServerError,
    SendImage,
    format_header,
)
from nocturna.core.atomic import is_temporary_file
from nocturna.core.events import get_event_bus
from nocturna.core.storage import Storage


def client_for(server: ImageServer, kind: str = "azcam") -> SendImage:
    client = SendImage(timeout_s=20)
    client.set_remote_imageserver("127.0.0.1", server.port, kind)
    return client


def random_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


async def raw_transfer(port: int, payload: bytes, *, read_status: bool = True,
                       half_close: bool = False) -> bytes:
    """Send ``payload`` as is (header included), optionally end the sending side, and
    read the status reply."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        if half_close:
            writer.write_eof()
        if not read_status:
            return b""
        return await asyncio.wait_for(reader.read(STATUS_BYTES), 10)
    finally:
        writer.close()
        await writer.wait_closed()


async def idle(server: ImageServer) -> None:
    """Wait until the server has finished with every connection."""
    for _ in range(500):
        if server.connections == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{server.connections} connection(s) still open")


# -- round trips ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 65537, 40 * 1024 * 1024])
async def test_round_trip_is_byte_identical(server, image_dir, tmp_path, size):
    source = random_file(tmp_path / "local.fits", size)
    await client_for(server).send_image(source, "night/frame.fits", filetype=1, size_x=64,
                                        size_y=32, display=True)
    landed = image_dir / "night" / "frame.fits"
    assert landed.stat().st_size == size and sha256(landed) == sha256(source)
    record = server.received[-1]
    assert (record.name, record.path, record.size_bytes, record.sha256) == (
        "night/frame.fits", str(landed), size, sha256(source))
    assert (record.filetype, record.size_x, record.size_y, record.display) == (1, 64, 32, True)
    assert record.peer.startswith("127.0.0.1:")
    assert files_in(image_dir) == ["night/frame.fits"]  # no temporary file left


async def test_leading_slash_is_the_directory_root(server, image_dir, tmp_path):
    source = random_file(tmp_path / "local.fits", 100)
    await client_for(server).send_image(source, "/data/image.fits")
    assert (image_dir / "data" / "image.fits").read_bytes() == source.read_bytes()


async def test_dataserver_type_reads_no_status_and_the_file_lands(server, image_dir, tmp_path):
    source = random_file(tmp_path / "local.fits", 3 * 1024 * 1024)
    await client_for(server, "dataserver").send_image(source, "d.fits")
    await idle(server)
    assert sha256(image_dir / "d.fits") == sha256(source)


async def test_several_clients_at_once(server, image_dir, tmp_path):
    sources = [random_file(tmp_path / f"local{i}.fits", 1_000_000 + i) for i in range(8)]
    client = client_for(server)
    await asyncio.gather(*(client.send_image(s, f"c/{s.name}") for s in sources))
    for source in sources:
        assert sha256(image_dir / "c" / source.name) == sha256(source)
    assert len(server.received) == 8


async def test_received_file_is_recorded_and_published(image_dir, tmp_path):
    source = random_file(tmp_path / "local.fits", 4096)
    with Storage.open(data_dir=tmp_path / "data") as storage, \
            get_event_bus().subscribe("imageserver.*") as events:
        async with ImageServer(image_dir, port=0, storage=storage, source="lab") as server:
            await client_for(server).send_image(source, "t.fits", filetype=2, size_x=8,
                                                size_y=4)
        rows = storage.list_telemetry("imageserver")
    assert len(rows) == 1 and rows[0].source == "lab"
    assert rows[0].data == {
        "name": "t.fits", "path": str(image_dir / "t.fits"), "size_bytes": 4096,
        "sha256": sha256(source), "filetype": 2, "size_x": 8, "size_y": 4, "display": False,
        "peer": rows[0].data["peer"]}
    [event] = events.drain()
    assert event.topic == "imageserver.received" and event.data["sha256"] == sha256(source)


# -- overwriting ---------------------------------------------------------------------


async def test_existing_file_is_kept_without_the_overwrite_mark(server, image_dir, tmp_path):
    first = random_file(tmp_path / "first.fits", 5000)
    second = random_file(tmp_path / "second.fits", 7000)
    client = client_for(server)
    await client.send_image(first, "x.fits")
    with pytest.raises(ImageServerError, match="1 exists") as caught:
        await client.send_image(second, "x.fits")
    assert caught.value.status == "1 exists"
    assert (image_dir / "x.fits").read_bytes() == first.read_bytes()
    assert files_in(image_dir) == ["x.fits"]


async def test_overwrite_mark_replaces_the_file(server, image_dir, tmp_path):
    first = random_file(tmp_path / "first.fits", 5000)
    second = random_file(tmp_path / "second.fits", 7000)
    client = client_for(server)
    await client.send_image(first, "x.fits")
    await client.send_image(second, "x.fits", overwrite=True)
    assert (image_dir / "x.fits").read_bytes() == second.read_bytes()
    await client.send_image(first, "!x.fits")  # the mark given in the name itself
    assert (image_dir / "x.fits").read_bytes() == first.read_bytes()


# -- names ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x.fits", "/../x.fits", "a/../../x.fits", "!../x.fits",
                                  "/", ".", "a/./..", "//"])
async def test_names_escaping_the_directory_are_refused(server, image_dir, tmp_path, name):
    source = random_file(tmp_path / "local.fits", 1000)
    with pytest.raises(ImageServerError, match="3 bad name"):
        await client_for(server).send_image(source, name)
    assert files_in(image_dir) == [] and not (tmp_path / "x.fits").exists()


async def test_symlinks_out_of_the_directory_are_refused(server, image_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (image_dir / "link").symlink_to(outside, target_is_directory=True)
    (outside / "victim.fits").write_bytes(b"precious")
    (image_dir / "victim.fits").symlink_to(outside / "victim.fits")
    source = random_file(tmp_path / "local.fits", 1000)
    client = client_for(server)
    for name in ("link/x.fits", "!link/x.fits", "/link/sub/x.fits", "!victim.fits"):
        with pytest.raises(ImageServerError, match="3 bad name"):
            await client.send_image(source, name)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.fits"]
    assert (outside / "victim.fits").read_bytes() == b"precious"


async def test_a_directory_name_is_refused(server, image_dir, tmp_path):
    (image_dir / "sub").mkdir()
    source = random_file(tmp_path / "local.fits", 10)
    with pytest.raises(ImageServerError, match="3 bad name"):
        await client_for(server).send_image(source, "!sub")


def test_resolve_name_treats_the_directory_as_root(tmp_path):
    assert resolve_name(tmp_path, "/a//b/./c.fits") == tmp_path.resolve() / "a" / "b" / "c.fits"
    for bad in ("", "a\0b", "..", "x/../../y"):
        with pytest.raises(Exception, match="name"):
            resolve_name(tmp_path, bad)


@pytest.mark.parametrize("name", [".image.fits.0123456789abcdef.tmp",
                                  "/night/.a.fits.fedcba9876543210.tmp"])
async def test_names_of_the_servers_temporary_files_are_refused(server, image_dir, tmp_path,
                                                                name):
    source = random_file(tmp_path / "local.fits", 5000)
    with pytest.raises(ImageServerError, match="3 bad name"):
        await client_for(server).send_image(source, name)
    with pytest.raises(Exception, match="temporary files"):
        resolve_name(image_dir, name)
    await idle(server)
    assert files_in(image_dir) == []


async def test_nul_in_a_name_is_refused(server, image_dir):
    status = await raw_transfer(server.port, format_header(3, "a\0b.fits") + b"abc")
    assert status.decode().strip() == "3 bad name"
    assert files_in(image_dir) == []


# -- bad headers and short transfers -------------------------------------------------


@pytest.mark.parametrize("header", [
    b"hello",
    b"12 name.fits 0 0 0",  # 5 fields
    b"12 name.fits 0 0 0 0 extra",
    b"-12 name.fits 0 0 0 0",
    b"1x name.fits 0 0 0 0",
    b"12 name.fits zero 0 0 0",
    b"12 \xff\xfe.fits 0 0 0 0",
])
async def test_malformed_headers_get_status_4(server, image_dir, header):
    status = await raw_transfer(server.port, header.ljust(HEADER_BYTES, b" ") + b"x" * 12)
    assert status.decode().strip() == "4 bad header"
    assert len(status) == STATUS_BYTES
    await idle(server)
    assert files_in(image_dir) == []


def test_parse_header_reads_every_field():
    header = parse_header(format_header(123, "!a/b.fits", 1, 2048, 4096, True))
    assert (header.size, header.name, header.overwrite, header.filetype, header.size_x,
            header.size_y, header.display) == (123, "a/b.fits", True, 1, 2048, 4096, True)


async def test_short_transfer_leaves_nothing(server, image_dir):
    payload = format_header(1_000_000, "short.fits") + os.urandom(400_000)
    await raw_transfer(server.port, payload, read_status=False)
    await idle(server)
    assert list(image_dir.iterdir()) == [] and not server.received


@pytest.mark.parametrize("sent", [0, 400_000, 999_999])
async def test_fewer_bytes_than_announced_get_a_status_and_leave_nothing(
        server, image_dir, sent):
    payload = format_header(1_000_000, "deep/short.fits") + os.urandom(sent)
    status = await raw_transfer(server.port, payload, half_close=True)
    assert status == b"2 incomplete".ljust(STATUS_BYTES)
    await idle(server)
    assert files_in(image_dir) == [] and not server.received


async def test_a_client_silent_before_the_announced_end_gets_a_status(image_dir):
    async with ImageServer(image_dir, port=0, idle_timeout_s=0.2) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(format_header(100, "slow.fits") + b"x" * 10)
        await writer.drain()
        status = await asyncio.wait_for(reader.read(), 30)  # then the server hangs up
        writer.close()
        await idle(server)
    assert status == b"2 timed out".ljust(STATUS_BYTES)
    assert files_in(image_dir) == []


async def test_short_transfer_into_a_subfolder_leaves_no_temporary_file(server, image_dir):
    payload = format_header(10_000_000, "deep/short.fits") + os.urandom(5_000_000)
    await raw_transfer(server.port, payload, read_status=False)
    await idle(server)
    assert files_in(image_dir) == []
    assert not any(is_temporary_file(p) for p in image_dir.rglob("*"))


async def test_cut_off_header_gets_status_4(server, image_dir):
    status = await raw_transfer(server.port, b"   12 abc", half_close=True)
    assert status == b"4 bad header".ljust(STATUS_BYTES)
    await idle(server)
    assert files_in(image_dir) == []


async def test_a_client_that_never_sends_is_dropped_without_a_word(image_dir):
    async with ImageServer(image_dir, port=0, idle_timeout_s=0.2) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 30) == b""  # the server hung up
        writer.close()
        await idle(server)
    assert files_in(image_dir) == []


async def test_too_large_a_file_is_refused_before_the_data(image_dir, tmp_path):
    source = random_file(tmp_path / "local.fits", 2000)
    async with ImageServer(image_dir, port=0, max_bytes=1000) as server:
        with pytest.raises(ImageServerError, match=r"status '2 too large'$"):
            await client_for(server).send_image(source, "big.fits")
    assert files_in(image_dir) == []


async def test_close_drops_a_transfer_in_progress(image_dir):
    server = ImageServer(image_dir, port=0)
    await server.start()
    sock = socket.create_connection(("127.0.0.1", server.port))
    try:
        sock.sendall(format_header(1000, "pending.fits") + b"x" * 100)
        for _ in range(500):
            if any(is_temporary_file(p) for p in image_dir.iterdir()):
                break
            await asyncio.sleep(0.01)
        await server.close()
        await server.close()  # idempotent
    finally:
        sock.close()
    assert list(image_dir.iterdir()) == []


def test_directory_must_exist(tmp_path):
    with pytest.raises(Exception, match="not a directory"):
        ImageServer(tmp_path / "missing")
