"""The notifier of one run: bus events in, messages out, never in the night's way.

:class:`Notifier` subscribes to the unit's event bus (``unit.*`` and ``component.*``);
on the unit's loop it only applies the rules (:mod:`.rules`) and each channel's
minimum interval (:mod:`.dispatch`), on the unit's clock, and hands messages to the
:class:`~nocturna.notify.sender.Sender`'s thread. Nothing it does waits for a
receiver, so parking and closing never wait for a notification.

``async with Notifier.from_config(config):`` starts it and, on the way out, tells what
is still held and lets the sender flush for at most ``flush_timeout`` (real seconds).
With ``announce`` every notification is also published on the bus as
``notify.notification`` (``level``, ``subject``, ``text``, ``kind``: the network
publishes them), with or without channels. Without channels nor ``announce`` it does
nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nocturna.core.clock import Clock, get_clock
from nocturna.core.config import Config
from nocturna.core.config.notifications import NotificationsConfig
from nocturna.core.events import Event, EventBus, Subscription, get_event_bus
from nocturna.notify.dispatch import Dispatcher
from nocturna.notify.notification import Notification
from nocturna.notify.rules import NightRules
from nocturna.notify.sender import Sender

log = logging.getLogger(__name__)

TOPICS = ("unit.*", "component.*")
"""The bus topics the notifier reads."""
QUEUE_SIZE = 1000
"""Events a subscription keeps while the notifier is behind (the oldest are dropped)."""


def _seconds(quantity: Any) -> float:
    return float(quantity.to_value("s"))


class Notifier:
    """Notifications of one unit's run (see the module docstring)."""

    def __init__(self, settings: NotificationsConfig, *, unit: str,
                 timezone: str | None = None, bus: EventBus | None = None,
                 clock: Clock | None = None, announce: bool = False) -> None:
        self.settings = settings
        self.announce = announce
        self.unit = unit
        self.timezone = timezone
        self.bus = bus or get_event_bus()
        self._clock = clock
        self.sender: Sender | None = None
        self.rules: NightRules | None = None
        self._dispatcher: Dispatcher | None = None
        self._subscriptions: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def from_config(cls, config: Config, *, bus: EventBus | None = None,
                    announce: bool = False) -> Notifier:
        model = config.model
        return cls(model.notifications, unit=model.name, timezone=model.site.timezone,
                   bus=bus, announce=announce)

    @property
    def clock(self) -> Clock:
        return self._clock or get_clock()

    @property
    def enabled(self) -> bool:
        return bool(self.settings.channels) or self.announce

    async def start(self) -> None:
        """Make the channels (a ConfigError if one cannot be), start sending, subscribe."""
        if not self.enabled or self.rules is not None:
            return
        settings = self.settings
        self._clock = self.clock  # the run's clock, from now on
        if settings.channels:
            from nocturna.notify.channels import build_channels  # urllib, smtplib, ssl

            channels = build_channels(settings)
            self.sender = Sender(channels, timeout_s=_seconds(settings.send_timeout),
                                 retries=settings.retries,
                                 backoff_s=_seconds(settings.retry_backoff),
                                 queue_size=settings.queue_size)
            self._dispatcher = Dispatcher(channels, self.sender, self._later, unit=self.unit,
                                          min_interval_s=_seconds(settings.min_interval),
                                          timezone=self.timezone)
            self.sender.start()
            log.info("notifications to %s", ", ".join(c.label for c in channels))
        self.rules = NightRules(self._emit, self._later,
                                repeat_window_s=_seconds(settings.repeat_window),
                                timezone=self.timezone)
        for pattern in TOPICS:
            subscription = self.bus.subscribe(pattern, maxsize=QUEUE_SIZE)
            self._subscriptions.append(subscription)
            self._spawn(self._consume(subscription))

    async def stop(self) -> None:
        """Handle the events still queued, send what is held, flush (bounded), stop."""
        if self.rules is None:
            return
        sender = self.sender
        for subscription in self._subscriptions:
            subscription.close()
            for event in subscription.drain():
                self._handle(event)
        self._subscriptions.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.rules.flush()
        self.rules = None
        if self._dispatcher is not None:
            self._dispatcher.flush(self.clock.now())
        if sender is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, sender.close, _seconds(self.settings.flush_timeout))
        self.sender = None

    async def __aenter__(self) -> Notifier:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.shield(self.stop())

    # ------------------------------------------------------------ on the unit's loop
    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume(self, subscription: Subscription) -> None:
        while True:
            self._handle(await subscription.get())

    def _handle(self, event: Event) -> None:
        assert self.rules is not None
        try:
            self.rules.handle(event)
        except Exception:  # a notification must never stop the night
            log.exception("notification rules failed on %s", event.topic)

    def _emit(self, notification: Notification) -> None:
        if self.announce:
            self.bus.publish("notify.notification", self.unit, time=notification.time,
                             kind=notification.kind, level=notification.level,
                             subject=notification.title, text=notification.text)
        if self._dispatcher is not None:
            self._dispatcher.dispatch(notification, self.clock.now())

    def _later(self, when: datetime, callback: Callable[[], None]) -> None:
        self._spawn(self._at(when, callback))

    async def _at(self, when: datetime, callback: Callable[[], None]) -> None:
        delay = (when - self.clock.now()).total_seconds()
        if delay > 0:
            await self.clock.sleep(delay)
        try:
            callback()
        except Exception:
            log.exception("a held notification could not be released")
