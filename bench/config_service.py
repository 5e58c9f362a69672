"""Configuration service throughput: get and set operations per second over HTTP.

Run: ``python bench/config_service.py [--seconds S] [--threads N] [--no-reference]``

Starts nocturna's configuration service as a separate process (``python -m nocturna
... config serve``, saving ON) and the reference, the POCS config server of
``panoptes-utils[config]`` (Flask + gevent, ``--no-save-local``), as another, both on
127.0.0.1 with the same small site file. Each is measured, sequentially, for a fixed
wall time after a warm-up, with

* its own Python client (``ConfigClient`` / panoptes ``get_config`` + ``set_config``),
* a neutral client (stdlib ``http.client``, the same code for both servers), once on
  one keep-alive connection and once with a new connection per request,
* optionally N threads of that neutral client, in both modes (aggregate ops/s).

Why both modes: the reference's gevent server writes the response headers and body
in two ``send()`` calls without ``TCP_NODELAY``, so on a kept-alive connection every
answer waits ~40 ms for the client's delayed ACK (Nagle). A fresh connection starts
in quick-ACK mode and avoids that, which is why the panoptes client (a new connection
per call) is much faster than a keep-alive client against that server.

The reference is installed once into a virtualenv under ``bench/.cache`` (gitignored).
If it cannot be installed or started, the documented figures (246 get/s, 234 set/s)
are used instead and labelled as such. The target (nocturna's ``ConfigClient``:
gets >= 5,000/s, sets >= 2,500/s) is reported met or missed; the exit code is 0
either way, non-zero only when the benchmark itself fails.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

HOST = "127.0.0.1"
KEY = "site.horizon.default"
VALUES = ("35 deg", "36 deg")  # alternated by every set, so each set changes the value
TARGET = {"get": 5000.0, "set": 2500.0}  # ops/s with nocturna's own client (issue 17)
DOCUMENTED = {"get": 246.0, "set": 234.0}  # POCS config server, documented on this machine kind
REFERENCE_REQUIREMENT = "panoptes-utils[config]==0.2.48"
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_VENV = BENCH_DIR / ".cache" / "reference-venv"

SITE_YAML = """\
# Site file shared by both servers in the benchmark.
name: bench-unit
site:
  name: Benchmark site
  latitude: 19.54 deg
  longitude: -155.58 deg
  elevation: 3400 m
  horizon:
    default: 30 deg
