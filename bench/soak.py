"""The soak: many simulated nights back to back on one data directory, with weather and
faults, each night a real ``nocturna run`` process.

    python bench/soak.py --nights 20 --seed 7

Every night gets seeded random weather (sometimes a spell of rain) and one or two
injected faults from the simulators' scenario options (a device that freezes or
disconnects, an exception mid-exposure, a slow readout, a full disk, a clock jump);
some nights the process is also SIGKILLed at a random moment and restarted with
``--start continue``. After each night the soak checks, from the data directory
itself: that the unit ended parked and closed, the frames of the night, frames lost or
corrupt (every file's checksums, files without rows and rows without files), the worst
time from unsafe weather to parked and closed, the dark time spent exposing, and the
faults injected and recovered (a faulted device ENABLED again). It prints one table row
per night and the totals against the targets: every night parked and closed, no frame
lost or corrupt, worst safety latency at most 60 s, all within 20 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from nocturna.core.astro import site_location
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.images.fits import verify_fits
from nocturna.observatory.sun import SunAltitudes
from nocturna.runtime.reconcile import reconcile_images

FIRST_NIGHT = "2026-12-14"  # the evening of the first night (site time: 17:30 HST)
START = "2026-12-15T03:30:00Z"  # before the first evening's flats at the demo site
SUN = SunAltitudes(site_location(Config.load(None, load_local=False, environ={}).model.site))
MORNING_LIMIT_DEG = -18.0  # the demo site's observing twilight
TARGET_WALL_S = 20 * 60.0
TARGET_LATENCY_S = 60.0
DEVICE_FAULTS = ("freeze", "disconnect")
CAMERA_FAULTS = ("exception", "slow_readout")
UNIT_FAULTS = ("disk_full", "clock_jump")
DEVICES = ("mount0", "dome0", "foc0", "fw0", "weather0")
SOAK_CAMERA = {"name": "cam0", "driver": "sim", "primary": True, "filterwheel": "fw0",
               "focuser": "foc0", "focal_length_mm": 85, "aperture_mm": 60,
               "width": 1024, "height": 1024, "pixel_size_um": 8.6}
"""The demo camera's field of view on a quarter of its pixels: solves and renders cost
less, 20 nights of frames fit on an ordinary disk."""


@dataclass
class NightResult:
    night: int
    exit_codes: list[int] = field(default_factory=list)
    parked_closed: bool = False
    frames: int = 0
    light: int = 0
    lost: int = 0
    corrupt: int = 0
    latency_s: float | None = None
    exposing_pct: float = 0.0
    faults: list[str] = field(default_factory=list)
    injected: int = 0
    recovered: int = 0  # the unit observed again after the fault ended
    after_dark: int = 0  # the fault ended too late in the night to observe again
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def site_file(root: Path) -> Path:
    data = {"data_dir": str(root / "data"), "cameras": [SOAK_CAMERA],
            "observatory": {"status_interval": "60 s"}}
    path = root / "site.yaml"
    YAML(typ="safe", pure=True).dump(data, path)
    return path


@dataclass
class InjectedFault:
    label: str
    end: datetime  # UTC: when it is over


def site_time(evening: date, hhmm: str) -> datetime:
    """``HH:MM`` on the night of ``evening`` at the demo site, as UTC (12-23: that
    evening, 00-11: the next morning)."""
    hour, minute = map(int, hhmm.split(":"))
    day = evening if hour >= 12 else evening + timedelta(days=1)
    local = datetime.combine(day, datetime.min.time()).replace(
        hour=hour, minute=minute, tzinfo=ZoneInfo("US/Hawaii"))
    return local.astimezone(UTC)


def night_scenario(rng: random.Random, night: int, seed: int
                   ) -> tuple[dict, list[InjectedFault]]:
    """Weather and faults for one night (site time, HH:MM on the night)."""
    evening = (datetime.fromisoformat(FIRST_NIGHT) + timedelta(days=night)).date()
    scenario: dict = {"timezone": "US/Hawaii", "night": evening.isoformat(),
                      "random": {"seed": seed * 1000 + night,
                                 "cloudiness": round(rng.uniform(0.05, 0.35), 2),
                                 "wind_mean": round(rng.uniform(2, 6), 1)}}
    timeline = []
    if rng.random() < 0.35:  # a spell of rain
        begin = rng.randint(20, 28) % 24
        timeline.append({"from": f"{begin:02d}:{rng.choice(['00', '30'])}",
                         "until": f"{(begin + rng.randint(1, 2)) % 24:02d}:00", "sky": "rain"})
    if timeline:
        scenario["timeline"] = timeline
    faults, injected = [], []
    for _ in range(rng.choice((1, 1, 2))):
        kind = rng.choice(DEVICE_FAULTS + CAMERA_FAULTS + UNIT_FAULTS)
        hour = rng.choice((20, 21, 22, 23, 0, 1, 2, 3, 4))
        at = f"{hour:02d}:{rng.randint(0, 59):02d}"
        entry: dict = {"kind": kind, "from": at}
        if kind in DEVICE_FAULTS:
            entry["device"] = rng.choice(DEVICES)
            entry["duration"] = rng.choice((120, 600, 1800))
        elif kind in CAMERA_FAULTS:
            entry["device"] = "cam0"
            if kind == "slow_readout":
                entry.update(duration=1800, factor=rng.choice((3, 10)))
        elif kind == "disk_full":
            entry["duration"] = rng.choice((600, 1800))
        else:
            entry["seconds"] = rng.choice((60, 600, 3600))
        faults.append(entry)
        label = f"{kind}{'@' + entry['device'] if 'device' in entry else ''} {at}"
        end = site_time(evening, at) + timedelta(seconds=entry.get("duration", 0))
        injected.append(InjectedFault(label, end))
    scenario["faults"] = faults
    return scenario, injected


def run_night(root: Path, site: Path, night: int, scenario: dict, kill_after_s: float | None,
              seed: int, result: NightResult) -> dict | None:
    """One night: a process (killed and restarted once if asked); its JSON summary."""
    weather = root / f"night{night:02d}.yaml"
    YAML(typ="safe", pure=True).dump(scenario, weather)
    summary = root / f"night{night:02d}.json"
    log = root / f"night{night:02d}.log"
    start = START if night == 0 else "continue"
    args = [sys.executable, "-m", "nocturna.cli.main", "--config", str(site), "run",
            "--simulate", "--no-api", "--start", start, "--weather", str(weather), "--seed",
            str(seed * 1000 + night), "--summary-json", str(summary)]
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        if kill_after_s is not None:
            try:
                process.wait(kill_after_s)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                result.exit_codes.append(-9)
                result.faults.append(f"SIGKILL after {kill_after_s:.1f} s")
                args[args.index("--start") + 1] = "continue"
                process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        result.exit_codes.append(process.wait())
    if not summary.exists():
        result.notes.append(f"no summary (see {log})")
        return None
    data = json.loads(summary.read_text())
    summary.unlink()
    return data


def check_frames(storage: Storage, data: Path, since: datetime, result: NightResult) -> None:
    """The night's frames: every file verifies; DB and disk agree for the whole store."""
    rows = [r for r in storage.list_exposures(since=since)]
    result.frames = len(rows)
    result.light = sum(1 for r in rows if r.image_type == "OBJECT")
    for row in rows:
        try:
            verify_fits(row.path, require_checksum=True)
        except FileNotFoundError:
            result.lost += 1
        except Exception:
            result.corrupt += 1
    report = reconcile_images(storage, data, repair=False)
    result.lost += len(report.missing)
    result.corrupt += len(report.quarantined)
    if report.recovered:  # a file the last restart had not yet given its row
        result.notes.append(f"{len(report.recovered)} file(s) without a row")
        result.lost += len(report.recovered)


