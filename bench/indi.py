"""INDI: a 4096×4096 16-bit frame from indi_simulator_ccd, and property round trips.

Run: ``python bench/indi.py [--frames N] [--round-trips N]``

One ``indiserver`` (Debian's indi-bin) on a free 127.0.0.1 port runs
``indi_simulator_ccd`` (its sensor set to 4096×4096 through ``SIMULATOR_SETTINGS``
before it connects) and ``indi_simulator_focus``. Everything runs under uvloop, the loop
``nocturna run`` uses.

**Frame.** Three clients, each on its own connection with ``enableBLOB Only`` for the
CCD while it is measured (``Never`` for the others), each starting its own 0.01 s
exposures, in interleaved rounds (one warm-up round is dropped):

* nocturna: :class:`~nocturna.devices.indi.camera.IndiCamera` (``start_exposure``,
  ``wait_until_ready``, ``image()``: a numpy array and the FITS header);
* ``indipyclient`` (pure-Python asyncio INDI client): its ``SetBLOB`` event's bytes,
  then the same FITS → numpy step as nocturna's (:func:`~nocturna.devices.indi.blob.
  fits_image`);
* reference: a blocking socket reading the message into a preallocated buffer
  (``recv_into``), then base64 decoding of the payload (decoded bytes, no numpy step):
  with ``pybase64`` (SIMD, what nocturna's wire reader uses: the reference of the
  target) and, on the same bytes, with ``binascii.a2b_base64`` (shown too).

"Exposure end" is when the frame's first byte reaches the client: the arrival of the
chunk holding ``<setBLOBVector`` (stamped in the connection's ``data_received`` /
the stream's ``feed_data`` / after ``recv_into``). Before it, the simulator renders
the frame and the driver and indiserver encode it: the same for every client. The
clock stops when the client holds the array (the bytes, for the reference). indiserver
streams the BLOB at its own pace, so the reference includes the server's send time too.
Targets (issue 19): nocturna ≥ 2× faster than indipyclient and within 1.5× of the
reference (medians).

**Round trip.** ``ABS_FOCUS_POSITION`` set to a position one step away, until the
server answers it Ok: nocturna's ``IndiDevice.send(..., wait=True)`` against a blocking
socket sending the same ``newNumberVector`` and reading until the Ok ``setNumberVector``.
p50 and p99 (no target; the ratio is nocturna / socket).

The exit code is 0 whether or not a target is met; non-zero only if the benchmark
itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import binascii
import logging
import math
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop
from pybase64 import b64decode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from indi_helpers import IndiServer
from nocturna.devices.indi import connection as indi_connection
from nocturna.devices.indi.blob import fits_image
from nocturna.devices.indi.camera import IndiCamera
from nocturna.devices.indi.connection import acquire, release
from nocturna.devices.indi.focuser import IndiFocuser

SIDE = 4096
EXPOSURE_S = 0.01
FASTER_THAN_LIBRARY = 2.0
WITHIN_REFERENCE = 1.5
CCD = "CCD Simulator"
FOCUSER = "Focuser Simulator"
START_TAG = b"<setBLOBVector"
END_TAG = b"</setBLOBVector>"


class Arrival:
    """Stamps when the chunk holding a BLOB's start tag arrives on one watched link."""

    def __init__(self) -> None:
        self.watched: Any = None
        self.at: float | None = None

    def arm(self, watched: Any) -> None:
        self.watched, self.at = watched, None

    def see(self, owner: Any, data: bytes) -> None:
        if owner is self.watched and self.at is None and START_TAG in data:
            self.at = time.perf_counter()


ARRIVAL = Arrival()


def stamp_arrivals() -> None:
    """Wrap the receive paths of nocturna's connection and of asyncio streams
    (indipyclient's) so :data:`ARRIVAL` sees every chunk (before any link is made:
    uvloop binds ``data_received`` once per link)."""
    protocol = indi_connection._Protocol
    received = protocol.data_received

    def data_received(self: Any, data: bytes) -> None:
        ARRIVAL.see(self.owner, data)
        received(self, data)

    protocol.data_received = data_received  # type: ignore[method-assign]
    feed = asyncio.StreamReader.feed_data

    def feed_data(self: asyncio.StreamReader, data: bytes) -> None:
        ARRIVAL.see(self, data)
        feed(self, data)

    asyncio.StreamReader.feed_data = feed_data  # type: ignore[method-assign]


