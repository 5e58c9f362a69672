"""Three simulated units (``nocturna run`` processes) publish to one Mosquitto; one
``nocturna fleet ingest`` process writes to one PostgreSQL database. The broker is
restarted and the ingest killed while the units observe: afterwards the central
database holds exactly the frames and transitions each unit has in its own database,
each once. A unit SIGKILLed shows offline (its last will), then online again after its
restart; ``fleet park`` reaches one unit and then all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from fleet_helpers import wait_for
from ruamel.yaml import YAML
from sqlalchemy import select
from test_fleet_cli import ingest_connected, start_ingest

from nocturna.core.storage import Storage
from nocturna.fleet import schema
from nocturna.fleet.store import open_fleet_engine
from nocturna.fleet.views import read_fleet
from unit_helpers import FOCUSED, LOOPS_OFF, SMALL_CAMERA

UNITS = ("pan001", "pan002", "pan003")
START = "2026-12-15T08:00Z"  # 22:00 in Hawaii: dark, fields up


def start_unit(root: Path, unit: str, broker, *args: str) -> subprocess.Popen[bytes]:
    """``nocturna run --simulate`` of ``unit`` in its own process and data directory."""
    home = root / unit
    home.mkdir(exist_ok=True)
    site = home / "site.yaml"
    YAML(typ="safe", pure=True).dump({
        "name": unit, "data_dir": str(home / "data"), "cameras": [SMALL_CAMERA],
        "focusers": [FOCUSED], "observatory": LOOPS_OFF,
        "network": {"broker": broker.url(unit), "flush_timeout": "30 s"}}, site)
    log = (home / "run.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "nocturna", "--config", str(site), "run", "--no-api",
         "--simulate", *args], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())


def local_rows(root: Path, unit: str) -> tuple[Counter, Counter]:
    """(frames by image id, transitions by (to, reason)) in the unit's own database."""
    with Storage.open(data_dir=root / unit / "data") as storage:
        frames = Counter(row.image_id for row in storage.list_exposures())
        transitions = Counter((t.to_state, t.reason) for t in storage.list_transitions())
    return frames, transitions


def central_rows(engine, unit: str) -> tuple[Counter, Counter]:
    """The same, as the central database holds them (components' transitions left out)."""
    exposures, transitions = schema.fleet_exposures, schema.fleet_transitions
    with engine.connect() as connection:
        frames = Counter(connection.scalars(
            select(exposures.c.image_id).where(exposures.c.unit == unit)).all())
        moves = Counter(tuple(row) for row in connection.execute(
            select(transitions.c.to_state, transitions.c.reason)
            .where(transitions.c.unit == unit, transitions.c.component.is_(None))).all())
    return frames, moves


def stop(process: subprocess.Popen, how: signal.Signals = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(how)
    return process.wait(60)


def test_three_units_through_broker_and_ingest_restarts_arrive_exactly_once(
        tmp_path, broker, db_url):
    ingest = start_ingest(broker, db_url)
    units: list[subprocess.Popen] = []
    try:
        wait_for(lambda: ingest_connected(db_url), "the ingest to subscribe")
        units = [start_unit(tmp_path, unit, broker, "--start", START,
                            "--until", "2026-12-15T09:30Z") for unit in UNITS]
        engine = open_fleet_engine(db_url)
        wait_for(lambda: read_fleet(engine)[0], "the first unit in the central database",
                 timeout_s=60)
        broker.restart()  # mid-night: the units and the ingest reconnect
        stop(ingest, signal.SIGKILL)  # its uncommitted messages stay unacknowledged
        time.sleep(1.0)  # the units go on publishing; the broker queues for the ingest
        ingest = start_ingest(broker, db_url)
        for unit, process in zip(UNITS, units, strict=True):
            assert process.wait(240) == 0, (tmp_path / unit / "run.log").read_text()[-3000:]
        for unit in UNITS:
            local = local_rows(tmp_path, unit)
            assert sum(local[0].values()) > 5 and sum(local[1].values()) > 5
            wait_for(lambda u=unit, want=local: central_rows(engine, u) == want,
                     f"{unit}'s frames and transitions in the central database",
                     timeout_s=60)
        rows, _ = read_fleet(engine)
        assert {row.unit for row in rows} == set(UNITS)
        assert all(row.online is False for row in rows)  # each said offline at its end
        engine.dispose()
    finally:
        for process in units:
            if process.poll() is None:
                stop(process, signal.SIGKILL)
        stop(ingest)


def test_a_killed_unit_is_offline_then_back_and_fleet_park_reaches_one_then_all(
        tmp_path, broker, db_url, capsys):
    from nocturna.cli.main import main

    ingest = start_ingest(broker, db_url)
    paced = ("--start", START, "--until", "2026-12-15T14:00Z", "--speed", "120")
    units = {unit: start_unit(tmp_path, unit, broker, *paced) for unit in UNITS}
    try:
        wait_for(lambda: ingest_connected(db_url), "the ingest to subscribe")
        engine = open_fleet_engine(db_url)

        def online() -> dict[str, bool | None]:
            return {row.unit: row.online for row in read_fleet(engine)[0]}

        wait_for(lambda: online() == dict.fromkeys(UNITS, True), "three units online",
                 timeout_s=60)
        wait_for(lambda: local_rows(tmp_path, "pan003")[1], "pan003's first transitions",
                 timeout_s=60)
        stop(units["pan003"], signal.SIGKILL)
        wait_for(lambda: online().get("pan003") is False, "pan003's last will", timeout_s=60)
        units["pan003"] = start_unit(tmp_path, "pan003", broker, "--start", "continue",
                                     "--until", "2026-12-15T14:00Z", "--speed", "120")
        wait_for(lambda: online().get("pan003") is True, "pan003 online again", timeout_s=60)

        operator = broker.url("operator")
        assert main(["fleet", "park", "pan001", "--broker", operator, "--timeout", "20"]) == 0
        assert "pan001: accepted" in capsys.readouterr().out
        assert main(["fleet", "park", "--all", "--broker", operator, "--timeout", "20"]) == 0
        out = capsys.readouterr().out
        for unit in UNITS:
            assert f"{unit}: accepted" in out, out

        def parked(unit: str) -> bool:
            with Storage.open(data_dir=tmp_path / unit / "data") as storage:
                return any(t.to_state == "parked" for t in storage.list_transitions())
        for unit in UNITS:
            wait_for(lambda u=unit: parked(u), f"{unit} parked", timeout_s=60)
            wait_for(lambda u=unit: any(to == "parked" for to, _ in central_rows(engine, u)[1]),
                     f"{unit}'s park in the central database", timeout_s=60)
        with Storage.open(data_dir=tmp_path / "pan002" / "data") as storage:
            commands = [(c.command, c.operator, c.accepted) for c in storage.list_commands()]
        assert ("park", "mqtt:operator", True) in commands
        engine.dispose()
    finally:
        for process in units.values():
            stop(process, signal.SIGKILL)
        stop(ingest)