"""

# Runs inside the reference virtualenv: times panoptes' own client, prints one JSON line.
REFERENCE_DRIVER = r'''
import json, sys, time
from importlib.metadata import version
from panoptes.utils.config.client import get_config, set_config

host, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seconds, warmup = float(sys.argv[4]), float(sys.argv[5])
values = ("35 deg", "36 deg")

def get(i):  # get_config returns the default (None) when the request fails
    return get_config(key, host=host, port=port) is not None

def set_(i):  # set_config logs and returns None when the request fails
    return set_config(key, values[i % 2], host=host, port=port) is not None

def timed(op, duration):
    n = errors = 0
    start = time.perf_counter()
    end = start + duration
    while True:
        errors += not op(n)
        n += 1
        now = time.perf_counter()
        if now >= end:
            return n, now - start, errors

out = {"versions": {p: version(p) for p in ("panoptes-utils", "flask", "gevent", "requests")}}
for name, op in (("get", get), ("set", set_)):
    timed(op, warmup)
    n, elapsed, errors = timed(op, seconds)
    out[name] = {"ops": n, "seconds": elapsed, "errors": errors}
last = get_config(key, host=host, port=port)
out["last_value"] = f"{last.value:g} {last.unit}" if hasattr(last, "unit") else str(last)
out["expected_value"] = values[(out["set"]["ops"] - 1) % 2]
print(json.dumps(out))
'''


# --------------------------------------------------------------------------- results
@dataclass
class Figure:
    """One timed run: operations, wall time and errors."""

    ops: int
    seconds: float
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Row:
    """get/s and set/s of one (server, client) pair."""

    server: str
    client: str
    nocturna: bool
    pair: str  # rows of the two servers with the same pair key are compared
    get: Figure | None = None
    set: Figure | None = None
    notes: list[str] = field(default_factory=list)

    def rate(self, op: str) -> float | None:
        figure: Figure | None = getattr(self, op)
        return None if figure is None else figure.rate


# ------------------------------------------------------------------------- timing
def timed(op: Callable[[int], object], seconds: float) -> Figure:
    """Call ``op(i)`` back to back for ``seconds`` of wall time."""
    n = 0
    start = time.perf_counter()
    end = start + seconds
    while True:
        op(n)
        n += 1
        now = time.perf_counter()
        if now >= end:
            return Figure(n, now - start)


def warm_then_time(op: Callable[[int], object], seconds: float, warmup: float) -> Figure:
    timed(op, warmup)
    return timed(op, seconds)


# ----------------------------------------------------------------- neutral client
class CountingConnection(http.client.HTTPConnection):
    """``http.client`` connection that counts TCP connects (keep-alive check)."""

    connects = 0
    _lock = threading.Lock()

    def connect(self) -> None:
        super().connect()  # (http.client sets TCP_NODELAY itself)
        with CountingConnection._lock:
            CountingConnection.connects += 1


@dataclass(frozen=True)
class Protocol:
    """How the neutral client asks one server for a get and a set."""

    name: str
    get: tuple[str, str, bytes | None]
    set: Callable[[str], tuple[str, str, bytes]]
    value_of: Callable[[Any], Any]  # decoded get answer -> the value

    @staticmethod
    def nocturna() -> Protocol:
        return Protocol(
            "GET /config?key=K, POST /config {key, value}",
            ("GET", f"/config?key={KEY}", None),
            lambda v: ("POST", "/config", json.dumps({"key": KEY, "value": v}).encode()),
            lambda answer: answer["value"],
        )

    @staticmethod
    def pocs() -> Protocol:
        """The POCS wire format (byte-identical requests for both servers)."""
        return Protocol(
            "POST /get-config {key}, POST /set-config {K: V}",
            ("POST", "/get-config", json.dumps({"key": KEY, "verbose": False}).encode()),
            lambda v: ("POST", "/set-config", json.dumps({KEY: v}).encode()),
            lambda answer: answer,
        )


class RawClient:
    """A keep-alive connection, or (``fresh``) a new one per request; answers must be 200."""

    def __init__(self, port: int, protocol: Protocol, fresh: bool = False) -> None:
        self.port = port
        self.conn = CountingConnection(HOST, port, timeout=10)
        self.protocol = protocol
        self.fresh = fresh

    def request(self, method: str, path: str, body: bytes | None) -> bytes:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.fresh:
            headers["Connection"] = "close"
            self.conn.close()
            self.conn = CountingConnection(HOST, self.port, timeout=10)
        for attempt in (1, 2):  # one retry if the server closed the idle connection
            try:
                self.conn.request(method, path, body, headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                if attempt == 2:
                    raise
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:200]!r}")
        return data

    def get(self, i: int = 0) -> bytes:
        return self.request(*self.protocol.get)

    def set(self, i: int) -> bytes:
        return self.request(*self.protocol.set(VALUES[i % 2]))

    def value(self) -> Any:
        return self.protocol.value_of(json.loads(self.get()))

    def close(self) -> None:
        self.conn.close()


def as_text(value: Any) -> str:
    """``{"value": 35.0, "unit": "deg"}`` / ``"35 deg"`` / Quantity -> ``"35 deg"``."""
    if isinstance(value, dict) and {"value", "unit"} <= value.keys():
        return f"{value['value']:g} {value['unit']}"
    if hasattr(value, "unit") and hasattr(value, "value"):
        return f"{value.value:g} {value.unit}"
    return str(value)


def check_last_value(row: Row, got: Any, ops: int) -> None:
    expected = VALUES[(ops - 1) % 2]
    if as_text(got) != expected:
        row.notes.append(f"after the sets, get returned {as_text(got)!r}, not {expected!r}")


def measure_raw(row: Row, port: int, protocol: Protocol, seconds: float, warmup: float,
                fresh: bool = False) -> Row:
    before = CountingConnection.connects
    client = RawClient(port, protocol, fresh)
    try:
        row.get = warm_then_time(client.get, seconds, warmup)
        row.set = warm_then_time(client.set, seconds, warmup)
        check_last_value(row, client.value(), row.set.ops)
    finally:
        client.close()
    connects = CountingConnection.connects - before
    if connects > 1 and not fresh:
        row.notes.append(f"{connects} TCP connections (keep-alive not held)")
    return row


def measure_threads(row: Row, port: int, protocol: Protocol, threads: int, seconds: float,
                    warmup: float, fresh: bool = False) -> Row:
    """``threads`` neutral clients at once; the aggregate ops/s."""
    for op in ("get", "set"):
        results: list[Figure] = []
        failures: list[BaseException] = []
        barrier = threading.Barrier(threads)

        def worker(op: str = op, results: list[Figure] = results,
                   failures: list[BaseException] = failures,
                   barrier: threading.Barrier = barrier) -> None:
            client = RawClient(port, protocol, fresh)
            try:
                call = client.get if op == "get" else client.set
                timed(call, warmup)
                barrier.wait()
                results.append(timed(call, seconds))
            except BaseException as exc:
                barrier.abort()
                failures.append(exc)
            finally:
                client.close()

        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        if failures:
            raise failures[0]
        total = Figure(sum(f.ops for f in results), max(f.seconds for f in results))
        setattr(row, op, total)
    return row


def measure_nocturna_client(row: Row, port: int, seconds: float, warmup: float) -> Row:
    from nocturna.configserver.client import ConfigClient

    client = ConfigClient(f"http://{HOST}:{port}")
    try:
        row.get = warm_then_time(lambda i: client.get(KEY), seconds, warmup)
        row.set = warm_then_time(lambda i: client.set(KEY, VALUES[i % 2]), seconds, warmup)
        check_last_value(row, client.get(KEY), row.set.ops)
    finally:
        client.close()
    return row


# ------------------------------------------------------------------ processes
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Processes:
    """Every process the benchmark started; each in its own process group."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], log: Path, cwd: Path,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                                       env=env, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        self.started.append(process)
        return process

    @staticmethod
    def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        """SIGTERM its process group (the POCS server forks a child), then SIGKILL."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        # the group may outlive its leader (a forked child): make sure it is gone
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        while self.started:
            self.stop(self.started.pop())


def wait_for_heartbeat(process: subprocess.Popen[bytes], port: int, log: Path,
                       timeout: float) -> float:
    """Seconds until ``GET /heartbeat`` answers 200; raises if the process dies first."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection(HOST, port, timeout=1)
            try:
                conn.request("GET", "/heartbeat")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - start
            finally:
                conn.close()
        time.sleep(0.05)
    raise RuntimeError(f"no heartbeat within {timeout:.0f} s:\n{tail(log)}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text[-lines:])


# ------------------------------------------------------------------ reference
class ReferenceUnavailable(Exception):
    """The reference could not be installed, started or measured."""


def reference_python(venv: Path) -> Path:
    """The venv's interpreter with panoptes-utils[config] installed (once, cached)."""
    python = venv / "bin" / "python"
    probe = ("import panoptes.utils.config.server, panoptes.utils.config.client, scalpl, "
             "flask, gevent")
    if python.exists() and subprocess.run([python, "-c", probe], capture_output=True,
                                          timeout=120).returncode == 0:
        return python
    say(f"installing the reference ({REFERENCE_REQUIREMENT}) into {venv} (once) ...")
    venv.parent.mkdir(parents=True, exist_ok=True)
    log = venv.parent / "reference-install.log"
    with log.open("wb") as out:
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [str(python), "-m", "pip", "install", "--disable-pip-version-check",
             REFERENCE_REQUIREMENT],
        ]
        for step in steps:
            try:
                code = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT,
                                      timeout=900).returncode
            except subprocess.TimeoutExpired:
                code = -1
            if code != 0:
                raise ReferenceUnavailable(
                    f"`{' '.join(step[-3:])}` failed (exit {code}); see {log}:\n{tail(log)}")
    check = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
    if check.returncode != 0:
        raise ReferenceUnavailable(f"installed but does not import:\n{check.stderr[-2000:]}")
    return python


