"""The observing day (DAYOBS): the site's local date of the evening a night began.

Everything a night writes (image folders and ids, focus plots, the weather scenario's
night) is filed under the observing day of the moment it is written: the local time
minus 12 hours, so a night never straddles two days, whatever the UTC date does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo


def observing_day(when: datetime, timezone: str | tzinfo | None = None) -> date:
    """The observing day of ``when``: the local date 12 hours earlier (UTC without zone)."""
    zone = ZoneInfo(timezone) if isinstance(timezone, str) else (timezone or UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when.astimezone(zone) - timedelta(hours=12)).date()


def day_obs_number(day: date) -> int:
    """``YYYYMMDD`` as an integer."""
    return day.year * 10_000 + day.month * 100 + day.day


def day_obs(when: datetime, timezone: str | tzinfo | None = None) -> int:
    """DAYOBS of ``when`` at a site in ``timezone``: ``YYYYMMDD`` of its observing day."""
    return day_obs_number(observing_day(when, timezone))
