"""``nocturna fleet``: the ingest as a process (killed and restarted: nothing lost or
doubled), ``fleet status`` from the rows, ``fleet park`` to one unit and to all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import ExitStack

import pytest
from fleet_helpers import FakeUnit, wait_for
from sqlalchemy import create_engine, select

from nocturna.cli.main import main
from nocturna.fleet import schema
from nocturna.fleet.store import count, open_fleet_engine


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def start_ingest(broker, db_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nocturna", "fleet", "ingest", "--broker",
         broker.url("ingest"), "--db", db_url, "--report-every", "0.5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())


def ingest_connected(db_url: str) -> bool:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(select(schema.fleet_ingest.c.connected)).first()
        return bool(row and row[0])
    except Exception:
        return False
    finally:
        engine.dispose()


def test_the_ingest_killed_and_restarted_loses_and_doubles_nothing(broker, db_url):
    process = start_ingest(broker, db_url)
    pan = FakeUnit("127.0.0.1", broker.port, "pan001", "pw1")
    try:
        wait_for(lambda: ingest_connected(db_url), "the ingest process to subscribe")
        sent = [pan.frame(n) for n in range(20)]
        process.send_signal(signal.SIGKILL)  # whatever it had not committed stays unacked
        process.wait(10)
        sent += [pan.frame(n) for n in range(20, 40)]  # the broker queues these
        process = start_ingest(broker, db_url)
        engine = open_fleet_engine(db_url)
        wait_for(lambda: count(engine, schema.fleet_exposures) >= 40, "forty frames")
        with engine.connect() as connection:
            stored = connection.scalars(select(schema.fleet_exposures.c.message_id)).all()
        assert sorted(stored) == sorted(sent)  # each once
        engine.dispose()
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        pan.close()
        if process.poll() is None:
            process.kill()
            process.wait()


def fill(broker, db_url: str) -> None:
    """Three units through a real ingest: two online, one gone (its last will)."""
    from test_ingest import running_ingest

    with running_ingest(broker, db_url) as ingest:
        units = [FakeUnit("127.0.0.1", broker.port, n, broker.users[n])
                 for n in ("pan001", "pan002", "pan003")]
        units[0].publish("status", {"state": "observing", "reason": "dark"})
        units[0].publish("weather", {"safe": True, "reasons": []})
        for n in range(3):
            units[0].frame(n, night="2026-12-15")
        units[0].frame(9, night="2026-12-14")  # an earlier night: not tonight
        units[1].publish("weather", {"safe": False, "reasons": ["rain"]})
        units[1].publish("transition", {"from": "observing", "to": "parked",
                                        "reason": "rain"})
        units[2].close(clean=False)
        engine = ingest.store.engine
        wait_for(lambda: count(engine, schema.fleet_units, online=False) == 1,
                 "pan003's last will")
        wait_for(lambda: count(engine, schema.fleet_messages) >= 12, "every message")
        for unit in units[:2]:
            unit.close()


def test_fleet_status_shows_every_unit_and_the_lag(broker, db_url, capsys):
    fill(broker, db_url)
    code, out, _ = run_cli(capsys, "fleet", "status", "--db", db_url)
    assert code == 0
    lines = {line.split()[1]: line for line in out.splitlines()
             if line.strip().startswith("│ pan")}
    assert "observing" in lines["pan001"] and "safe" in lines["pan001"]
    assert "3 (2026-12-15)" in lines["pan001"]
    assert "parked" in lines["pan002"] and "unsafe: rain" in lines["pan002"]
    assert "offline" in lines["pan003"]
    assert "ingest nocturna-ingest: disconnected" in out and "backlog" in out
    code, out, _ = run_cli(capsys, "fleet", "status", "--db", db_url, "--json")
    units = {u["unit"]: u for u in json.loads(out)["units"]}
    assert units["pan001"]["frames_tonight"] == 3 and units["pan003"]["online"] is False


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--db", "sqlite:///fleet.db"], 2, "must be PostgreSQL"),
    (["--db", "postgresql://nocturna:pw@127.0.0.1:1/x?connect_timeout=2"], 1,
     "cannot read the fleet database"),
    (["--db", "nonsense://"], 2, "--db"),
])
def test_fleet_status_bad_database_is_one_line(capsys, args, code, says):
    got, _, err = run_cli(capsys, "fleet", "status", *args)
    assert got == code and says in err and err.count("\n") == 1 and "pw" not in err


def test_fleet_status_of_a_database_without_fleet_tables(capsys, db_url):
    code, _, err = run_cli(capsys, "fleet", "status", "--db", db_url)
    assert code == 1 and "no fleet tables" in err


def test_fleet_park_reaches_one_unit(broker, capsys):
    with ExitStack() as stack:
        pan = FakeUnit("127.0.0.1", broker.port, "pan001", "pw1")
        stack.callback(pan.close)
        code, out, _ = run_cli(capsys, "fleet", "park", "pan001", "--broker",
                               broker.url("operator"), "--timeout", "10")
    assert code == 0 and "pan001: accepted: parking" in out
    [command] = pan.commands
    assert (command["v"], command["command"], command["by"]) == (1, "park", "operator")


def test_fleet_park_all_reports_each_unit(broker, capsys):
    with ExitStack() as stack:
        units = [FakeUnit("127.0.0.1", broker.port, "pan001", "pw1"),
                 FakeUnit("127.0.0.1", broker.port, "pan002", "pw2", accept=False)]
        gone = FakeUnit("127.0.0.1", broker.port, "pan003", "pw3")
        gone.close()  # offline: its retained online says false
        for unit in units:
            stack.callback(unit.close)
        code, out, _ = run_cli(capsys, "fleet", "park", "--all", "--broker",
                               broker.url("operator"), "--by", "night-ops")
    assert code == 1  # pan002 refused
    assert "pan001: accepted" in out
    assert "pan002: refused (state): refused: the unit is busy" in out
    assert "pan003: offline, not sent\n" in out
    assert units[0].commands[0]["by"] == "night-ops" and not gone.commands


def test_fleet_park_without_an_answer_fails(broker, capsys):
    pan = FakeUnit("127.0.0.1", broker.port, "pan001", "pw1", answer=False)
    try:
        code, out, _ = run_cli(capsys, "fleet", "park", "pan001", "--broker",
                               broker.url("operator"), "--timeout", "0.5")
    finally:
        pan.close()
    assert code == 1 and "pan001: no answer: no answer within 0.5 s" in out


@pytest.mark.parametrize(("args", "says"), [
    (["--broker", "mqtt://o:p@127.0.0.1:1"], "give one UNIT or --all"),
    (["pan001", "--all", "--broker", "mqtt://o:p@127.0.0.1:1"], "give one UNIT or --all"),
    (["pan/1", "--broker", "mqtt://o:p@127.0.0.1:1"], "UNIT 'pan/1'"),
    (["pan001", "--broker", "http://127.0.0.1"], "broker URL"),
])
def test_fleet_park_bad_arguments(capsys, args, says):
    code, _, err = run_cli(capsys, "fleet", "park", *args)
    assert code == 2 and says in err and err.count("\n") == 1


def test_fleet_park_unreachable_broker(capsys):
    code, _, err = run_cli(capsys, "fleet", "park", "pan001", "--broker",
                           "mqtt://o:secret@127.0.0.1:1")
    assert code == 1 and "cannot reach the broker" in err and "secret" not in err