def start_reference(procs: Processes, python: Path, workdir: Path) -> int:
    site = workdir / "reference" / "site.yaml"
    site.parent.mkdir()
    site.write_text(SITE_YAML)
    port = free_port()
    script = python.parent / "panoptes-config-server"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PANOPTES_")}
    log = workdir / "reference.log"
    # 0.2.48's CLI: the file is --config-file (not positional), saving is --no-save-local.
    process = procs.start(
        [str(script), "--host", HOST, "--port", str(port), "run", "--config-file", str(site),
         "--no-save-local", "--no-load-local"],
        log, site.parent, env,
    )
    try:
        took = wait_for_heartbeat(process, port, log, timeout=90)
    except RuntimeError as exc:
        raise ReferenceUnavailable(f"the POCS config server did not start: {exc}") from None
    say(f"  POCS config server up on port {port} in {took:.2f} s")
    return port


def measure_reference_client(row: Row, python: Path, port: int, workdir: Path,
                             seconds: float, warmup: float) -> tuple[Row, dict[str, str]]:
    driver = workdir / "reference_driver.py"
    driver.write_text(REFERENCE_DRIVER)
    args = [str(python), str(driver), HOST, str(port), KEY, str(seconds), str(warmup)]
    done = subprocess.run(args, capture_output=True, text=True, cwd=workdir,
                          timeout=4 * (seconds + warmup) + 120)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"driver failed ({done.returncode}): {done.stderr[-1500:]}")
    out = json.loads(lines[-1])
    for op in ("get", "set"):
        figure = Figure(out[op]["ops"], out[op]["seconds"], out[op]["errors"])
        setattr(row, op, figure)
        if figure.errors:
            row.notes.append(f"{figure.errors} failed {op} calls")
    if out["last_value"] != out["expected_value"]:
        row.notes.append(f"after the sets, get returned {out['last_value']!r}, "
                         f"not {out['expected_value']!r}")
    return row, out["versions"]


