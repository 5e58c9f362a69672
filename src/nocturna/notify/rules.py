"""From the night's events to notifications: what is worth telling, and how often.

:class:`NightRules` reads the bus events of one unit and emits notifications:

* ``unit.night.started`` → the night started;
* ``unit.unsafe`` opens an *unsafe episode* (it lasts until the unit opens again,
  ``unit.opened``); the episode is told once, when the park that follows is over
  (``unit.parked``): parked and closed confirmed, or NOT confirmed with the failures.
  A park that is not confirmed is told (critical) even outside an episode, once until
  a later park is confirmed, which is told too;
* ``component.state`` into FAULT → a fault, told once until ``component.recovered``
  (its recovery, told too) or until it is ENABLED again by a request; the failed
  recovery attempts in between are the same fault;
* ``unit.disk_low`` → disk low;
* ``unit.night.failed`` → the error that ended the night (each error once);
* ``unit.night.summary`` → the night's summary.

Repeats are limited by a :class:`Throttle` per subject (each component, the disk, the
unsafe episodes): the first notification goes out, the others within
``repeat_window`` are held and go out as one digest when the window closes. A
component's recovery right after its told fault goes out at once; critical
notifications are never held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nocturna.core.events import Event
from nocturna.notify.notification import Notification, clock_text, level_rank
from nocturna.notify.summary_text import summary_text, summary_title

log = logging.getLogger(__name__)

RECOVERY_STEP = "recovery attempt "
"""How the reasons of a component's own recovery steps begin (nocturna.components)."""
Emit = Callable[[Notification], None]
Later = Callable[[datetime, Callable[[], None]], None]
"""``later(when, callback)``: call ``callback`` at ``when`` on the unit's clock."""


@dataclass
class _Window:
    end: datetime
    held: list[Notification] = field(default_factory=list)


class Throttle:
    """Per subject: the first notification passes, the rest of ``window_s`` is held and
    sent as one digest when the window closes (which opens the next window)."""

    def __init__(self, window_s: float, emit: Emit, later: Later) -> None:
        self.window = timedelta(seconds=window_s)
        self._emit = emit
        self._later = later
        self._windows: dict[str, _Window] = {}

    def offer(self, subject: str, notification: Notification, *, now: bool = False) -> bool:
        """Send ``notification`` or hold it; whether it was sent. ``now``: never held."""
        window = self._windows.get(subject)
        if window is not None and notification.time >= window.end:
            self._close(subject, window)
            window = self._windows.get(subject)
        if window is None:
            self._open(subject, notification.time)
            self._emit(notification)
            return True
        if now or notification.level == "critical":
            self._emit(notification)
            return True
        window.held.append(notification)
        return False

    def flush(self) -> None:
        """Send every held digest now (the end of the run)."""
        for subject, window in list(self._windows.items()):
            if window.held:
                self._emit(digest(subject, window.held))
        self._windows.clear()

    def _open(self, subject: str, start: datetime) -> None:
        if not self.window:
            return
        window = self._windows[subject] = _Window(start + self.window)
        self._later(window.end, lambda: self._close(subject, window))

    def _close(self, subject: str, window: _Window) -> None:
        if self._windows.get(subject) is not window:
            return  # already closed
        del self._windows[subject]
        if window.held:
            self._emit(digest(subject, window.held))
            self._open(subject, window.end)


def digest(subject: str, held: list[Notification]) -> Notification:
    """One notification standing for ``held`` (repeats about one subject)."""
    counts: dict[str, int] = {}
    for item in held:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    what = ", ".join(f"{count} × {kind}" for kind, count in counts.items())
    last = held[-1]
    lines = [f"{item.time:%H:%M:%S}Z {item.title}" for item in held[-10:]]
    if len(held) > 10:
        lines.insert(0, f"… {len(held) - 10} earlier")
    level = max((item.level for item in held), key=level_rank)
    kind = "fault" if "fault" in counts else last.kind
    return Notification(kind, level, f"{subject}: {what} since {held[0].time:%H:%M}Z; "
                        f"latest: {last.title}", "\n".join(lines), last.time,
                        {"subject": subject, "count": len(held), "kinds": counts})


@dataclass
class _Episode:
    start: datetime
    reasons: list[str]
    told: bool = False


