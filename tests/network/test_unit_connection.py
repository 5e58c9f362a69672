"""The unit's connection itself: the last will when its process dies, the broker's ACL,
TLS, and settings that cannot work refused before anything starts."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from network_helpers import UNIT, USERS, Watcher, retained, validate
from ruamel.yaml import YAML

from mqtt_helpers import Mosquitto
from nocturna.core.errors import ConfigError
from nocturna.core.events import EventBus
from nocturna.core.storage import Storage
from nocturna.network.publisher import Publisher
from unit_helpers import FOCUSED, LOOPS_OFF, SMALL_CAMERA, unit_config


def start_unit(root: Path, broker: str, *args: str) -> subprocess.Popen[bytes]:
    """``nocturna run --simulate`` of unit u1 in a process of its own, paced at 60x."""
    site = root / "site.yaml"
    YAML(typ="safe", pure=True).dump({
        "name": UNIT, "data_dir": str(root / "data"), "cameras": [SMALL_CAMERA],
        "focusers": [FOCUSED], "observatory": LOOPS_OFF, "network": {"broker": broker}}, site)
    log = (root / "run.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "nocturna.cli.main", "--config", str(site), "run", "--no-api",
         "--simulate", "--speed", "60", "--until", "2026-12-15T12:00Z", *args],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"})


def onlines(watcher: Watcher) -> list[bool]:
    return [r.body["data"]["online"] for r in watcher.of("online")]


def test_a_killed_unit_shows_offline_by_its_last_will_and_online_again_after_restart(
        tmp_path):
    with Mosquitto(tmp_path, users=USERS) as broker, Watcher(broker) as watcher:
        unit = start_unit(tmp_path, broker.url(UNIT), "--start", "2026-12-15T08:00Z")
        try:
            watcher.wait_for(lambda: watcher.of("transition"), what="a transition")
            assert onlines(watcher) == [True]
            unit.send_signal(signal.SIGKILL)
            unit.wait(10)
            watcher.wait_for(lambda: len(onlines(watcher)) == 2, what="the last will")
            assert onlines(watcher) == [True, False]  # said by the broker, not the unit
            assert retained(broker, f"nocturna/{UNIT}/online").body["data"] == {
                "online": False}
            seen = len(watcher.of("transition"))
            unit = start_unit(tmp_path, broker.url(UNIT), "--start", "continue")
            watcher.wait_for(lambda: len(watcher.of("transition")) > seen,
                             what="the restarted unit's transitions")
            assert onlines(watcher) == [True, False, True]
        finally:
            unit.send_signal(signal.SIGKILL)
            unit.wait(10)
    for item in watcher.received:
        validate(item.body)


async def publish_one(publisher: Publisher, bus: EventBus, reason: str,
                      timeout_s: float = 15.0) -> None:
    """Start ``publisher``, publish one transition, wait (bounded) until it was sent."""
    await publisher.start()
    try:
        bus.publish("unit.state", UNIT, from_state="ready", to_state="parking", reason=reason)
        deadline = time.monotonic() + timeout_s
        while publisher.sent < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await publisher.stop()


def publisher_for(root: Path, **network: object) -> tuple[Publisher, EventBus, Storage]:
    root.mkdir()
    config = unit_config(root, name=UNIT, network=network)
    storage = Storage.open(data_dir=config.data_dir)
    bus = EventBus()
    return Publisher.from_config(config, storage, bus=bus), bus, storage


def test_a_units_credentials_cannot_publish_under_another_units_id(tmp_path, caplog):
    with Mosquitto(tmp_path, users=USERS) as broker, Watcher(broker) as watcher:
        forger, bus, storage = publisher_for(tmp_path / "forger", broker=broker.url(UNIT),
                                             unit_id="u2", flush_timeout="5 s")
        with caplog.at_level(logging.WARNING, "nocturna.network"), storage:
            asyncio.run(publish_one(forger, bus, "forged"))
        honest, bus, storage = publisher_for(tmp_path / "honest", broker=broker.url(UNIT))
        with storage:
            asyncio.run(publish_one(honest, bus, "mine"))
        watcher.wait_for(lambda: watcher.of("transition"), what="the honest transition")
    assert forger.sent == 1  # the broker took it (PUBACK) but passed it to nobody
    assert {r.topic.split("/")[1] for r in watcher.received} == {UNIT}
    assert [r.body["data"]["reason"] for r in watcher.of("transition")] == ["mine"]
    assert any("the broker user 'u1' is not the unit id 'u2'" in r.getMessage()
               for r in caplog.records)


def test_mqtts_speaks_tls_with_the_configured_ca_and_refuses_an_unknown_one(tmp_path, caplog):
    with Mosquitto(tmp_path, users=USERS, tls=True) as broker, Watcher(broker) as watcher:
        trusting, bus, storage = publisher_for(
            tmp_path / "trusting", broker=broker.url(UNIT, tls=True),
            ca_file=str(broker.ca_file))
        with storage:
            asyncio.run(publish_one(trusting, bus, "over tls"))
        watcher.wait_for(lambda: watcher.of("transition"), what="the transition over TLS")
        doubting, bus, storage = publisher_for(
            tmp_path / "doubting", broker=broker.url(UNIT, tls=True), flush_timeout="1 s")
        with caplog.at_level(logging.WARNING, "nocturna.network"), storage:
            asyncio.run(publish_one(doubting, bus, "untrusted", timeout_s=1.0))
            unsent = storage.list_outbox_unsent()
    assert trusting.sent == 1
    assert [r.body["data"]["reason"] for r in watcher.of("transition")] == ["over tls"]
    assert doubting.sent == 0 and len(unsent) == 1  # kept for the next run
    assert any("CERTIFICATE_VERIFY_FAILED" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("settings", "message"), [
    ({"name": "dome north"}, "network.unit_id is not set and the unit's name cannot be used"),
    ({"network": {"ca_file": "/nonexistent/ca.pem"}}, "network.ca_file: no such file"),
])
def test_settings_that_cannot_work_are_refused_naming_the_key(tmp_path, settings, message):
    network = {"broker": "mqtts://u1:pw@127.0.0.1:8883", **settings.pop("network", {})}
    config = unit_config(tmp_path, network=network, **settings)
    with Storage.open(data_dir=config.data_dir) as storage, \
            pytest.raises(ConfigError, match=message):
        Publisher.from_config(config, storage)


def test_a_bad_broker_url_stops_nocturna_run_with_one_line_naming_the_key(tmp_path):
    site = tmp_path / "site.yaml"
    YAML(typ="safe", pure=True).dump({"data_dir": str(tmp_path / "data"), "network": {
        "broker": "http://u1:pw@broker:1883"}}, site)
    done = subprocess.run([sys.executable, "-m", "nocturna.cli.main", "--config", str(site),
                           "run", "--simulate", "--no-api"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "network.broker" in done.stderr and "expected mqtt://" in done.stderr
    assert not (tmp_path / "data" / "nocturna.sqlite").exists()
