"""Rows for the fleet page's tests, written through the ingest's own write path
(:class:`nocturna.fleet.store.FleetStore`), and the page served in a thread."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from nocturna.fleet.envelope import envelope_bytes, parse
from nocturna.fleet.store import FleetStore, Received
from nocturna.fleet.web import FleetPage

NIGHT_START = datetime(2026, 12, 15, 21, 0, tzinfo=UTC)
DASHBOARD = "http://127.0.0.1:8080/"


def message(unit: str, kind: str, data: dict[str, Any], minute: float,
            received: datetime | None = None) -> Received:
    when = NIGHT_START + timedelta(minutes=minute)
    topic = f"nocturna/{unit}/{kind}"
    return Received(parse(topic, envelope_bytes(unit, kind, data, when=when)),
                    received or datetime.now(UTC))


def frame(unit: str, number: int, night: str, minute: float) -> Received:
    return message(unit, "frame", {
        "image_id": f"{unit}-{number}", "exposure_id": f"{number:05d}", "camera": "cam00",
        "path": f"/data/{unit}/{number}.fits", "sha256": f"{number:064x}",
        "image_type": "OBJECT", "object": "M42", "exposure_s": 30.0,
        "start_time": (NIGHT_START + timedelta(minutes=minute)).isoformat(),
        "observation_id": "obs-1", "night": night}, minute)


def fill(engine: Engine) -> None:
    """pan001 observing (its status gives its dashboard), 3 frames tonight and 2 the
    night before; pan002 parked for rain and gone (its last will), no frames; one ingest."""
    store = FleetStore(engine)
    store.write([
        message("pan001", "online", {"online": True}, 0),
        message("pan001", "transition", {"from": "ready", "to": "scheduling",
                                         "reason": "dark enough"}, 1),
        message("pan001", "transition", {"from": "scheduling", "to": "observing",
                                         "reason": "tracking M42"}, 2),
        message("pan001", "component", {"component": "camera", "from": "disabled",
                                        "to": "enabled", "reason": "connected"}, 0.5),
        message("pan001", "status", {"state": "observing", "reason": "tracking M42",
                                     "api_url": DASHBOARD}, 3),
        message("pan001", "weather", {"safe": True, "reasons": [], "rain_rate": 0.0}, 3),
        *(frame("pan001", n, "2026-12-14", -1440 + n) for n in (1, 2)),
        *(frame("pan001", n, "2026-12-15", 4 + n) for n in (3, 4, 5)),
        message("pan002", "online", {"online": True}, 0),
        message("pan002", "transition", {"from": "observing", "to": "parked",
                                         "reason": "unsafe: rain 2.1 mm/h > 0"}, 10),
        message("pan002", "weather", {"safe": False, "reasons": ["rain 2.1 mm/h > 0"]}, 10),
        message("pan002", "status", {"state": "parked", "reason": "unsafe: rain",
                                     "api_url": "javascript:alert(1)"}, 11),
    ])
    store.write([message("pan002", "online", {"online": False}, 0)])  # the last will, later
    now = datetime.now(UTC)
    store.report({"client_id": "nocturna-ingest", "started_at": now - timedelta(hours=1),
                  "updated_at": now, "connected": True, "received": 15, "written": 15,
                  "duplicates": 0, "rejected": 0, "backlog": 2, "rate_per_s": 3.5,
                  "event_lag_p50_s": 0.02, "event_lag_max_s": 0.4,
                  "write_lag_p50_s": 0.004, "write_lag_p99_s": 0.03})


def serving(engine: Engine) -> Iterator[str]:
    """The page served on a free loopback port (in a thread); yields its URL."""
    page = FleetPage(engine, "127.0.0.1", 0)
    thread = threading.Thread(target=asyncio.run, args=(page.serve(),), daemon=True)
    thread.start()
    ready = threading.Event()
    while not page.started and thread.is_alive():
        ready.wait(0.01)
    assert page.started, "the fleet page did not start"
    try:
        yield page.url
    finally:
        page.stop()
        thread.join(10)


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