class NightRules:
    """Turns one unit's events into notifications (see the module docstring)."""

    def __init__(self, emit: Emit, later: Later, *, repeat_window_s: float,
                 timezone: str | None = None) -> None:
        self._emit = emit
        self.timezone = timezone
        self.throttle = Throttle(repeat_window_s, emit, later)
        self._episode: _Episode | None = None
        self._park_unconfirmed = False
        self._faulted: dict[str, bool] = {}  # component in FAULT → its FAULT was told
        self._failures_told: set[str] = set()

    def handle(self, event: Event) -> None:
        """Emit what ``event`` calls for (nothing for most events)."""
        handler = _HANDLERS.get(event.topic)
        if handler is not None:
            handler(self, event)

    def flush(self) -> None:
        """At the end of the run: an episode whose park never finished, held digests."""
        episode = self._episode
        if episode is not None and not episode.told:
            self._emit(Notification(
                "unsafe", "critical", "UNSAFE: parking and closing NOT confirmed",
                f"Unsafe since {self._at(episode.start)}: {'; '.join(episode.reasons)}.\n"
                "The run ended before parking and closing finished: check the unit.",
                episode.start, {"reasons": episode.reasons, "confirmed": False}))
            episode.told = True
        self.throttle.flush()

    def _at(self, when: datetime) -> str:
        return clock_text(when, self.timezone)

    # ------------------------------------------------------------ the night
    def _night_started(self, event: Event) -> None:
        night = event.data.get("night", "")
        self._emit(Notification("night_started", "info", f"night {night} started",
                                f"The night {night} started at {self._at(event.time)}.",
                                event.time, event.data))

    def _night_failed(self, event: Event) -> None:
        error = str(event.data.get("error", "unknown error"))
        if error in self._failures_told:
            return
        self._failures_told.add(error)
        self._emit(Notification("night_failed", "critical", "NIGHT FAILED",
                                f"The night ended at {self._at(event.time)} on an error: "
                                f"{error}", event.time, event.data))

    def _summary(self, event: Event) -> None:
        summary = event.data.get("summary") or {}
        troubled = summary.get("failure") or not (summary.get("parked")
                                                  and summary.get("closed"))
        self._emit(Notification("summary", "warning" if troubled else "info",
                                summary_title(summary), summary_text(summary), event.time,
                                event.data))

    def _disk_low(self, event: Event) -> None:
        free, limit = event.data.get("free_mb"), event.data.get("limit_mb")
        free_text = "?" if free is None else f"{free:.0f}"
        where = f" in {event.data['path']}" if event.data.get("path") else ""
        self.throttle.offer("disk", Notification(
            "disk_low", "warning", f"disk low: {free_text} MB free",
            f"Only {free_text} MB free{where} at {self._at(event.time)}; the unit needs "
            f"{limit:g} MB to observe and stays closed until there is room.",
            event.time, event.data))

    # ------------------------------------------------------------ unsafe episodes
    def _unsafe(self, event: Event) -> None:
        reasons = [str(r) for r in event.data.get("reasons", [])]
        episode = self._episode
        if episode is None:
            self._episode = _Episode(event.time, reasons)
        elif not episode.told:
            episode.reasons += [r for r in reasons if r not in episode.reasons]

    def _opened(self, event: Event) -> None:
        self._episode = None

    def _parked(self, event: Event) -> None:
        confirmed = bool(event.data.get("confirmed"))
        failures = [str(f) for f in event.data.get("failures", [])]
        episode = self._episode
        why = ""
        if episode is not None:
            why = f"Unsafe since {self._at(episode.start)}: {'; '.join(episode.reasons)}.\n"
        data = {"reasons": episode.reasons if episode else [], "confirmed": confirmed,
                "failures": failures}
        if not confirmed:
            if episode is not None:
                episode.told = True
            if self._park_unconfirmed:
                return  # told already; the next confirmed park is told
            self._park_unconfirmed = True
            self._emit(Notification(
                "unsafe", "critical", "UNSAFE: parking and closing NOT confirmed",
                f"{why}Parking and closing failed at {self._at(event.time)}: "
                f"{'; '.join(failures) or 'unknown'}.\nThe unit keeps trying: check it.",
                event.time, data))
            return
        if self._park_unconfirmed:
            self._park_unconfirmed = False
            if episode is not None:
                episode.told = True
            self._emit(Notification(
                "unsafe", "warning", "parked and closed after all",
                f"{why}Parking and closing is confirmed at {self._at(event.time)}, after "
                "failing before.", event.time, data))
            return
        if episode is None or episode.told:
            return  # a routine park
        episode.told = True
        self.throttle.offer("unsafe", Notification(
            "unsafe", "warning", f"UNSAFE: parked and closed ({_short(episode.reasons)})",
            f"{why}The unit parked and closed: confirmed at {self._at(event.time)}.",
            event.time, data))

    # ------------------------------------------------------------ components
    def _component_state(self, event: Event) -> None:
        name, target = event.source, str(event.data.get("to"))
        reason = str(event.data.get("reason") or "")
        if target == "enabled" and not reason.startswith(RECOVERY_STEP):
            self._faulted.pop(name, None)  # back in service by a request, not by recovery
            return
        if target != "fault" or name in self._faulted:
            return  # a failed recovery attempt is the same fault going on
        told = self.throttle.offer(f"component {name}", Notification(
            "fault", "warning", f"{name} FAULT",
            f"{name} went from {str(event.data.get('from', '?')).upper()} to FAULT at "
            f"{self._at(event.time)}: {reason or 'no reason given'}", event.time,
            {"component": name, "reason": reason}))
        self._faulted[name] = told

    def _recovered(self, event: Event) -> None:
        name = event.source
        told = self._faulted.pop(name, False)
        attempts = event.data.get("attempts")
        tries = f" after {attempts} recovery attempt{'s' * (attempts != 1)}" \
            if isinstance(attempts, int) else ""
        state = str(event.data.get("state", "")).upper() or "in service"
        self.throttle.offer(f"component {name}", Notification(
            "recovery", "info", f"{name} recovered",
            f"{name} is {state} again at {self._at(event.time)}{tries}.", event.time,
            {"component": name, "state": state, "attempts": attempts}), now=told)


def _short(reasons: list[str]) -> str:
    text = "; ".join(reasons[:2])
    return text if len(text) <= 80 else text[:79] + "…"


_HANDLERS: dict[str, Callable[[NightRules, Event], Any]] = {
    "unit.night.started": NightRules._night_started,
    "unit.night.failed": NightRules._night_failed,
    "unit.night.summary": NightRules._summary,
    "unit.disk_low": NightRules._disk_low,
    "unit.unsafe": NightRules._unsafe,
    "unit.opened": NightRules._opened,
    "unit.parked": NightRules._parked,
    "component.state": NightRules._component_state,
    "component.recovered": NightRules._recovered,
}
"""The topics the rules read."""
