"""Nights steered from beside the unit's loop (virtual time waits for the real-time work
of the script): a broker stopped mid-night and brought back, commands over the network."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from network_helpers import START, UNIT, USERS, Watcher, as_transitions, command, night, unique

from mqtt_helpers import Mosquitto
from nocturna.core.storage import Storage


def test_a_broker_stopped_mid_night_loses_nothing_and_keeps_the_order(tmp_path, caplog):
    with Mosquitto(tmp_path, users=USERS) as broker, Watcher(broker) as watcher:

        async def script(control) -> None:
            clock = control.unit.clock
            await clock.sleep_until(START + timedelta(minutes=10))
            await asyncio.to_thread(broker.stop)  # virtual time waits for it
            await clock.sleep_until(START + timedelta(minutes=25))  # the night goes on
            await asyncio.to_thread(broker.start)

        with caplog.at_level(logging.WARNING, "nocturna.network"):
            ran = night(tmp_path / "unit", broker=broker.url(UNIT), script=script)
        watcher.wait_for(lambda: any(r.kind == "summary" for r in watcher.received),
                         what="the summary")
        received = unique(watcher.received)
    assert any("trying again" in r.getMessage() for r in caplog.records)  # it was cut off
    transitions = [r for r in received if r.kind == "transition"]
    assert as_transitions(transitions) == ran["transitions"]  # all, in order
    assert sorted(r.body["data"]["image_id"] for r in received if r.kind == "frame") == \
        sorted(ran["frames"])
    order = [r.body["id"] for r in received if r.kind not in ("online", "status")]
    kept = [row.message_id for row in ran["outbox"] if not row.topic.endswith("/status")]
    assert order == kept  # the outbox's order, every message once
    assert all(row.sent_at is not None for row in ran["outbox"])


def test_network_commands_run_with_a_local_commands_rules_and_are_acknowledged(tmp_path):
    answers: dict[str, dict] = {}
    with Mosquitto(tmp_path, users=USERS) as broker, Watcher(broker) as watcher:

        async def script(control) -> None:
            await control.unit.clock.sleep_until(START + timedelta(minutes=10))
            # the unit is connected and subscribed once its outbox is being sent
            await asyncio.to_thread(watcher.wait_for, lambda: watcher.of("transition"))
            for name, command_id, raw in (
                    ("resume", "c-1", None),  # nothing is held: refused
                    ("explode", "c-2", b'{"v": 1, "id": "c-2", "command": "explode", '
                                       b'"by": "alice"}'),
                    ("park", "c-3", None)):
                answers[name] = await asyncio.to_thread(command, broker, UNIT, name,
                                                        command_id, raw=raw)

        ran = night(tmp_path / "unit", broker=broker.url(UNIT), script=script)
    assert answers["resume"] == {"command_id": "c-1", "accepted": False, "category": "state",
                                 "message": "refused: state (nothing is paused or parked "
                                            "by an operator)"}
    assert answers["explode"]["accepted"] is False
    assert answers["explode"]["category"] == "invalid"
    assert "command: expected one of park, pause, resume, end_night" in \
        answers["explode"]["message"]
    assert answers["park"]["accepted"] is True and answers["park"]["category"] is None
    assert answers["park"]["message"].startswith("parking and closing now")
    reasons = [t[3] for t in ran["transitions"]]
    assert "park asked by mqtt:alice" in reasons
    after_park = ran["transitions"][reasons.index("park asked by mqtt:alice"):]
    assert [t[2] for t in after_park][:2] == ["parking", "parked"]
    assert ran["summary"].parked and ran["summary"].closed
    with Storage.open(data_dir=ran["data"]) as storage:
        recorded = [(c.operator, c.role, c.command, c.accepted)
                    for c in reversed(storage.list_commands())]
    assert recorded == [("mqtt:alice", "operator", "resume", False),
                        ("mqtt:alice", "operator", "park", True)]
