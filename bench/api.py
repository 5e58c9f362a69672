"""The running unit's API: status throughput, SSE latency, and what it costs the night.

    python bench/api.py                    # about 4 minutes
    python bench/api.py --seconds 2        # shorter status runs

1. Status requests/s on ONE keep-alive connection while a simulated night runs (paced
   at ``--speed`` times real time, in this process, the API in its own thread as
   ``nocturna run`` serves it). The client is a separate process (stdlib
   ``http.client``). Reference, same run: the same endpoint with the night paused
   (an operator pause, the unit idle). Target: >= 2,000 requests/s.
2. SSE latency: the unit's loop publishes ``bench.ping`` events carrying
   ``time.monotonic()`` at publish; a client process reading ``/api/events`` notes the
   monotonic time each arrives (CLOCK_MONOTONIC is one clock for every process).
   Median and p99 against the 100 ms target.
3. The night's wall time: ``nocturna run --simulate`` (the default night, as fast as
   it goes) with ``--no-api`` (the reference) and with the API on and one SSE client
   reading every event. Target: at most +5 %.
Exits 0 whether or not a target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "api"))

STATUS_TARGET = 2000.0
SSE_TARGET_MS = 100.0
WALL_TARGET = 1.05
START = "2026-12-15T03:30:00Z"

STATUS_CLIENT = r"""
import http.client, sys, time
host, port, token, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
connection = http.client.HTTPConnection(host, port)
headers = {"Authorization": "Bearer " + token}
def once():
    connection.request("GET", "/api/status", headers=headers)
    answer = connection.getresponse()
    body = answer.read()
    assert answer.status == 200 and body.startswith(b"{"), answer.status
for _ in range(200):
    once()
count, began = 0, time.perf_counter()
while time.perf_counter() - began < seconds:
    once()
    count += 1
print(count / (time.perf_counter() - began))
"""

SSE_CLIENT = r"""
import http.client, json, sys, time
host, port, token, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
connection = http.client.HTTPConnection(host, port, timeout=120)
connection.request("GET", "/api/events", headers={"Authorization": "Bearer " + token})
stream = connection.getresponse()
print("ready", flush=True)
delays = []
for raw in stream:
    line = raw.decode()
    if line.startswith("data: ") and '"bench.ping"' in line:
        received = time.monotonic()
        sent = json.loads(line[6:])["data"]["sent"]
        delays.append((received - sent) * 1000.0)
        if len(delays) >= count:
            break
