"""sendimage: a 32 MB file into nocturna's image server, against raw loopback speed.

Run: ``python bench/sendimage_throughput.py [--repeats N] [--megabytes M]``

All in the same run, on this machine, over loopback:

1. raw: a plain socket ``sendall`` of the bytes to a thread doing ``recv_into`` a
   buffer (no file, no protocol): the ceiling;
2. nocturna: ``SendImage.send_image`` (type ``azcam``, so it waits for the status) to
   an ``ImageServer`` in its own process on the CLI's event loop (uvloop when
   installed, as ``nocturna imageserver serve``); timed until the status arrives, i.e.
   until the file is written, fsynced and in place. Each landed file is checked
   (SHA-256). The client runs once on asyncio's default loop (``loop.sendfile``) and
   once on the CLI's (uvloop has no ``sendfile``: 1 MiB chunks, as from
   ``nocturna azcam serve``);
3. azcam: azcam's own ``SendImage`` (the real ``azcam`` package, in the Python given by
   ``$NOCTURNA_AZCAM_PYTHON`` or the tests' cached environment) to the same server,
   timed from its call until the server has the file in place. Its ``azcam`` type
   sends the file with one ``send()`` and fails for files larger than the socket
   buffer (a few MB on Linux), so it is tried once and reported; the ``dataserver``
   type (32 kB ``send()`` calls, then a fixed 1 s sleep not counted here) is timed.

The exit code is 0 unless the benchmark itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nocturna.azcam.sendimage import SendImage
from nocturna.core.listen import loop_factory

AZCAM_VERSION = "26.0.5"

SERVER_SCRIPT = """
import asyncio, json, sys, time
from nocturna.azcam.imageserver import ImageServer
from nocturna.core.events import get_event_bus
from nocturna.core.listen import loop_factory

async def main():
    with get_event_bus().subscribe("imageserver.received") as events:
        async with ImageServer(sys.argv[1], port=0) as server:
            print(server.port, flush=True)
            while True:
                event = await events.get()
                print(json.dumps({"landed": time.monotonic(), "name": event.data["name"],
                                  "sha256": event.data["sha256"]}), flush=True)

with asyncio.Runner(loop_factory=loop_factory()) as runner:
    runner.run(main())
"""

AZCAM_SCRIPT = """
import sys, time
import azcam
from azcam.tools.exposure_sendimage import SendImage
azcam.log = lambda *args, **kwargs: None
host, port, localfile, remotefile, kind = sys.argv[1:6]
sender = SendImage()
sender.set_remote_imageserver(host, int(port), kind)
call = sender.dataserver if kind == "dataserver" else sender.azcam_imageserver
print(time.monotonic(), flush=True)
try:
    call(localfile, remotefile)
except Exception as exc:
    print(f"failed: {type(exc).__name__}: {exc}", flush=True)
