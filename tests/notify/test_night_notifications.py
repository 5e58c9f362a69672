"""Whole simulated nights (virtual time) telling real receivers on 127.0.0.1: a webhook
server and an SMTP server."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from receivers import MailReceiver, WebhookReceiver, kinds, refused_port
from ruamel.yaml import YAML

from nocturna.core.storage import Storage
from nocturna.runtime.runner import run
from unit_helpers import unit_config

RAIN = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)  # 23:00 in Hawaii (the rain scenario)
START = RAIN - timedelta(minutes=8)


def webhook(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "webhook", "url": url, **extra}


def email(name: str, port: int, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "email", "smtp": {
        "host": "127.0.0.1", "port": port, "security": "plain",
        "sender": "unit@example.org", "to": ["night@example.org"], **extra}}


def rainy_night(root: Path, channels: list[dict[str, Any]], **notifications: Any
                ) -> tuple[Any, list[tuple]]:
    """A night from 22:52 to 23:30 with rain from 23:00: its summary and transitions."""
    root.mkdir()
    config = unit_config(root, notifications={"channels": channels, **notifications})
    summary = run(config, simulate=True, start=START, until=RAIN + timedelta(minutes=30),
                  weather="rain", seed=1, signals=False).summary
    with Storage.open(data_dir=config.data_dir) as storage:
        transitions = [(t.time, t.from_state, t.to_state, t.reason)
                       for t in reversed(storage.list_transitions())]
    return summary, transitions


def test_a_rainy_night_tells_one_unsafe_message_and_one_summary_by_webhook_and_by_mail(
        tmp_path):
    with WebhookReceiver() as hook, MailReceiver() as mail:
        summary, _ = rainy_night(tmp_path / "night", [webhook("ops", hook.url),
                                                      email("mail", mail.port)])
        told = hook.notifications()
        mails = mail.messages()
    assert summary.interruptions and summary.parked and summary.closed
    assert sorted(kinds(told)) == ["night_started", "summary", "unsafe"]
    (unsafe,) = [n for n in told if n["kind"] == "unsafe"]
    assert unsafe["data"]["confirmed"] is True
    assert any("rain" in reason for reason in unsafe["data"]["reasons"])
    assert "parked and closed: confirmed" in unsafe["text"]
    (told_summary,) = [n for n in told if n["kind"] == "summary"]
    assert "weather interruption at 09:00Z" in told_summary["text"]
    subjects = [m["Subject"] for m in mails]
    assert sum("UNSAFE: parked and closed" in s for s in subjects) == 1
    assert sum("night summary" in s for s in subjects) == 1
    assert len(mails) == 3  # and the night's start
    (unsafe_mail,) = [m for m in mails if "UNSAFE" in m["Subject"]]
    assert unsafe_mail.get_content_type() == "text/plain"
    assert unsafe_mail["To"] == "night@example.org"
    body = unsafe_mail.get_content()
    assert "23:00 site time" in body and "rain 2.0 mm/h" in body
    assert "parked and closed: confirmed" in body


def test_dead_channels_do_not_delay_the_night_and_are_retried_and_logged(tmp_path, caplog):
    """The same night with a refused port and a server that never answers among its
    channels runs exactly as without channels, while a message is still unanswered."""
    _, alone = rainy_night(tmp_path / "alone", [])
    with refused_port() as port, WebhookReceiver(hang=True) as hanging, \
            WebhookReceiver() as alive, caplog.at_level(logging.WARNING, "nocturna.notify"):
        summary, transitions = rainy_night(
            tmp_path / "dead", [webhook("refused", f"http://127.0.0.1:{port}/hook"),
                                webhook("hanging", hanging.url), webhook("alive", alive.url)],
            send_timeout="600 s", retries=3, retry_backoff="0.05 s", flush_timeout="1 s")
        unanswered = hanging.held
        told = alive.notifications()
    assert transitions == alone  # the same states at the same (virtual) times
    assert summary.worst_safety_latency_s is not None and summary.worst_safety_latency_s <= 60
    assert unanswered >= 1  # the night ended while a send was still waiting for an answer
    assert sorted(kinds(told)) == ["night_started", "summary", "unsafe"]
    refused = [r.getMessage() for r in caplog.records if "'refused'" in r.getMessage()]
    assert any("try 1 of 4 failed" in m and "Connection refused" in m for m in refused)
    assert any("gave up after 4 tries" in m for m in refused)
    assert any("'hanging'" in r.getMessage() and "not sent after 1 s" in r.getMessage()
               for r in caplog.records)


def test_a_fault_its_recovery_and_a_full_disk_are_told_once_each(tmp_path):
    scenario = tmp_path / "scenario.yaml"
    YAML(typ="safe", pure=True).dump({"timezone": "US/Hawaii", "night": "2026-12-14", "faults": [
        {"kind": "disconnect", "device": "foc0", "from": "23:00", "duration": 600},
        {"kind": "disk_full", "from": "23:30", "duration": 900}]}, scenario)
    with WebhookReceiver() as hook:
        config = unit_config(tmp_path, notifications={"min_interval": "0 s", "channels": [
            webhook("ops", hook.url)]})
        run(config, simulate=True, start=RAIN - timedelta(minutes=10),
            until=RAIN + timedelta(minutes=70), weather=str(scenario), signals=False)
        told = hook.notifications()
    by_kind = {kind: [n for n in told if n["kind"] == kind] for kind in kinds(told)}
    (fault,) = by_kind["fault"]
    (recovery,) = by_kind["recovery"]
    (disk,) = by_kind["disk_low"]
    assert fault["title"] == "foc0 FAULT" and "NotConnectedError" in fault["text"]
    assert recovery["title"] == "foc0 recovered" and recovery["time"] > fault["time"]
    assert disk["data"]["limit_mb"] == 500 and disk["data"]["free_mb"] < 500
    assert len(by_kind["summary"]) == 1
