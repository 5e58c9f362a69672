"""Whole simulated nights (virtual time) publishing to a real Mosquitto: what the broker
carries is what the unit's own database holds, in order, valid under schema.json."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from network_helpers import (
    UNIT,
    UNTIL,
    USERS,
    Watcher,
    as_transitions,
    night,
    retained,
    unique,
    validate,
)

from mqtt_helpers import Mosquitto, free_port
from nocturna.runtime.runner import run
from unit_helpers import unit_config


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """One night on the network, and everything the broker carried."""
    root = tmp_path_factory.mktemp("published")
    with Mosquitto(root, users=USERS) as broker, Watcher(broker) as watcher:
        ran = night(root / "unit", broker=broker.url(UNIT))
        watcher.wait_for(lambda: any(r.kind == "online" and not r.body["data"]["online"]
                                     for r in watcher.received), what="the unit going offline")
        status = retained(broker, f"nocturna/{UNIT}/status")
        online = retained(broker, f"nocturna/{UNIT}/online")
    return {**ran, "received": list(watcher.received), "status": status, "online": online}


def test_transitions_and_frames_match_the_units_database_exactly(published):
    received = unique(published["received"])
    assert as_transitions(r for r in received if r.kind == "transition") == \
        published["transitions"]
    frames = [r.body["data"] for r in received if r.kind == "frame"]
    rows = published["frames"]
    assert len(frames) == len(rows) > 5
    for frame in frames:
        row = rows[frame["image_id"]]
        assert (frame["sha256"], frame["path"], frame["camera"], frame["image_type"],
                frame["exposure_s"], frame["observation_id"], frame["exposure_id"]) == (
            row.checksum, row.path, row.camera, row.image_type, row.exposure_time_s,
            row.observation_id, row.header["EXPID"])
        assert datetime.fromisoformat(frame["start_time"]) == row.start_time
        assert frame["night"] == "2026-12-14"
        assert len(frame["sha256"]) == 64
    (summary,) = [r.body["data"] for r in received if r.kind == "summary"]
    assert summary == published["summary"].as_dict()


def test_every_message_is_valid_its_own_units_and_sent_once_from_the_outbox(published):
    received = published["received"]
    for item in received:
        validate(item.body)
        assert item.topic.startswith(f"nocturna/{UNIT}/") and item.body["unit"] == UNIT
        assert item.body["kind"] == item.kind
    kinds = {r.kind for r in received}
    assert {"online", "status", "transition", "weather", "component", "frame", "summary",
            "notification"} <= kinds
    outbox = published["outbox"]
    assert outbox and all(row.sent_at is not None for row in outbox)
    kept = {row.message_id for row in outbox if not row.topic.endswith("/status")}
    through_outbox = [r.body["id"] for r in received if r.kind not in ("online", "status")]
    assert sorted(through_outbox) == sorted(kept)  # each once, none missing
    statuses = {r.body["id"] for r in received if r.kind == "status"}
    # a status replaced while on its way is sent anyway: its row is gone, not the message
    assert {row.message_id for row in outbox if row.topic.endswith("/status")} <= statuses
    notifications = [r.body["data"] for r in received if r.kind == "notification"]
    assert any("summary" in n["subject"] for n in notifications)


def test_the_retained_status_is_the_ends_and_the_unit_says_it_is_offline(published):
    status, online = published["status"], published["online"]
    assert status.retain and online.retain
    assert online.body["data"] == {"online": False}
    assert status.body["data"]["state"] == published["transitions"][-1][2]
    assert status.body["data"]["unit"] == UNIT
    onlines = [r.body["data"]["online"] for r in published["received"] if r.kind == "online"]
    assert onlines[0] is True and onlines[-1] is False
    statuses = [r for r in published["received"] if r.kind == "status"]
    assert all(r.retain is False for r in statuses)  # live deliveries; retained to newcomers


def test_a_dead_broker_changes_nothing_in_the_night_and_a_restarted_unit_sends_its_backlog(
        tmp_path):
    alone = night(tmp_path / "alone", broker=None)
    dead_port = free_port()
    dead = night(tmp_path / "dead", broker=f"mqtt://{UNIT}:pw1@127.0.0.1:{dead_port}",
                 flush_timeout="0.2 s")
    assert dead["transitions"] == alone["transitions"]
    assert sorted(dead["frames"]) == sorted(alone["frames"])
    backlog = dead["outbox"]
    assert backlog and all(row.sent_at is None for row in backlog)
    # The broker comes up; the unit runs again (its next night) and sends the backlog first.
    with Mosquitto(tmp_path, users=USERS) as broker, Watcher(broker) as watcher:
        config = unit_config(tmp_path / "dead", name=UNIT, network={
            "broker": broker.url(UNIT)})
        run(config, simulate=True, start=UNTIL + timedelta(minutes=1),
            until=UNTIL + timedelta(minutes=11), seed=1, signals=False)
        received = unique(watcher.received)
    ids = [r.body["id"] for r in received if r.kind != "online"]
    assert ids[:len(backlog)] == [row.message_id for row in backlog]  # first, in order
    assert as_transitions(r for r in received[:len(backlog) + 1] if r.kind == "transition") \
        == dead["transitions"]