# ------------------------------------------------------------------ the clients
class NocturnaClient:
    name = "nocturna IndiCamera"

    def __init__(self, address: str) -> None:
        self.camera = IndiCamera("bench", address=address, device=CCD, timeout_s=120)

    async def start(self) -> None:
        await self.camera.connect()
        await self.camera.set_binning(1)

    def blobs(self, on: bool) -> None:
        assert self.camera._blobs is not None
        self.camera._blobs.enable_blob(CCD, "Only" if on else "Never")

    async def frame(self) -> tuple[float, float, tuple[int, ...]]:
        blobs = self.camera._blobs
        assert blobs is not None and blobs._protocol is not None
        ARRIVAL.arm(blobs)
        asked = time.perf_counter()
        await self.camera.start_exposure(EXPOSURE_S)
        await self.camera.wait_until_ready(EXPOSURE_S, timeout_s=120)
        image = await self.camera.image()
        return _times(asked, image.data.shape)

    async def stop(self) -> None:
        await self.camera.disconnect()


class IndipyClient:
    name = "indipyclient"

    def __init__(self, port: int) -> None:
        from indipyclient import IPyClient

        outer = self

        class Client(IPyClient):  # type: ignore[misc]
            async def rxevent(self, event: Any) -> None:
                if event.eventtype == "SetBLOB" and event.vectorname == "CCD1" and \
                        outer.waiting is not None and not outer.waiting.done():
                    image, _ = fits_image(event["CCD1"])
                    outer.waiting.set_result(image.shape)

        self.client = Client(indihost="127.0.0.1", indiport=port)
        self.waiting: asyncio.Future[tuple[int, ...]] | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.client.asyncrun())
        for _ in range(300):
            device = self.client.get(CCD)
            if device is not None and "CCD1" in device and "CCD_EXPOSURE" in device:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError("indipyclient did not learn the CCD's properties in 30 s")

    def blobs(self, on: bool) -> None:
        asyncio.get_running_loop().create_task(
            self.client.send_enableBLOB("Only" if on else "Never", CCD))

    async def frame(self) -> tuple[float, float, tuple[int, ...]]:
        self.waiting = asyncio.get_running_loop().create_future()
        reader = self.client._reader
        ARRIVAL.arm(reader)
        asked = time.perf_counter()
        await self.client.send_newVector(CCD, "CCD_EXPOSURE",
                                         members={"CCD_EXPOSURE_VALUE": EXPOSURE_S})
        shape = await asyncio.wait_for(self.waiting, 120)
        return _times(asked, shape)

    async def stop(self) -> None:
        self.client.shutdown()
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)


