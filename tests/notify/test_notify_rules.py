"""The rules and rate limits, on virtual time: events published on a bus of the test's
own, notifications received by a real webhook server on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from receivers import WebhookReceiver, kinds

from nocturna.core.clock import VirtualClock
from nocturna.core.events import EventBus
from nocturna.notify import Notifier
from unit_helpers import unit_config

T0 = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.virtual_time


class Night:
    """A notifier on a bus and a virtual clock of the test's own."""

    def __init__(self, tmp_path: Any, channels: list[dict[str, Any]], **settings: Any) -> None:
        config = unit_config(tmp_path, notifications={"channels": channels, **settings})
        self.clock = VirtualClock(T0)
        self.bus = EventBus()
        self.notifier = Notifier(config.model.notifications, unit="unit1",
                                 timezone="US/Hawaii", bus=self.bus, clock=self.clock)

    def publish(self, topic: str, source: str = "unit1", **data: Any) -> None:
        self.bus.publish(topic, source, time=self.clock.now(), **data)

    async def after(self, seconds: float) -> None:
        """Let ``seconds`` of the clock pass (the notifier's timers run meanwhile)."""
        await self.clock.sleep(seconds)

    async def fault(self, name: str, reason: str = "no answer") -> None:
        self.publish("component.state", name, **{"from": "enabled", "to": "fault",
                                                  "reason": reason})
        await self.after(0)

    async def recovered(self, name: str, attempts: int = 1) -> None:
        for step in ("standby", "disabled", "enabled"):
            self.publish("component.state", name, **{
                "from": "fault", "to": step, "reason": f"recovery attempt {attempts}: x"})
        self.publish("component.recovered", name, state="enabled", attempts=attempts)
        await self.after(0)


def hook_channel(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "ops", "kind": "webhook", "url": url, **extra}


async def test_one_unsafe_episode_is_one_message_whatever_the_checks_repeat(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)])
        await night.notifier.start()
        for _ in range(5):  # every check, and refused entries, while it rains
            night.publish("unit.unsafe", reasons=["weather0: rain 2.0 mm/h"])
            await night.after(10)
        night.publish("unit.parked", confirmed=True, failures=[])
        night.publish("unit.unsafe", reasons=["weather0: rain 3.0 mm/h"])
        night.publish("unit.parked", confirmed=True, failures=[])  # parked again
        await night.after(7200)
        night.publish("unit.opened")  # dry: the episode is over
        await night.after(600)
        night.publish("unit.unsafe", reasons=["weather0: wind 20.0 m/s is above 15 m/s"])
        night.publish("unit.parked", confirmed=True, failures=[])
        await night.notifier.stop()
    told = hook.notifications()
    assert kinds(told) == ["unsafe", "unsafe"]
    assert "rain 2.0 mm/h" in told[0]["text"] and "09:00Z, 23:00 site time" in told[0]["text"]
    assert "wind 20.0 m/s" in told[1]["text"]
    assert all(n["data"]["confirmed"] is True and n["level"] == "warning" for n in told)


async def test_a_park_not_confirmed_is_told_at_once_and_once_then_its_confirmation(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)], min_interval="0 s")
        await night.notifier.start()
        night.publish("unit.unsafe", reasons=["weather0: rain 2.0 mm/h"])
        for _ in range(4):  # the machine tries parking again and again
            night.publish("unit.parked", confirmed=False,
                          failures=["could not close the dome: timed out"])
            await night.after(60)
        night.publish("unit.parked", confirmed=True, failures=[])
        await night.notifier.stop()
    told = hook.notifications()
    assert [n["title"] for n in told] == ["UNSAFE: parking and closing NOT confirmed",
                                          "parked and closed after all"]
    assert told[0]["level"] == "critical"
    assert "could not close the dome: timed out" in told[0]["text"]
    assert "rain 2.0 mm/h" in told[0]["text"]


async def test_an_unsafe_episode_whose_park_never_ends_is_told_at_the_end(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)])
        await night.notifier.start()
        night.publish("unit.unsafe", reasons=["weather0: rain 2.0 mm/h"])
        await night.after(30)
        await night.notifier.stop()
    (told,) = hook.notifications()
    assert told["level"] == "critical" and "NOT confirmed" in told["title"]


