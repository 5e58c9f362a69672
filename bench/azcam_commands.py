"""azcam command server: request round trip and pipelined throughput.

Run: ``python bench/azcam_commands.py [--round-trips N] [--batches B] [--pipelined N]``

Both servers run at the same time, each in its own process on 127.0.0.1, driven by the
same client (a blocking socket with TCP_NODELAY, one request line, wait for the CRLF
reply):

* nocturna: ``nocturna azcam serve --simulate`` (the full tool set, the CLI's own
  event loop), request ``parameters.get_par version``;
* reference: azcam's own command server (real azcam 26.0.5, ``bench/
  azcam_reference_server.py`` under ``$NOCTURNA_AZCAM_PYTHON`` or the tests' cached
  environment), the same request.

Round trip: ``--batches`` batches of ``--round-trips`` sequential requests, the two
servers' batches taking turns so that a busy machine slows both alike; the median and
the best batch of each. Pipelined: ``--pipelined`` requests written at once on one
connection, then every reply read; a reply counts as correct if it is the one that
request must get, in order. Targets: round trip ≤ 0.3 ms (issue 8) and faster than
azcam's own server in the same run (issue 17: median ratio < 1).
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


class RoundTrips:
    """One connection to a server, timing batches of sequential round trips."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.sock = connect(port)
        self.buffer = bytearray()
        self.sock.sendall(REQUEST)
        self.expected = read_line(self.sock, self.buffer)
        self.batches: list[float] = []  # ms per round trip

    def batch(self, count: int) -> None:
        start = time.perf_counter()
        for _ in range(count):
            self.sock.sendall(REQUEST)
            if read_line(self.sock, self.buffer) != self.expected:
                raise SystemExit(f"{self.name}: wrong reply")
        self.batches.append((time.perf_counter() - start) / count * 1e3)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.batches)

    @property
    def best_ms(self) -> float:
        return min(self.batches)

    def close(self) -> None:
        self.sock.close()


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
    parser.add_argument("--round-trips", type=int, default=200, help="requests per batch")
    parser.add_argument("--batches", type=int, default=50, help="batches per server")
    parser.add_argument("--pipelined", type=int, default=10000)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        servers = {"nocturna": stack.enter_context(nocturna_server())}
        python = azcam_python()
        if python is None:
            print("azcam reference: not measured (set NOCTURNA_AZCAM_PYTHON or run the azcam "
                  "tests once to create their cached environment)")
        else:
            servers[f"azcam {AZCAM_VERSION}"] = stack.enter_context(azcam_server(python))
        timers = [RoundTrips(name, port) for name, port in servers.items()]
        for timer in timers:
            timer.batch(args.round_trips)  # warm-up, not counted
            timer.batches.clear()
        for _ in range(args.batches):
            for timer in timers:  # taking turns: load on the machine hits both alike
                timer.batch(args.round_trips)
        for timer in timers:
            timer.close()
        piped = [pipelined(servers[t.name], args.pipelined, t.expected) for t in timers]

    print(f"request: {REQUEST.strip().decode()!r}; {args.batches} batches of "
          f"{args.round_trips} round trips per server, taking turns; {args.pipelined} "
          "pipelined")
    for timer, (seconds, received, correct) in zip(timers, piped, strict=True):
        rate = correct / seconds if seconds else 0.0
        print(f"{timer.name:>12}: round trip {timer.median_ms:.4f} ms median "
              f"({1e3 / timer.median_ms:,.0f}/s), {timer.best_ms:.4f} ms best batch; "
              f"pipelined {received}/{args.pipelined} replies, {correct} correct, "
              f"{seconds:.3f} s ({rate:,.0f} correct/s); reply "
              f"{timer.expected.strip().decode()!r}")
    ours = timers[0]
    print(f"target round trip ≤ {TARGET_MS} ms: "
          f"{'met' if ours.median_ms <= TARGET_MS else 'NOT met'} ({ours.median_ms:.4f} ms)")
    if len(timers) > 1:
        ratio = ours.median_ms / timers[1].median_ms
        best = ours.best_ms / timers[1].best_ms
        print(f"target faster than azcam's own server: {'met' if ratio < 1 else 'NOT met'} "
              f"(ratio round trip nocturna/azcam: {ratio:.2f} median, {best:.2f} best batch)")


if __name__ == "__main__":
    main()
