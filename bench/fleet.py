"""The fleet ingest under load: N simulated units → one mosquitto → one ingest → PostgreSQL.

    export NOCTURNA_TEST_PG=$(bash .ci/postgres.sh | tail -n1)
    python bench/fleet.py                        # 100 units for 30 s, then the ladder
    python bench/fleet.py --units 100 --seconds 10 --ladder ""   # one quick run

Each simulated unit is the tests' ``FakeUnit`` (its own MQTT connection, its birth and
last will) driven from a publisher process: status (retained) and weather once per
second, a frame every 30 s (staggered across units), each a version 1 envelope whose
``time`` is the publish time. The ingest is ``nocturna fleet ingest`` in its own process
on a fresh schema. After the run (and the backlog drained) the figures come from the
rows: sustained messages/s committed, end-to-end latency publish → row committed
(``fleet_messages.committed_at - time``) p50/p99, and the ingest process's CPU (share of
one core). Reference, same run: publish → received by the ingest (``received_at -
time``), i.e. the broker's part of the path; the ratio says what the database write
adds. Target: 100 units with p99 ≤ 1 s. The ladder (default 25, 50, 200, 400, 800 units,
``--ladder-seconds`` each) shows how the cost grows and the largest number of units the
ingest keeps up with (p99 ≤ 1 s and every message committed; the ladder stops above the
main run's count at the first that falls behind). The units are spread over publisher
processes (:data:`UNITS_PER_PROCESS`). Exits 0 either way.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "fleet")]

TARGET_UNITS = 100
TARGET_P99_S = 1.0
WARMUP_S = 3.0
DRAIN_S = 20.0
FRAME_EVERY_S = 30
UNITS_PER_PROCESS = 150
"""paho waits on select(), which takes no descriptor above 1023: about 340 clients a
process at most, so the units are spread over publisher processes."""


def publish(port: int, password: str, first: int, units: int, seconds: float) -> None:
    """A publisher process: fake units ``first``… for ``seconds``; prints the count."""
    from fleet_helpers import FakeUnit, frame_data

    fakes = [FakeUnit("127.0.0.1", port, f"u{n:04d}", password, user="operator")
             for n in range(first, first + units)]
    published = len(fakes)  # their births
    start = time.monotonic()
    tick = 0
    while time.monotonic() < start + seconds:
        for n, fake in enumerate(fakes):
            fake.publish("status", {"state": "observing", "reason": "dark", "tick": tick},
                         retain=True, wait=False)
            fake.publish("weather", {"safe": True, "reasons": [], "wind_speed": 3.0},
                         wait=False)
            published += 2
            if (tick + first + n) % FRAME_EVERY_S == 0:  # staggered by unit
                fake.publish("frame", frame_data(fake.name, tick), wait=False)
                published += 1
        tick += 1
        time.sleep(max(0.0, start + tick - time.monotonic()))
    time.sleep(1.0)  # the last PUBACKs
    for fake in fakes:
        fake.client.disconnect()
        fake.client.loop_stop()
    print(published, flush=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_run(units: int, seconds: float) -> dict[str, float]:
    """One run on its own broker and schema (no retained message of another run)."""
    import tempfile

    from fleet_helpers import fresh_schema, wait_for
    from sqlalchemy import create_engine, text

    from mqtt_helpers import Mosquitto

    users = {"operator": "bench-operator", "ingest": "bench-ingest"}
    with tempfile.TemporaryDirectory(prefix="nocturna-bench-fleet-") as home, \
            Mosquitto(Path(home), users=users) as broker, fresh_schema() as url:
        ingest = subprocess.Popen(
            [sys.executable, "-m", "nocturna", "fleet", "ingest", "--broker",
             broker.url("ingest"), "--db", url, "--client-id", f"bench-{units}",
             "--report-every", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        engine = create_engine(url)
        try:
            def connected() -> bool:
                try:
                    with engine.connect() as c:
                        return bool(c.scalar(text("SELECT connected FROM fleet_ingest")))
                except Exception:
                    return False

            wait_for(connected, "the ingest", 60)
            publishers = [subprocess.Popen(
                [sys.executable, __file__, "--publish", str(broker.port),
                 broker.users["operator"], str(first), str(min(UNITS_PER_PROCESS,
                                                                units - first)), str(seconds)],
                stdout=subprocess.PIPE, text=True)
                for first in range(0, units, UNITS_PER_PROCESS)]
            time.sleep(WARMUP_S)
            cpu0, wall0 = cpu_seconds(ingest.pid), time.monotonic()
            time.sleep(max(0.0, seconds - WARMUP_S))
            cpu1, wall1 = cpu_seconds(ingest.pid), time.monotonic()
            published = 0
            for publisher in publishers:
                output = publisher.communicate(timeout=120)[0].split()
                if publisher.returncode or not output:
                    raise RuntimeError(f"a publisher of {units} units failed")
                published += int(output[-1])
            deadline = time.monotonic() + DRAIN_S
            while time.monotonic() < deadline:
                with engine.connect() as c:
                    committed = c.scalar(text("SELECT count(*) FROM fleet_messages"))
                if committed >= published:
                    break
                time.sleep(0.2)
            with engine.connect() as c:
                row = c.execute(text("""
                    WITH m AS (SELECT EXTRACT(EPOCH FROM committed_at - time) AS e2e,
                                      EXTRACT(EPOCH FROM received_at - time) AS recv,
                                      time FROM fleet_messages),
                         w AS (SELECT * FROM m WHERE time >= (SELECT min(time) FROM m)
                                                      + make_interval(secs => :warm))
                    SELECT count(*) FILTER (WHERE time < (SELECT max(time) FROM w)
                                                         - interval '0.5 s'),
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY e2e),
                           percentile_cont(0.99) WITHIN GROUP (ORDER BY e2e),
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY recv),
                           percentile_cont(0.99) WITHIN GROUP (ORDER BY recv),
                           EXTRACT(EPOCH FROM max(time) - min(time)) FROM w"""),
                    {"warm": WARMUP_S}).one()
        finally:
            ingest.send_signal(signal.SIGTERM)
            ingest.wait(30)
            engine.dispose()
    count, p50, p99, r50, r99, span = row  # count: whole ticks only, the last one left out
    return {"units": units, "published": published, "committed": committed,
            "rate": count / span if span else 0.0, "p50": p50, "p99": p99,
            "recv_p50": r50, "recv_p99": r99,
            "cpu": (cpu1 - cpu0) / (wall1 - wall0)}


def keeps_up(result: dict[str, float]) -> bool:
    return result["p99"] <= TARGET_P99_S and result["committed"] >= result["published"]


def line(r: dict[str, float]) -> str:
    return (f"{r['units']:5d} units  {r['rate']:7.1f} msg/s  e2e p50 {r['p50'] * 1e3:7.1f} ms"
            f"  p99 {r['p99'] * 1e3:7.1f} ms  (broker only p99 {r['recv_p99'] * 1e3:6.1f} ms)"
            f"  ingest CPU {r['cpu'] * 100:5.1f} %  {r['committed']}/{r['published']} "
            f"committed  {'keeps up' if keeps_up(r) else 'FALLS BEHIND'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=TARGET_UNITS)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--ladder", default="25,50,200,400,800",
                        help="other unit counts, in order, until one falls behind ('' for "
                             "none)")
    parser.add_argument("--ladder-seconds", type=float, default=15.0)
    parser.add_argument("--publish", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        port, password, first, units, seconds = args.publish
        publish(int(port), password, int(first), int(units), float(seconds))
        return 0
    if not os.environ.get("NOCTURNA_TEST_PG"):
        print("bench/fleet.py: set NOCTURNA_TEST_PG (export NOCTURNA_TEST_PG=$(bash "
              ".ci/postgres.sh | tail -n1))", file=sys.stderr)
        return 2
    main_run = one_run(args.units, args.seconds)
    print(line(main_run), flush=True)
    results = [main_run]
    for units in [int(n) for n in args.ladder.split(",") if n.strip()]:
        try:
            results.append(one_run(units, args.ladder_seconds))
        except RuntimeError as exc:
            print(f"{units:5d} units  not measured: {exc}", flush=True)
            break
        print(line(results[-1]), flush=True)
        if units > args.units and not keeps_up(results[-1]):
            break
    print()
    print("cost per unit (ingest CPU % of one core per unit):")
    for r in sorted(results, key=lambda r: r["units"]):
        print(f"  {r['units']:5d} units: {r['cpu'] * 100 / r['units']:.3f} %/unit, "
              f"{r['rate'] / r['units']:.2f} msg/s/unit")
    good = [r["units"] for r in results if keeps_up(r)]
    print(f"largest number of units kept up with (p99 <= {TARGET_P99_S:g} s): "
          f"{max(good) if good else 'none'} of those tried")
    met = main_run["units"] >= TARGET_UNITS and keeps_up(main_run)
    ratio = main_run["p99"] / main_run["recv_p99"] if main_run["recv_p99"] else float("nan")
    print(f"target: {TARGET_UNITS} units with p99 <= {TARGET_P99_S:g} s: "
          f"{'met' if met else 'missed'} (p99 {main_run['p99']:.3f} s at "
          f"{main_run['units']} units; {main_run['p99'] / TARGET_P99_S:.2f}x the target; "
          f"{ratio:.2f}x the broker-only p99 measured in the same run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