# ----------------------------------------------------------------- reporting
def say(text: str) -> None:
    print(text, flush=True)


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def fmt_ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "n/a"
    return f"×{ours / theirs:.1f}"


def print_table(rows: list[Row]) -> None:
    headers = ("server", "client", "get/s", "set/s",
               f"target get ≥ {TARGET['get']:,.0f}, set ≥ {TARGET['set']:,.0f}")
    body = []
    for row in rows:
        rates = [row.rate("get"), row.rate("set")]
        if not (row.nocturna and row.pair == "own"):  # the target is for nocturna's client
            verdict = ""
        elif None in rates:
            verdict = "not measured"
        else:
            verdict = ", ".join(
                f"{op} {'met' if (rate or 0.0) >= TARGET[op] else 'MISSED'}"
                for op, rate in zip(("get", "set"), rates, strict=True))
        body.append((row.server, row.client, fmt_rate(rates[0]), fmt_rate(rates[1]), verdict))
    widths = [max(len(r[i]) for r in [headers, *body]) for i in range(len(headers))]
    align = ["<", "<", ">", ">", "<"]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True))

    say(line(headers))
    say("  ".join("-" * w for w in widths))
    for cells in body:
        say(line(cells))
    for row in rows:
        for note in row.notes:
            say(f"  note [{row.server} / {row.client}]: {note}")