print(json.dumps(delays), flush=True)
"""


def status_rate(url: str, token: str, seconds: float) -> float:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    out = subprocess.run([sys.executable, "-c", STATUS_CLIENT, host, port, token, str(seconds)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def sse_delays(night: Any, token: str, count: int, every_s: float) -> list[float]:
    host, port = night.url.removeprefix("http://").rsplit(":", 1)
    client = subprocess.Popen([sys.executable, "-c", SSE_CLIENT, host, port, token, str(count)],
                              stdout=subprocess.PIPE, text=True)
    assert client.stdout is not None
    assert client.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # the subscription is in place
    bus, loop = night.unit.events, night.server.link.loop

    def ping() -> None:
        bus.publish("bench.ping", "bench", sent=time.monotonic())

    for _ in range(count):
        loop.call_soon_threadsafe(ping)
        time.sleep(every_s)
    out = client.stdout.readline()
    client.wait(60)
    return json.loads(out)


def in_process_figures(args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    from api_helpers import AS_OPERATOR, VIEWER, RunningNight

    from nocturna.core.listen import loop_factory

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nocturna-bench-api-") as folder, \
            RunningNight(Path(folder), loop_factory(), speed=args.speed, hours=6) as night, \
            httpx.Client(base_url=night.url, timeout=60) as client:
        for _ in range(600):  # the unit is at work (its first frames)
            answer = client.get("/api/frames/latest", headers=AS_OPERATOR)
            if answer.status_code == 200:
                break
            time.sleep(0.2)
        figures["status_running"] = status_rate(night.url, VIEWER, args.seconds)
        figures["sse_ms"] = sse_delays(night, VIEWER, args.pings, 0.05)
        client.post("/api/pause", headers=AS_OPERATOR)
        for _ in range(600):
            if client.get("/api/status", headers=AS_OPERATOR).json()["state"] == "paused":
                break
            time.sleep(0.2)
        figures["status_paused"] = status_rate(night.url, VIEWER, args.seconds)
    return figures


def night_wall(root: Path, api: bool) -> float:
    """Wall seconds of the default simulated night (with the API and an SSE client)."""
    command = [sys.executable, "-m", "nocturna.cli.main", "--data", str(root / "data"), "run",
               "--simulate", "--start", START]
    command += ["--api-port", "0"] if api else ["--no-api"]
    log = root / "run.log"
    began = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "NOCTURNA_API__OPEN_VIEWER": "true"})
    reader = None
    if api:
        found = None
        while found is None and process.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read_text())
            time.sleep(0.02)
        if found:
            reader = threading.Thread(target=_read_events, args=(int(found[1]),), daemon=True)
            reader.start()
    if process.wait() != 0:
        raise SystemExit(f"the night failed: {log.read_text()[-2000:]}")
    wall = time.perf_counter() - began
    print(f"  night {'API on + SSE' if api else '--no-api'}: {wall:.1f} s", flush=True)
    return wall


def _read_events(port: int) -> None:
    import http.client

    for _ in range(200):  # until the API serves (it starts with the unit)
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            connection.request("GET", "/api/events")
            stream = connection.getresponse()
            for _line in stream:
                pass
            return
        except OSError:
            time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per status figure")
    parser.add_argument("--speed", type=float, default=60.0, help="pace of the night")
    parser.add_argument("--pings", type=int, default=200, help="SSE events timed")
    parser.add_argument("--no-night-wall", action="store_true", help="skip part 3")
    parser.add_argument("--pairs", type=int, default=2,
                        help="part 3: nights without and with the API, alternating")
    args = parser.parse_args()
    figures = in_process_figures(args)
    running, paused = figures["status_running"], figures["status_paused"]
    verdict = "met" if running >= STATUS_TARGET else "MISSED"
    print(f"status, one keep-alive connection, night running (speed {args.speed:g}): "
          f"{running:,.0f} req/s (target >= {STATUS_TARGET:,.0f}: {verdict})")
    print(f"status, same connection kind, night paused (reference): {paused:,.0f} req/s; "
          f"ratio running/paused {running / paused:.2f}")
    delays = sorted(figures["sse_ms"])
    median = statistics.median(delays)
    p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
    verdict = "met" if p99 <= SSE_TARGET_MS else "MISSED"
    print(f"SSE publish → client receipt over {len(delays)} events: median {median:.2f} ms, "
          f"p99 {p99:.2f} ms, max {delays[-1]:.2f} ms (target <= {SSE_TARGET_MS:.0f} ms: "
          f"{verdict}; ratio p99/target {p99 / SSE_TARGET_MS:.2f})")
    if not args.no_night_wall:
        walls: dict[bool, list[float]] = {False: [], True: []}
        with tempfile.TemporaryDirectory(prefix="nocturna-bench-wall-") as folder:
            for pair in range(args.pairs):  # alternating order: drift hits both sides
                for api in ((False, True) if pair % 2 == 0 else (True, False)):
                    root = Path(folder) / f"{pair}-{'on' if api else 'off'}"
                    root.mkdir()
                    walls[api].append(night_wall(root, api=api))
        off, on = statistics.median(walls[False]), statistics.median(walls[True])
        ratio = on / off
        verdict = "met" if ratio <= WALL_TARGET else "MISSED"
        runs = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(walls[False], walls[True],
                                                             strict=True))
        pair_ratio = statistics.median(b / a for a, b in zip(walls[False], walls[True],
                                                              strict=True))
        print(f"night wall time, median of {args.pairs}: --no-api {off:.1f} s (reference), "
              f"API on + one SSE client {on:.1f} s; ratio {ratio:.3f} (target <= "
              f"{WALL_TARGET:.2f}: {verdict}); median of per-pair ratios {pair_ratio:.3f}; "
              f"pairs off/on: {runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