def component_faults(storage: Storage, since: datetime) -> list[str]:
    """Components that went to FAULT this night, and the state each ended in."""
    states: dict[str, list[str]] = {}
    for row in reversed(storage.list_telemetry("component.state", since=since)):
        states.setdefault(row.data["component"], []).append(row.data["to"])
    return [f"{name} FAULT→{seen[-1]}" for name, seen in states.items() if "fault" in seen]


def fault_outcomes(storage: Storage, since: datetime, faults: list[InjectedFault],
                   dark_end: datetime, unsafe: list[tuple[datetime, datetime]],
                   result: NightResult) -> None:
    """Per fault: did the unit observe again once it was over (or was it over too late,
    or was the weather unsafe from then on)?"""
    lights = [r.start_time for r in storage.list_exposures(since=since, image_type="OBJECT")]
    marks = []
    for fault in faults:
        if any(t > fault.end for t in lights):
            result.recovered += 1
            marks.append(f"{fault.label} ✓")
        elif fault.end >= dark_end - timedelta(minutes=20):
            result.after_dark += 1
            marks.append(f"{fault.label} (over at dawn)")
        elif any(start <= fault.end and end >= dark_end - timedelta(minutes=20)
                 for start, end in unsafe):
            result.after_dark += 1
            marks.append(f"{fault.label} (unsafe weather until dawn)")
        else:
            marks.append(f"{fault.label} ✗")
    result.faults[:0] = marks


