"""azcam command server: request round trip and pipelined throughput.

Run: ``python bench/azcam_commands.py [--round-trips N] [--pipelined N] [--repeats R]``

Both servers run in their own process on 127.0.0.1, driven by the same client (a
blocking socket with TCP_NODELAY, one request line, wait for the CRLF reply):

* nocturna: ``nocturna azcam serve --simulate`` (the full tool set), request
  ``parameters.get_par version``;
* reference: azcam's own command server (real azcam 26.0.5, ``bench/
  azcam_reference_server.py`` under ``$NOCTURNA_AZCAM_PYTHON`` or the tests' cached
  environment), the same request.

Round trip: median over ``--repeats`` batches of ``--round-trips`` sequential requests.
Pipelined: ``--pipelined`` requests written at once on one connection, then every reply
read; a reply counts as correct if it is the one that request must get, in order.
Target (issue 8): round trip ≤ 0.3 ms (azcam was measured at 0.4–0.6 ms elsewhere).
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sendimage_throughput import AZCAM_VERSION, azcam_python  # the same azcam Python

REQUEST = b"parameters.get_par version\r\n"
TARGET_MS = 0.3
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        time.sleep(0.2)
    raise SystemExit("server did not start")


@contextlib.contextmanager
def nocturna_server() -> Iterator[int]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        process = subprocess.Popen([sys.executable, "-m", "nocturna", "--data", data, "azcam",
                                    "serve", "--simulate", "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port, process)
            yield port
        finally:
            process.terminate()
            process.wait(30)


@contextlib.contextmanager
def azcam_server(python: Path) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen([str(python), str(HERE / "azcam_reference_server.py"),
                                str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise SystemExit("azcam's server did not start")
        yield port
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.terminate()
        process.wait(30)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_line(sock: socket.socket, buffer: bytearray) -> bytes:
    while True:
        end = buffer.find(b"\n")
        if end >= 0:
            line = bytes(buffer[:end + 1])
            del buffer[:end + 1]
            return line
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk


def round_trip_ms(port: int, count: int, repeats: int) -> tuple[float, bytes]:
    sock = connect(port)
    buffer = bytearray()
    sock.sendall(REQUEST)
    expected = read_line(sock, buffer)
    batches = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(count):
            sock.sendall(REQUEST)
            if read_line(sock, buffer) != expected:
                raise SystemExit("wrong reply")
        batches.append((time.perf_counter() - start) / count * 1e3)
    sock.close()
    return statistics.median(batches), expected


def pipelined(port: int, count: int, expected: bytes) -> tuple[float, int, int]:
    """(seconds, replies received, correct replies) for ``count`` requests at once."""
    sock = connect(port)
    sock.settimeout(3.0)
    start = time.perf_counter()
    sock.sendall(REQUEST * count)
    buffer, received, correct = bytearray(), 0, 0
    try:
        while received < count:
            line = read_line(sock, buffer)
            received += 1
            correct += line == expected
    except (TimeoutError, ConnectionError):
        pass  # fewer replies than requests
    elapsed = time.perf_counter() - start
    sock.close()
    return elapsed, received, correct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pipelined", type=int, default=10000)
    args = parser.parse_args()

    rows = []
    with nocturna_server() as port:
        ms, expected = round_trip_ms(port, args.round_trips, args.repeats)
        seconds, received, correct = pipelined(port, args.pipelined, expected)
        rows.append(("nocturna", ms, seconds, received, correct, expected))
    python = azcam_python()
    if python is None:
        print("azcam reference: not measured (set NOCTURNA_AZCAM_PYTHON or run the azcam "
              "tests once to create their cached environment)")
    else:
        with azcam_server(python) as port:
            ms, expected = round_trip_ms(port, args.round_trips, args.repeats)
            seconds, received, correct = pipelined(port, args.pipelined, expected)
            rows.append((f"azcam {AZCAM_VERSION}", ms, seconds, received, correct, expected))

    print(f"request: {REQUEST.strip().decode()!r}; {args.round_trips} round trips × "
          f"{args.repeats} batches (median); {args.pipelined} pipelined")
    for name, ms, seconds, received, correct, expected in rows:
        rate = correct / seconds if seconds else 0.0
        print(f"{name:>12}: round trip {ms:.3f} ms ({1e3 / ms:,.0f}/s); pipelined "
              f"{received}/{args.pipelined} replies, {correct} correct, {seconds:.3f} s "
              f"({rate:,.0f} correct/s); reply {expected.strip().decode()!r}")
    nocturna_ms = rows[0][1]
    print(f"target round trip ≤ {TARGET_MS} ms: {'met' if nocturna_ms <= TARGET_MS else 'NOT met'}"
          f" ({nocturna_ms:.3f} ms)")
    if len(rows) > 1:
        print(f"ratio round trip nocturna/azcam: {nocturna_ms / rows[1][1]:.2f}")


if __name__ == "__main__":
    main()