RATIO_PAIRS = (  # (label, nocturna row, reference row)
    ("own client vs own client", "own", "own"),
    ("http.client keep-alive", "ka", "ka"),
    ("http.client keep-alive, identical requests", "ka-pocs", "ka"),
    ("http.client new connection per request", "fresh", "fresh"),
    ("http.client keep-alive, threads", "ka-threads", "ka-threads"),
    ("http.client new connection, threads", "fresh-threads", "fresh-threads"),
)


def print_ratios(ours: dict[str, Row], theirs: dict[str, Row]) -> None:
    say("")
    say("ratios nocturna / reference (higher is better for nocturna)")
    for label, mine, ref in RATIO_PAIRS:
        if mine not in ours or ref not in theirs:
            continue
        a, b = ours[mine], theirs[ref]
        say(f"  {label:<44} get {fmt_ratio(a.rate('get'), b.rate('get')):>7}   "
            f"set {fmt_ratio(a.rate('set'), b.rate('set')):>7}   (measured in this run)")
    own = ours["own"]
    say(f"  {'own client vs DOCUMENTED POCS figures':<44} "
        f"get {fmt_ratio(own.rate('get'), DOCUMENTED['get']):>7}   "
        f"set {fmt_ratio(own.rate('set'), DOCUMENTED['set']):>7}   "
        f"(documented, not measured: {DOCUMENTED['get']:.0f} get/s, "
        f"{DOCUMENTED['set']:.0f} set/s)")


# ---------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="timed wall time per figure (default 3)")
    parser.add_argument("--warmup", type=float, default=0.5,
                        help="untimed warm-up before each figure (default 0.5)")
    parser.add_argument("--threads", type=int, default=4,
                        help="concurrent neutral clients for the aggregate rows (0: skip)")
    parser.add_argument("--no-reference", action="store_true",
                        help="do not install/run the POCS config server; use documented figures")
    parser.add_argument("--reference-venv", type=Path, default=DEFAULT_VENV,
                        help=f"virtualenv for the reference (default {DEFAULT_VENV})")
    return parser.parse_args(argv)


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the started servers are stopped."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


Plan = list[tuple[Row, Callable[[Row], Row]]]


def neutral_plan(server: str, nocturna: bool, port: int, protocol: Protocol,
                 args: argparse.Namespace) -> Plan:
    """The neutral-client rows, the same for both servers."""
    s, w, n = args.seconds, args.warmup, args.threads
    plan: Plan = [
        (Row(server, "http.client keep-alive", nocturna, "ka"),
         lambda r: measure_raw(r, port, protocol, s, w)),
        (Row(server, "http.client new connection/request", nocturna, "fresh"),
         lambda r: measure_raw(r, port, protocol, s, w, fresh=True)),
    ]
    if n > 0:
        plan += [
            (Row(server, f"http.client keep-alive ×{n} threads", nocturna, "ka-threads"),
             lambda r: measure_threads(r, port, protocol, n, s, w)),
            (Row(server, f"http.client new connection ×{n} threads", nocturna, "fresh-threads"),
             lambda r: measure_threads(r, port, protocol, n, s, w, fresh=True)),
        ]
    return plan


def execute(plan: Plan) -> dict[str, Row]:
    """Measure each row; a failing row is reported, not fatal."""
    done: dict[str, Row] = {}
    for row, measure in plan:
        say(f"  measuring {row.server} / {row.client} ...")
        try:
            done[row.pair] = measure(row)
        except Exception as exc:
            row.notes.append(f"failed: {exc!r}")
            done[row.pair] = row
    return done