def soak(nights: int, seed: int, root: Path, kill_share: float) -> list[NightResult]:
    rng = random.Random(seed)
    site = site_file(root)
    data = root / "data"
    results = []
    print(f"{'night':>5} {'ok':>3} {'frames':>6} {'light':>5} {'lost':>4} {'bad':>3} "
          f"{'latency':>7} {'expose':>6} {'wall':>6}  faults (✓ observed again after it)")
    for night in range(nights):
        result = NightResult(night + 1)
        scenario, faults = night_scenario(rng, night, seed)
        result.injected = len(faults)
        kill = rng.uniform(3.0, 25.0) if rng.random() < kill_share else None
        with Storage.open(data_dir=data) as storage:
            before = storage.list_transitions(limit=1)
        since = before[0].time if before else datetime.fromisoformat(START)
        began = time.perf_counter()
        summary = run_night(root, site, night, scenario, kill, seed, result)
        result.wall_s = time.perf_counter() - began
        if summary is not None:
            result.parked_closed = bool(summary["parked"] and summary["closed"])
            result.latency_s = summary.get("worst_safety_latency_s")
            result.exposing_pct = 100.0 * summary.get("efficiency", 0.0)
            if summary.get("failure"):
                result.notes.append(summary["failure"])
        with Storage.open(data_dir=data) as storage:
            check_frames(storage, data, since, result)
            evening = (datetime.fromisoformat(FIRST_NIGHT) + timedelta(days=night)).date()
            dark_end = SUN.crossing(MORNING_LIMIT_DEG,
                                    site_time(evening, "23:59"), rising=True) or since
            unsafe = [(datetime.fromisoformat(i["start"]),
                       datetime.fromisoformat(i["end"]) if i["end"] else dark_end)
                      for i in (summary or {}).get("interruptions", [])]
            fault_outcomes(storage, since, faults, dark_end, unsafe, result)
            result.notes.extend(component_faults(storage, since))
        results.append(result)
        latency = "-" if result.latency_s is None else f"{result.latency_s:.0f} s"
        print(f"{result.night:>5} {'yes' if result.parked_closed else 'NO':>3} "
              f"{result.frames:>6} {result.light:>5} {result.lost:>4} {result.corrupt:>3} "
              f"{latency:>7} {result.exposing_pct:>5.0f}% {result.wall_s:>5.0f}s  "
              f"{'; '.join(result.faults)}"
              + (f"  [{'; '.join(result.notes)}]" if result.notes else ""), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nights", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None,
                        help="work directory (default: a temporary one, removed afterwards)")
    parser.add_argument("--kill-share", type=float, default=0.25,
                        help="share of nights whose process is SIGKILLed and restarted")
    options = parser.parse_args()
    began = time.perf_counter()
    if options.data is not None:
        options.data.mkdir(parents=True, exist_ok=True)
        results = soak(options.nights, options.seed, options.data, options.kill_share)
    else:
        with tempfile.TemporaryDirectory(prefix="nocturna-soak-") as tmp:
            results = soak(options.nights, options.seed, Path(tmp), options.kill_share)
    wall = time.perf_counter() - began
    ok = sum(r.parked_closed for r in results)
    lost = sum(r.lost + r.corrupt for r in results)
    latencies = [r.latency_s for r in results if r.latency_s is not None]
    worst = max(latencies) if latencies else None
    print(f"\n{len(results)} nights in {wall / 60:.1f} min (target ≤ {TARGET_WALL_S / 60:.0f} "
          f"min, ratio {wall / TARGET_WALL_S:.2f}); ended parked and closed: {ok}/{len(results)}"
          f" (target all); frames lost or corrupt: {lost} (target 0); worst safety latency: "
          + ("none (never unsafe)" if worst is None else f"{worst:.0f} s") +
          f" (target ≤ {TARGET_LATENCY_S:.0f} s); frames: {sum(r.frames for r in results)}; "
          f"process kills: {sum(1 for r in results if -9 in r.exit_codes)} (all restarted "
          f"nights ended parked and closed: "
          f"{all(r.parked_closed for r in results if -9 in r.exit_codes)}); faults injected: "
          f"{sum(r.injected for r in results)}, observed again after: "
          f"{sum(r.recovered for r in results)}, over at dawn or under unsafe weather: "
          f"{sum(r.after_dark for r in results)}")
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M}Z on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
