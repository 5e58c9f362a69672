"""The ingest against a real mosquitto and a real PostgreSQL: every kind of message lands
in its table once, bad messages are skipped, and nothing is lost or doubled across a
broker restart or a database outage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from fleet_helpers import FakeUnit, TcpRelay, wait_for, with_schema
from sqlalchemy import select
from sqlalchemy.engine import make_url

from nocturna.fleet import schema
from nocturna.fleet.ingest import Ingest
from nocturna.fleet.migrations import migrate_fleet
from nocturna.fleet.store import FleetStore, count, open_fleet_engine
from nocturna.network.broker import BrokerAddress


@contextmanager
def running_ingest(broker, db_url: str, **options) -> Iterator[Ingest]:
    """An ingest in a thread, subscribed before this yields; stopped after."""
    engine = open_fleet_engine(db_url)
    migrate_fleet(engine)
    ingest = Ingest(BrokerAddress.parse(broker.url("ingest")), FleetStore(engine), **options)
    thread = threading.Thread(target=ingest.run, daemon=True)
    thread.start()
    try:
        wait_for(ingest.subscribed.is_set, "the ingest's subscription")
        yield ingest
    finally:
        ingest.stop()
        thread.join(30)
        engine.dispose()


@contextmanager
def unit(broker, name: str, **options) -> Iterator[FakeUnit]:
    fake = FakeUnit("127.0.0.1", broker.port, name, broker.users[name], **options)
    try:
        yield fake
    finally:
        fake.close()


def rows(engine, table) -> list:
    with engine.connect() as connection:
        return connection.execute(select(table)).mappings().all()


def test_every_kind_lands_in_its_table_and_a_duplicate_changes_nothing(broker, db_url):
    t0 = datetime(2026, 12, 15, 21, 0, tzinfo=UTC)
    with running_ingest(broker, db_url) as ingest, unit(broker, "pan001") as pan:
        frame = pan.frame(1)
        pan.client.publish(pan.topic("frame"), pan.envelope(
            "frame", {"image_id": "x", "path": "/dup"}, message_id=frame), qos=1
        ).wait_for_publish(5)  # the same id again (different body): ignored
        pan.publish("transition", {"from": "ready", "to": "observing", "reason": "dark"},
                    when=t0)
        pan.publish("component", {"component": "mount", "from": "ENABLED", "to": "FAULT",
                                  "reason": "silent"}, when=t0)
        pan.publish("weather", {"safe": False, "reasons": ["wind 60 km/h"],
                                "wind_speed": 60.0}, when=t0)
        pan.publish("status", {"state": "parked", "reason": "wind"}, when=t0 + timedelta(1))
        pan.publish("status", {"state": "observing", "reason": "old"}, when=t0)  # older
        pan.publish("summary", {"start": "2026-12-15T20:00:00Z", "light_frames": {"M42": 1}})
        pan.publish("notification", {"level": "warning", "subject": "s", "text": "t"})
        pan.publish("command/ack", {"command_id": "c1", "accepted": False,
                                    "category": "state", "message": "busy"})
        wait_for(lambda: ingest.totals["received"] >= 11, "eleven messages")
        wait_for(lambda: ingest.totals["written"] + ingest.totals["duplicates"] >= 11,
                 "eleven messages written")
        engine = ingest.store.engine
        assert ingest.totals["duplicates"] == 1
        assert count(engine, schema.fleet_messages) == 10  # online + 9 distinct
        [exposure] = rows(engine, schema.fleet_exposures)
        assert (exposure["image_id"], exposure["night"], exposure["sha256"]) == (
            "pan001-1", "2026-12-15", f"{1:064x}")
        transitions = {r["component"]: r["to_state"] for r in rows(engine,
                                                                   schema.fleet_transitions)}
        assert transitions == {None: "observing", "mount": "FAULT"}
        kinds = sorted(r["kind"] for r in rows(engine, schema.fleet_telemetry))
        assert kinds == ["notification", "status", "status", "weather"]
        [night] = rows(engine, schema.fleet_nights)
        assert night["night"] == "2026-12-15" and night["data"]["light_frames"] == {"M42": 1}
        [command] = rows(engine, schema.fleet_commands)
        assert (command["command_id"], command["accepted"], command["message"]) == (
            "c1", False, "busy")
        [row] = rows(engine, schema.fleet_units)
        assert row["online"] is True
        assert (row["state"], row["state_reason"]) == ("parked", "wind")  # the newest
        assert (row["weather_safe"], row["weather_reasons"]) == (False, ["wind 60 km/h"])


def test_bad_messages_are_skipped_and_the_ingest_goes_on(broker, db_url, caplog):
    caplog.set_level(logging.WARNING, logger="nocturna.fleet")
    with running_ingest(broker, db_url) as ingest, unit(broker, "pan001") as pan:
        pan.raw("frame", b"\x00\x01 garbage")
        pan.raw("frame", b'{"v": 1}')
        pan.raw("teapot", pan.envelope("teapot", {}))
        pan.raw("frame", pan.envelope("frame", {"image_id": 1}))  # no path
        # valid JSON the database cannot store (NUL in a JSONB string): refused there
        pan.publish("notification", {"level": "info", "subject": "\u0000", "text": "t"})
        good = pan.frame(2)
        wait_for(lambda: count(ingest.store.engine, schema.fleet_messages, id=good),
                 "the good frame after the bad ones")
        assert count(ingest.store.engine, schema.fleet_exposures) == 1
        assert ingest.totals["rejected"] == 5
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 5 and any("not UTF-8 JSON" in m for m in skipped)


def test_a_broker_restart_loses_nothing(broker, db_url):
    with running_ingest(broker, db_url) as ingest, unit(broker, "pan001") as pan:
        first = [pan.frame(n) for n in range(10)]
        broker.restart()
        pan.wait_connected()
        later = [pan.frame(n) for n in range(10, 20)]
        engine = ingest.store.engine
        wait_for(lambda: count(engine, schema.fleet_exposures) >= 20, "twenty frames")
        stored = {r["message_id"] for r in rows(engine, schema.fleet_exposures)}
        assert stored == set(first + later)


def test_a_database_outage_keeps_the_messages_until_it_is_back(broker, db_url):
    url = make_url(db_url.partition("?")[0])
    relay = TcpRelay((url.host, url.port))
    relayed = with_schema(str(url.set(port=relay.port).render_as_string(False)),
                          db_url.split("search_path%3D")[1])
    try:
        with running_ingest(broker, relayed) as ingest, unit(broker, "pan001") as pan:
            relay.cut()
            sent = [pan.frame(n) for n in range(15)]
            wait_for(lambda: ingest.figures()["backlog"] >= 1, "messages held back")
            direct = open_fleet_engine(db_url)
            assert count(direct, schema.fleet_exposures) == 0
            relay.restore()
            wait_for(lambda: count(direct, schema.fleet_exposures) >= 15, "fifteen frames")
            assert {r["message_id"] for r in rows(direct, schema.fleet_exposures)} == set(sent)
            direct.dispose()
    finally:
        relay.close()


def test_the_lag_is_logged_and_stored(broker, db_url, caplog):
    caplog.set_level(logging.INFO, logger="nocturna.fleet")
    with running_ingest(broker, db_url, report_every_s=0.2) as ingest, \
            unit(broker, "pan001") as pan:
        def reported():  # stale weather keeps coming until a stored report shows it
            pan.publish("weather", {"safe": True},
                        when=datetime.now(UTC) - timedelta(seconds=30))
            found = rows(ingest.store.engine, schema.fleet_ingest)
            return found and (found[0]["event_lag_max_s"] or 0) >= 30 and found[0]

        row = wait_for(reported, "a report of the 30 s lag")
        assert row["event_lag_p50_s"] is not None and 30 <= row["event_lag_max_s"] < 300
        assert row["connected"] and row["client_id"] == "nocturna-ingest"
        assert row["write_lag_p50_s"] >= 0 and row["backlog"] >= 0
    assert any("lag event→receipt" in r.getMessage() for r in caplog.records)


def test_the_ingest_and_fleet_park_speak_tls_with_the_brokers_ca(tmp_path, db_url, capsys):
    from mqtt_helpers import Mosquitto
    from nocturna.cli.main import main

    users = {"pan001": "pw1", "operator": "pw0", "ingest": "pwi"}
    with Mosquitto(tmp_path / "tls", users=users, tls=True) as broker:
        engine = open_fleet_engine(db_url)
        migrate_fleet(engine)
        ingest = Ingest(BrokerAddress.parse(broker.url("ingest", tls=True)), FleetStore(engine),
                        ca_file=broker.ca_file)
        thread = threading.Thread(target=ingest.run, daemon=True)
        thread.start()
        try:
            wait_for(ingest.subscribed.is_set, "the ingest's subscription over TLS")
            with unit(broker, "pan001") as pan:
                sent = pan.frame(1)
                wait_for(lambda: count(engine, schema.fleet_exposures) == 1, "the frame")
                with engine.connect() as connection:
                    assert connection.scalar(select(schema.fleet_exposures.c.message_id)) == sent
                code = main(["fleet", "park", "pan001", "--broker",
                             broker.url("operator", tls=True), "--ca-file",
                             str(broker.ca_file), "--timeout", "10"])
                assert code == 0 and "pan001: accepted" in capsys.readouterr().out
                refused = main(["fleet", "park", "pan001", "--broker",
                                broker.url("operator", tls=True), "--timeout", "5"])
                assert refused == 1  # the system's CAs do not know the test CA
        finally:
            ingest.stop()
            thread.join(30)
            engine.dispose()
