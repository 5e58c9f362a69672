"""Per channel: at most one message every ``min_interval`` (the unit's clock).

A notification for a channel that sent less than ``min_interval`` ago waits; whatever
waits goes out as one message when the interval is over (or at the end of the run).
A critical notification does not wait: it goes out at once, with whatever waited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from nocturna.notify.notification import Message, Notification
from nocturna.notify.rules import Later

if TYPE_CHECKING:
    from nocturna.notify.channels import Channel
    from nocturna.notify.sender import Sender


class _Pace:
    """One channel's last send and what waits for it."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.last_sent: datetime | None = None
        self.waiting: list[Notification] = []


class Dispatcher:
    """Hands notifications to the sender, one channel at a time, coalescing bursts."""

    def __init__(self, channels: list[Channel], sender: Sender, later: Later, *, unit: str,
                 min_interval_s: float, timezone: str | None = None) -> None:
        self.sender = sender
        self.unit = unit
        self.timezone = timezone
        self.interval = timedelta(seconds=min_interval_s)
        self._later = later
        self._paces = [_Pace(channel) for channel in channels]

    def dispatch(self, notification: Notification, now: datetime) -> None:
        """Send ``notification`` to every channel that takes it, now or after its interval."""
        for pace in self._paces:
            if not pace.channel.accepts(notification):
                continue
            due = None if pace.last_sent is None else pace.last_sent + self.interval
            held = pace.waiting or (due is not None and now < due)
            if held and notification.level != "critical":
                if not pace.waiting:
                    assert due is not None
                    self._later(due, lambda pace=pace, due=due: self._release(pace, due))
                pace.waiting.append(notification)
                continue
            self._send(pace, [*pace.waiting, notification], now)

    def flush(self, now: datetime) -> None:
        """Send everything that waits, now (the end of the run)."""
        for pace in self._paces:
            if pace.waiting:
                self._send(pace, pace.waiting, now)

    def _release(self, pace: _Pace, when: datetime) -> None:
        if pace.waiting:
            self._send(pace, pace.waiting, when)

    def _send(self, pace: _Pace, notifications: list[Notification], now: datetime) -> None:
        pace.waiting = []
        pace.last_sent = now
        self.sender.submit(pace.channel, Message(self.unit, tuple(notifications),
                                                 self.timezone))