async def test_a_flapping_fault_is_a_fault_its_recovery_and_one_digest(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)], min_interval="0 s",
                      repeat_window="30 min")
        await night.notifier.start()
        for _ in range(6):  # FAULT, two failed attempts, recovered; every 5 minutes
            await night.fault("cam0", "camera 'cam0' readout failed")
            await night.after(60)
            await night.fault("cam0", "recovery attempt 1 failed")  # the same fault
            await night.after(60)
            await night.recovered("cam0", attempts=2)
            await night.after(180)
        digest_due = hook.wait_for(3)  # at the end of the window, before the run ends
        await night.notifier.stop()
    told = hook.notifications()
    assert len(digest_due) == 3 and len(told) == 3
    assert [n["title"] for n in told[:2]] == ["cam0 FAULT", "cam0 recovered"]
    assert "readout failed" in told[0]["text"] and "after 2 recovery attempts" in told[1]["text"]
    assert told[2]["title"].startswith("component cam0: 5 × fault, 5 × recovery since 09:05Z")
    assert told[2]["title"].endswith("latest: cam0 recovered")


async def test_a_fault_that_stays_is_told_once_and_a_second_component_on_its_own(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)], min_interval="0 s")
        await night.notifier.start()
        await night.fault("foc0")
        for _ in range(10):  # failed recovery attempts
            await night.after(30)
            await night.fault("foc0", "recovery attempt failed")
        await night.fault("mount0", "mount 'mount0' stopped answering")
        await night.notifier.stop()
    assert [n["title"] for n in hook.notifications()] == ["foc0 FAULT", "mount0 FAULT"]


async def test_messages_closer_than_the_minimum_interval_go_out_together(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)], min_interval="60 s")
        await night.notifier.start()
        night.publish("unit.night.started", night="2026-12-14", start=T0)
        await night.after(10)
        await night.fault("cam0")
        await night.after(10)
        await night.fault("foc0")
        await night.after(100)  # the interval is over: both go out, as one message
        released = hook.wait_for(2)
        await night.after(100)
        night.publish("unit.night.failed", error="RuntimeError: boom")
        await night.notifier.stop()
    assert len(released) == 2
    payloads = [[n["title"] for n in item["json"]["notifications"]] for item in hook.items]
    assert payloads == [["night 2026-12-14 started"], ["cam0 FAULT", "foc0 FAULT"],
                        ["NIGHT FAILED"]]
    assert hook.items[1]["json"]["title"] == "[unit1] 2 notifications: cam0 FAULT; foc0 FAULT"


async def test_each_channel_takes_only_its_kinds_and_levels(tmp_path):
    with WebhookReceiver() as summaries, WebhookReceiver() as pager:
        night = Night(tmp_path, [
            {"name": "log", "kind": "webhook", "url": summaries.url, "events": ["summary"]},
            {"name": "pager", "kind": "webhook", "url": pager.url, "min_level": "critical"}],
            min_interval="0 s")
        await night.notifier.start()
        night.publish("unit.night.started", night="2026-12-14", start=T0)
        await night.fault("cam0")
        night.publish("unit.night.failed", error="the unit cannot be parked and closed")
        night.publish("unit.night.failed", error="the unit cannot be parked and closed")
        night.publish("unit.night.summary", summary={"light_frames": {"M42": 3},
                                                     "parked": False, "closed": True})
        await night.notifier.stop()
    assert kinds(summaries.notifications()) == ["summary"]
    assert summaries.notifications()[0]["title"].endswith("NOT parked and closed")
    assert kinds(pager.notifications()) == ["night_failed"]  # once, though published twice


async def test_what_waits_at_the_end_of_the_run_is_sent_when_it_stops(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)], min_interval="1 h")
        await night.notifier.start()
        night.publish("unit.night.started", night="2026-12-14", start=T0)
        await night.after(60)
        night.publish("unit.disk_low", free_mb=120.0, limit_mb=500.0, path="/data")
        await night.after(60)
        night.publish("unit.night.summary", summary={"light_frames": {}, "parked": True,
                                                     "closed": True})
        await night.notifier.stop()
    payloads = [kinds(item["json"]["notifications"]) for item in hook.items]
    assert payloads == [["night_started"], ["disk_low", "summary"]]
    assert "Only 120 MB free in /data" in hook.items[1]["json"]["notifications"][0]["text"]


async def test_a_critical_message_does_not_wait_for_the_interval(tmp_path):
    with WebhookReceiver() as hook:
        night = Night(tmp_path, [hook_channel(hook.url)], min_interval="1 h")
        await night.notifier.start()
        night.publish("unit.night.started", night="2026-12-14", start=T0)
        await night.after(60)
        await night.fault("cam0")  # waits for the hour
        await night.after(60)
        night.publish("unit.unsafe", reasons=["weather0: rain 2.0 mm/h"])
        night.publish("unit.parked", confirmed=False, failures=["could not close the dome"])
        await night.after(0)
        sent_at_once = hook.wait_for(2)  # before the hour is over
        await night.notifier.stop()
    assert [kinds(item["json"]["notifications"]) for item in sent_at_once] == [
        ["night_started"], ["fault", "unsafe"]]
    assert sent_at_once[1]["json"]["level"] == "critical"
