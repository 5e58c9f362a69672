"""A unit whose devices all come from a real ``nocturna alpaca serve`` process: when the
server stops answering (SIGSTOP) its components go to FAULT and the unit makes itself
safe; when it answers again (SIGCONT) they recover to ENABLED and the unit observes
again. With real devices the unit runs on real time, so the site is put where it is
night now and the timing settings are short."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from process_helpers import count, light_frames, start_run, wait_for
from ruamel.yaml import YAML

from nocturna.core.astro import local_sidereal_time, site_location
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from unit_helpers import dark_longitude_now

KINDS = {"mount": None, "dome": None, "focusers": "foc0", "filterwheels": "fw0",
         "switches": "power0", "weather": "weather0", "safety_monitors": "safety0",
         "cover_calibrators": "flat0", "cameras": "cam0"}


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(tmp_path: Path, longitude: float, port: int) -> subprocess.Popen[bytes]:
    """``nocturna alpaca serve --simulate`` with the demo devices, the site in the night."""
    site = tmp_path / "server.yaml"
    YAML(typ="safe", pure=True).dump({
        "site": {"longitude": f"{longitude} deg"}, "data_dir": str(tmp_path / "server-data"),
        # quick hardware: the unit runs on real time
        "mount": {"name": "mount0", "driver": "sim", "slew_rate_deg_s": 20,
                  "slew_settle_time_s": 1},
        "dome": {"name": "dome0", "driver": "sim", "shutter_time_s": 3,
                 "slew_rate_deg_s": 30},
        "cover_calibrators": [{"name": "flat0", "driver": "sim", "cover_time_s": 2}],
        "cameras": [{"name": "cam0", "driver": "sim", "primary": True, "filterwheel": "fw0",
                     "focuser": "foc0", "width": 512, "height": 512, "readout_s": 0.5}]},
        site)
    with (tmp_path / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nocturna.cli.main", "--config", str(site), "alpaca",
             "serve", "--simulate", "--port", str(port), "--discovery-port",
             str(free_port(socket.SOCK_DGRAM))], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            httpx.get(f"http://127.0.0.1:{port}/management/apiversions", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the Alpaca server did not answer within 60 s")


def unit_site(tmp_path: Path, longitude: float, port: int) -> Path:
    """Every device over Alpaca from the server; short heartbeats, checks and retries."""
    def remote(name: str, **extra: object) -> dict[str, object]:
        return {"name": name, "driver": "alpaca", "address": f"127.0.0.1:{port}",
                "device_number": 0, "timeout_s": 3, **extra}

    site: dict[str, object] = {
        "data_dir": str(tmp_path / "data"),
        "site": {"longitude": f"{longitude} deg"},
        "observatory": {
            "heartbeat_interval": "2 s", "status_interval": "5 s",
            "safety": {"check_interval": "2 s"},
            "fault_recovery": {"first_retry": "3 s", "max_retry": "6 s"},
            "calibrations": {"twilight_flats": {"enabled": False},
                             "dome_flats": {"enabled": False}, "bias": 1, "darks": 1},
            "pointing": {"enabled": False}, "autofocus": {"enabled": False},
            "tracking": {"enabled": False}},
        "mount": remote("mount0"), "dome": remote("dome0"), "rotators": [],
        "spectrographs": [],
    }
    for section, name in KINDS.items():
        if name is None:
            continue
        extra: dict[str, object] = {}
        if section == "safety_monitors":
            extra["weather"] = "weather0"
        if section == "cameras":
            extra = {"primary": True, "filterwheel": "fw0", "focuser": "foc0",
                     "focal_length_mm": 85, "aperture_mm": 60}
        site[section] = [remote(name, **extra)]
    path = tmp_path / "site.yaml"
    YAML(typ="safe", pure=True).dump(site, path)
    config = Config.load(path, environ={})
    ra_deg = local_sidereal_time(site_location(config.model.site), datetime.now(UTC)).deg
    fields = {"fields": [{"name": "Overhead", "ra": f"{ra_deg:.4f} deg", "dec": "20 deg",
                          "exptime": "3 s", "filter": "L", "min_nexp": 200,
                          "exp_set_size": 5}]}
    YAML(typ="safe", pure=True).dump(fields, tmp_path / "fields.yaml")
    return path


def _since(after: float) -> str:
    return datetime.fromtimestamp(after, UTC).strftime("%Y-%m-%d %H:%M:%S")


def component_rows(data: Path, state: str, after: float = 0.0) -> int:
    """``component.state`` telemetry rows that went to ``state`` after POSIX ``after``."""
    return count(data, "select count(*) from telemetry where kind = 'component.state' "
                       f"and json_extract(data, '$.to') = '{state}' and time > '{_since(after)}'")


def transitions_to(data: Path, state: str, after: float) -> int:
    """State-machine transitions into ``state`` after POSIX ``after``."""
    return count(data, f"select count(*) from transitions where to_state = '{state}' "
                       f"and time > '{_since(after)}'")


def test_a_stopped_alpaca_server_faults_the_unit_and_it_recovers_and_observes_again(tmp_path):
    longitude, port = dark_longitude_now(), free_port()
    server = serve(tmp_path, longitude, port)
    site = unit_site(tmp_path, longitude, port)
    data, log = tmp_path / "data", tmp_path / "run.log"
    unit = start_run(site, "--fields", str(tmp_path / "fields.yaml"), log=log, simulate=False)
    try:
        wait_for(lambda: light_frames(data) >= 2, unit, 120, "two light frames")
        server.send_signal(signal.SIGSTOP)
        stopped = time.time()
        wait_for(lambda: component_rows(data, "fault", stopped - 1) >= 1, unit, 60,
                 "a component in FAULT")
        # the unit makes itself safe: because a component faulted, because the safety
        # check saw it, or because its observation failed on a device timeout first
        wait_for(lambda: transitions_to(data, "parking", stopped - 1) >= 1, unit, 60,
                 "parking while the server is stopped")
        server.send_signal(signal.SIGCONT)
        resumed = time.time()
        wait_for(lambda: component_rows(data, "enabled", resumed - 1) >= 1, unit, 60,
                 "a component back to ENABLED")
        frames_before = light_frames(data)
        wait_for(lambda: light_frames(data) > frames_before + 1, unit, 90,
                 "light frames after the recovery")
        unit.send_signal(signal.SIGTERM)
        assert unit.wait(60) == 0, log.read_text()[-3000:]
    finally:
        for process in (unit, server):
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.wait(10)
    with Storage.open(data_dir=data) as storage:
        states = [(r.time, r.data["component"], r.data["to"])
                  for r in reversed(storage.list_telemetry("component.state"))]
        faulted = {name for _, name, to in states if to == "fault"}
        assert faulted
        for name in faulted:  # every faulted component ended ENABLED before the stop
            history = [to for _, who, to in states if who == name]
            last_fault = len(history) - 1 - history[::-1].index("fault")
            assert "enabled" in history[last_fault:], (name, history)
