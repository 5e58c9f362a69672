"""What is told: one :class:`Notification`, and the :class:`Message` a channel sends.

A message holds one notification, or several when a channel's minimum interval made
them wait and they go out together. Channels render it: a subject line, a plain text
body, or the generic webhook's JSON payload (:data:`SCHEMA`, version
:data:`SCHEMA_VERSION`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from nocturna.core.serialize import to_plain

SCHEMA = "nocturna.notification"
SCHEMA_VERSION = 1
"""The webhook payload's version: raised when a key changes meaning or goes away."""
LEVELS = ("info", "warning", "critical")


def level_rank(level: str) -> int:
    """0 for info, 1 for warning, 2 for critical."""
    return LEVELS.index(level)


@dataclass(frozen=True)
class Notification:
    """One thing to tell: ``kind`` (see ``NOTIFICATION_KINDS``), a level, a one-line
    title, a plain-text body and when it happened (the unit's clock)."""

    kind: str
    level: str
    title: str
    text: str
    time: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "level": self.level, "title": self.title,
                "text": self.text, "time": iso_z(self.time), "data": to_plain(self.data)}


def iso_z(when: datetime) -> str:
    """ISO 8601 UTC with a ``Z``, to the second."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock_text(when: datetime, timezone: str | None = None) -> str:
    """``09:03Z`` (``09:03Z, 23:03 site time`` when the site's zone is known)."""
    utc = when.astimezone(UTC)
    if timezone is None:
        return f"{utc:%H:%M}Z"
    return f"{utc:%H:%M}Z, {when.astimezone(ZoneInfo(timezone)):%H:%M} site time"


@dataclass(frozen=True)
class Message:
    """What one channel sends at once: one or more notifications of one unit."""

    unit: str
    notifications: tuple[Notification, ...]
    timezone: str | None = None  # the site's, for times in the text

    @property
    def level(self) -> str:
        return max((n.level for n in self.notifications), key=level_rank)

    @property
    def subject(self) -> str:
        """One line: ``[unit] title`` (several: how many, and the first titles)."""
        first = self.notifications[0]
        if len(self.notifications) == 1:
            return f"[{self.unit}] {first.title}"
        titles = "; ".join(n.title for n in self.notifications[:3])
        more = "; …" if len(self.notifications) > 3 else ""
        return f"[{self.unit}] {len(self.notifications)} notifications: {titles}{more}"

    def sections(self) -> list[tuple[str, str]]:
        """(heading, text) per notification; the heading says when."""
        return [(f"{n.title} ({iso_z(n.time)[:10]} {clock_text(n.time, self.timezone)})",
                 n.text) for n in self.notifications]

    def text(self) -> str:
        """The plain-text body: each notification's heading and text."""
        return "\n\n".join(f"{heading}\n{body}" for heading, body in self.sections()) + "\n"

    def payload(self) -> dict[str, Any]:
        """The generic webhook's JSON document."""
        return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "unit": self.unit,
                "level": self.level, "title": self.subject,
                "notifications": [n.as_dict() for n in self.notifications]}