def bench_nocturna(args: argparse.Namespace, procs: Processes, workdir: Path) -> dict[str, Row]:
    import nocturna

    site = workdir / "nocturna" / "site.yaml"
    site.parent.mkdir()
    site.write_text(SITE_YAML)
    port = free_port()
    log = workdir / "nocturna.log"
    process = procs.start(
        [sys.executable, "-m", "nocturna", "--config", str(site), "--data",
         str(workdir / "nocturna" / "data"), "config", "serve", "--host", HOST,
         "--port", str(port), "--save"],
        log, site.parent,
    )
    took = wait_for_heartbeat(process, port, log, timeout=60)
    probe = RawClient(port, Protocol.nocturna())
    beat = json.loads(probe.request("GET", "/heartbeat", None))
    probe.close()
    saving = Path(beat["local_file"]).name if beat.get("local_file") else "NOTHING"
    say(f"  nocturna {nocturna.__version__} up on port {port} in {took:.2f} s "
        f"(saves sets to {saving})")

    server = f"nocturna {nocturna.__version__} (save on)"
    s, w = args.seconds, args.warmup
    neutral = neutral_plan(server, True, port, Protocol.nocturna(), args)
    plan: Plan = [
        (Row(server, "nocturna ConfigClient", True, "own"),
         lambda r: measure_nocturna_client(r, port, s, w)),
        neutral[0],
        (Row(server, "http.client keep-alive, POCS endpoints", True, "ka-pocs"),
         lambda r: measure_raw(r, port, Protocol.pocs(), s, w)),
        *neutral[1:],
    ]
    rows = execute(plan)
    procs.stop(process)
    procs.started.remove(process)
    local = site.with_name("site_local.yaml")
    saved = local.read_text() if local.exists() else ""
    say(f"  nocturna stopped; {local.name} "
        + ("holds a saved value" if any(v in saved for v in VALUES) else "was NOT written"))
    return rows


def bench_reference(args: argparse.Namespace, procs: Processes,
                    workdir: Path) -> dict[str, Row]:
    """The POCS config server, measured the same ways; raises ReferenceUnavailable."""
    python = reference_python(args.reference_venv)
    try:
        port = start_reference(procs, python, workdir)
        own = Row("POCS config server (no-save)", "panoptes get_config/set_config", False, "own")
        say(f"  measuring {own.server} / {own.client} ...")
        try:
            own, versions = measure_reference_client(own, python, port, workdir,
                                                     args.seconds, args.warmup)
            own.server = f"POCS panoptes-utils {versions['panoptes-utils']} (no-save)"
            say("    reference stack: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
        except Exception as exc:
            own.notes.append(f"failed: {exc}")
        rows = {"own": own}
        rows.update(execute(neutral_plan(own.server, False, port, Protocol.pocs(), args)))
        return rows
    finally:
        procs.stop_all()


def run(args: argparse.Namespace, procs: Processes, workdir: Path) -> None:
    say(f"config service benchmark: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {args.seconds:g} s per figure after a {args.warmup:g} s "
        f"warm-up, key {KEY!r}, sets alternate {VALUES[0]!r}/{VALUES[1]!r}")
    ours = bench_nocturna(args, procs, workdir)
    theirs: dict[str, Row] = {}
    reason = "skipped (--no-reference)"
    if not args.no_reference:
        try:
            theirs = bench_reference(args, procs, workdir)
        except ReferenceUnavailable as exc:
            reason = str(exc)

    say("")
    say(f"results (ops/s; one client unless threaded; {args.seconds:g} s each, {HOST})")
    print_table(list(ours.values()) + list(theirs.values()))
    if not theirs:
        say("")
        say(f"reference NOT measured: {reason}")
        say("only the documented reference figures can be compared (below, not measured)")
    print_ratios(ours, theirs)
    say("")
    say("notes: nocturna saves sets to its local file (debounced); the reference runs with "
        "--no-save-local (with saving it rewrites its file on every set). The panoptes "
        "client opens a new TCP connection per call (requests.post, no session), as shipped; "
        "on a kept-alive connection the reference stalls ~40 ms per answer (Nagle + delayed "
        f"ACK). Threaded rows share the {os.cpu_count()} CPUs between client and server.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    procs = Processes()
    with sigterm_as_exit(), tempfile.TemporaryDirectory(prefix="nocturna-bench-") as tmp:
        try:
            run(args, procs, Path(tmp))
        finally:
            procs.stop_all()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: every server the benchmark started has been stopped", flush=True)
        sys.exit(130)