class RawClient:
    """The reference: a blocking socket, ``recv_into`` a preallocated buffer, then
    ``binascii.a2b_base64`` of the payload."""

    name = "socket + pybase64 (reference)"
    other = "socket + binascii"

    def __init__(self, port: int) -> None:
        self.port = port
        self.buffer = bytearray(SIDE * SIDE * 2 * 4 // 3 + (1 << 20))
        self.sock: socket.socket | None = None

    async def start(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        self.sock.sendall(f'<getProperties version="1.7" device="{CCD}"/>\n'.encode())
        self.blobs(False)
        self.drain()

    def blobs(self, on: bool) -> None:
        assert self.sock is not None
        mode = "Only" if on else "Never"
        self.sock.sendall(f'<enableBLOB device="{CCD}">{mode}</enableBLOB>\n'.encode())

    def drain(self) -> None:
        assert self.sock is not None
        self.sock.settimeout(0.2)
        try:
            while self.sock.recv(1 << 20):
                pass
        except TimeoutError:
            pass
        self.sock.settimeout(120)

    async def frame(self) -> tuple[float, float, tuple[int, ...]]:
        self.drain()
        sock = self.sock
        assert sock is not None
        view = memoryview(self.buffer)
        asked = time.perf_counter()
        sock.sendall(f'<newNumberVector device="{CCD}" name="CCD_EXPOSURE"><oneNumber '
                     f'name="CCD_EXPOSURE_VALUE">{EXPOSURE_S}</oneNumber></newNumberVector>'
                     .encode())
        size, first, start = 0, None, -1
        while True:
            got = sock.recv_into(view[size:])
            if not got:
                raise RuntimeError("the server closed the reference's link")
            size += got
            if first is None:
                start = self.buffer.find(START_TAG, max(0, size - got - len(START_TAG)),
                                         size)
                if start >= 0:
                    first = time.perf_counter()
            if first is not None and \
                    self.buffer.find(END_TAG, max(start, size - got - len(END_TAG)), size) >= 0:
                break
        payload = self.buffer.index(b">", self.buffer.index(b"<oneBLOB", start)) + 1
        end = self.buffer.index(b"</oneBLOB>", payload)
        while self.buffer[payload] in b" \t\r\n":  # the lines around the payload
            payload += 1
        while self.buffer[end - 1] in b" \t\r\n":
            end -= 1
        read = time.perf_counter()
        data = b64decode(view[payload:end], validate=True)
        done = time.perf_counter()
        binascii.a2b_base64(view[payload:end])
        self.binascii_s = read - first + time.perf_counter() - done
        self.split = (read - first, done - read)
        return done - first, done - asked, (len(data),)

    async def stop(self) -> None:
        if self.sock is not None:
            self.sock.close()


def _times(asked: float, shape: tuple[int, ...]) -> tuple[float, float, tuple[int, ...]]:
    done = time.perf_counter()
    if ARRIVAL.at is None:
        raise RuntimeError("the frame's first chunk was not seen on the client's link")
    return done - ARRIVAL.at, done - asked, shape


# ------------------------------------------------------------------ frame bench
async def set_sensor(address: str, side: int) -> None:
    connection = acquire(address, own=True)
    try:
        await connection.wait_up(30)
        settings = await connection.wait_for(
            lambda: connection.store.get(CCD, "SIMULATOR_SETTINGS"), 30, "SIMULATOR_SETTINGS")
        connection.send_new(settings, {"SIM_XRES": side, "SIM_YRES": side})

        def shown() -> bool:
            now = connection.store.get(CCD, "SIMULATOR_SETTINGS")
            return now is not None and now["SIM_XRES"] == side and now["SIM_YRES"] == side

        await connection.wait_for(shown, 30, "the simulator's new sensor size")
    finally:
        await release(connection)


async def frame_bench(server: IndiServer, rounds: int) -> dict[str, list[tuple[float, float]]]:
    await set_sensor(server.address, SIDE)
    clients: list[Any] = [NocturnaClient(server.address), IndipyClient(server.port),
                          RawClient(server.port)]
    for client in clients:
        await client.start()
    for client in clients:
        client.blobs(False)
    results: dict[str, list[tuple[float, float]]] = {c.name: [] for c in clients}
    results[RawClient.other] = []
    try:
        for round_ in range(rounds + 1):
            for client in clients:
                client.blobs(True)
                await asyncio.sleep(0.3)  # the enableBLOBs are read before the exposure
                from_first, from_request, shape = await client.frame()
                client.blobs(False)
                await asyncio.sleep(0.3)  # CCD_EXPOSURE back to Ok before the next client
                if shape != (SIDE, SIDE) and not (isinstance(client, RawClient) and
                                                  shape[0] > SIDE * SIDE * 2):
                    raise RuntimeError(f"{client.name}: got {shape}, not a {SIDE}² frame")
                label = "warm-up" if round_ == 0 else f"round {round_}"
                print(f"  {label:8} {client.name:32} {from_first * 1000:8.1f} ms "
                      f"(request → done {from_request * 1000:7.1f} ms)", flush=True)
                if round_:
                    results[client.name].append((from_first, from_request))
                if isinstance(client, RawClient):
                    read, decode = client.split
                    print(f"  {'':8} {'':32} read {read * 1000:.1f} ms + pybase64 "
                          f"{decode * 1000:.1f} ms; read + binascii "
                          f"{client.binascii_s * 1000:.1f} ms", flush=True)
                    if round_:
                        results[client.other].append((client.binascii_s, math.nan))
    finally:
        for client in clients:
            await client.stop()
    return results


# ------------------------------------------------------------------ round trips
async def round_trip_bench(server: IndiServer, count: int) -> dict[str, list[float]]:
    focuser = IndiFocuser("focus-bench", address=server.address, device=FOCUSER)
    await focuser.connect()
    ours: list[float] = []
    try:
        start = int((await focuser.state()).position)
        for i in range(count + 10):
            target = start + 1 if i % 2 == 0 else start
            began = time.perf_counter()
            await focuser.send("ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": target},
                               wait=True)
            if i >= 10:
                ours.append(time.perf_counter() - began)
    finally:
        await focuser.disconnect()
    return {"nocturna IndiDevice.send(wait=True)": ours,
            "socket (reference)": socket_round_trips(server.port, start, count)}


def socket_round_trips(port: int, start: int, count: int) -> list[float]:
    times: list[float] = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(f'<getProperties version="1.7" device="{FOCUSER}"/>\n'.encode())
        sock.settimeout(0.3)
        try:
            while sock.recv(1 << 20):
                pass
        except TimeoutError:
            pass
        sock.settimeout(10)
        pending = b""
        for i in range(count + 10):
            target = start + 1 if i % 2 == 0 else start
            began = time.perf_counter()
            sock.sendall(f'<newNumberVector device="{FOCUSER}" name="ABS_FOCUS_POSITION">'
                         f'<oneNumber name="FOCUS_ABSOLUTE_POSITION">{target}</oneNumber>'
                         '</newNumberVector>\n'.encode())
            while True:  # up to the Ok answer, one setNumberVector at a time
                close = pending.find(b"</setNumberVector>")
                if close < 0:
                    pending += sock.recv(1 << 16)
                    continue
                answer = pending[pending.rfind(b"<setNumberVector", 0, close):close]
                pending = pending[close + len(b"</setNumberVector>"):]
                if b'name="ABS_FOCUS_POSITION"' in answer and b'state="Ok"' in answer:
                    break
            if i >= 10:
                times.append(time.perf_counter() - began)
    return times


# ------------------------------------------------------------------ report
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def report_frames(results: dict[str, list[tuple[float, float]]]) -> None:
    medians = {name: statistics.median(t[0] for t in times) for name, times in results.items()}
    asked = {name: statistics.median(t[1] for t in times) for name, times in results.items()}
    ours, library, reference, slower = medians.values()
    print(f"\nA {SIDE}x{SIDE} 16-bit frame, first byte at the client → array "
          f"(median of {len(next(iter(results.values())))}):")
    for name in results:
        since = "" if math.isnan(asked[name]) else \
            f"   (request → array {asked[name] * 1000:7.1f} ms)"
        print(f"  {name:34} {medians[name] * 1000:8.1f} ms{since}")
    faster = library / ours
    within = ours / reference
    print(f"  indipyclient / nocturna = {faster:.2f}x: target >= {FASTER_THAN_LIBRARY:g}x "
          f"{'met' if faster >= FASTER_THAN_LIBRARY else 'MISSED'}")
    print(f"  nocturna / reference    = {within:.2f}x: target <= {WITHIN_REFERENCE:g}x "
          f"{'met' if within <= WITHIN_REFERENCE else 'MISSED'}")
    print(f"  (nocturna / socket + binascii = {ours / slower:.2f}x; indipyclient / "
          f"reference = {library / reference:.2f}x)")


def report_round_trips(results: dict[str, list[float]]) -> None:
    print(f"\nABS_FOCUS_POSITION set → Ok ({len(next(iter(results.values())))} round trips):")
    p50 = {}
    for name, times in results.items():
        p50[name] = percentile(times, 50)
        print(f"  {name:36} p50 {p50[name] * 1000:6.2f} ms   p99 "
              f"{percentile(times, 99) * 1000:6.2f} ms")
    ours, reference = p50.values()
    print(f"  nocturna / socket p50 = {ours / reference:.2f}x (no target: reported)")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="nocturna-bench-indi-") as home, \
            IndiServer(Path(home), "ccd", "focuser") as server:
        print(f"indiserver on {server.address}: {SIDE}x{SIDE} CCD simulator, "
              f"{args.frames} rounds + 1 warm-up")
        frames = await frame_bench(server, args.frames)
        trips = await round_trip_bench(server, args.round_trips)
    report_frames(frames)
    report_round_trips(trips)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--round-trips", type=int, default=200,
                        help="property round trips (default 200)")
    arguments = parser.parse_args()
    logging.getLogger("indipyclient").setLevel(logging.ERROR)  # its connection notes
    stamp_arrivals()
    uvloop.run(main(arguments))