"""


def raw_loopback(size: int) -> float:
    """Seconds for ``size`` bytes through a plain loopback socket."""
    data = os.urandom(size)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def receive() -> None:
            connection, _ = listener.accept()
            with connection:
                buffer, got = memoryview(bytearray(4 * 1024 * 1024)), 0
                while got < size:
                    got += connection.recv_into(buffer)
                connection.sendall(b"!")

        thread = threading.Thread(target=receive)
        thread.start()
        with socket.create_connection(listener.getsockname()) as sender:
            start = time.perf_counter()
            sender.sendall(data)
            sender.recv(1)
            elapsed = time.perf_counter() - start
        thread.join()
    return elapsed


class ServerProcess:
    """An ImageServer in its own process, reporting each landed file on stdout."""

    def __init__(self, directory: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(directory)],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def next_landed(self) -> dict[str, object]:
        assert self.process.stdout is not None
        return json.loads(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def nocturna_runs(server: ServerProcess, source: Path, directory: Path, digest: str,
                  repeats: int, new_loop: Callable[[], asyncio.AbstractEventLoop]
                  ) -> list[float]:
    client = SendImage(timeout_s=120)
    client.set_remote_imageserver("127.0.0.1", server.port, "azcam")
    times = []
    for index in range(repeats):
        name = f"nocturna{index}.fits"
        start = time.perf_counter()
        with asyncio.Runner(loop_factory=new_loop) as runner:
            runner.run(client.send_image(source, name))
        times.append(time.perf_counter() - start)
        landed = server.next_landed()
        assert landed["sha256"] == digest == sha256(directory / name), landed
        (directory / name).unlink()
    return times


def azcam_python() -> Path | None:
    given = os.environ.get("NOCTURNA_AZCAM_PYTHON")
    if given:
        return Path(given)
    cached = (Path.home() / ".cache" / "nocturna-tests" / f"azcam-{AZCAM_VERSION}" / "bin"
              / "python")
    return cached if cached.exists() else None


def azcam_run(python: Path, server: ServerProcess, source: Path, directory: Path, name: str,
              kind: str, digest: str) -> float | str:
    """Seconds from azcam's call to the file in place, or why it failed."""
    result = subprocess.run([str(python), "-c", AZCAM_SCRIPT, "127.0.0.1", str(server.port),
                             str(source), name, kind], capture_output=True, text=True,
                            timeout=300)
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != 1:
        return " ".join(lines[1:]) or result.stderr.strip().splitlines()[-1]
    landed = server.next_landed()
    assert landed["name"] == name and landed["sha256"] == digest == sha256(directory / name)
    (directory / name).unlink()
    return float(landed["landed"]) - float(lines[0])  # type: ignore[arg-type]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="transfers per measurement")
    parser.add_argument("--megabytes", type=int, default=32, help="file size in MiB")
    args = parser.parse_args()
    size = args.megabytes * 1024 * 1024
    megabytes = size / 1e6

    def rate(times: list[float]) -> str:
        return (f"{megabytes / statistics.median(times):7.0f} MB/s  (median of {len(times)}, "
                f"{megabytes / max(times):.0f}–{megabytes / min(times):.0f})")

    raw = [raw_loopback(size) for _ in range(args.repeats)]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "received"
        directory.mkdir()
        source = Path(tmp) / "image.fits"
        source.write_bytes(os.urandom(size))
        digest = sha256(source)
        server = ServerProcess(directory)
        try:
            ours = nocturna_runs(server, source, directory, digest, args.repeats,
                                 asyncio.new_event_loop)
            cli_loop = loop_factory()
            chunked = None if cli_loop is asyncio.new_event_loop else nocturna_runs(
                server, source, directory, digest, args.repeats, cli_loop)
            python = azcam_python()
            azcam_lines = []
            if python is None:
                azcam_lines.append("  azcam client → nocturna server: not measured (no azcam "
                                   "Python: set NOCTURNA_AZCAM_PYTHON or run the azcam tests)")
            else:
                single = azcam_run(python, server, source, directory, "single.fits", "azcam",
                                   digest)
                azcam_lines.append(
                    "  azcam client, type azcam      → nocturna server "
                    + (f"{megabytes / single:7.0f} MB/s (one run)" if isinstance(single, float)
                       else f"FAILED: {single}"))
                data = [azcam_run(python, server, source, directory, f"data{i}.fits",
                                  "dataserver", digest) for i in range(args.repeats)]
                failures = [item for item in data if isinstance(item, str)]
                azcam_lines.append(
                    "  azcam client, type dataserver → nocturna server "
                    + (f"FAILED: {failures[0]}" if failures else rate(data)))  # type: ignore[arg-type]
        finally:
            server.stop()

    print(f"sendimage of a {args.megabytes} MiB file over loopback")
    print(f"  raw socket sendall → recv_into                 {rate(raw)}")
    print(f"  nocturna client → nocturna server (fsynced)    {rate(ours)}")
    if chunked is not None:
        print(f"  … the client on uvloop (chunks, no sendfile)   {rate(chunked)}")
    for line in azcam_lines:
        print(line)
    print(f"  nocturna / raw: {statistics.median(raw) / statistics.median(ours):.2f}")


if __name__ == "__main__":
    main()
