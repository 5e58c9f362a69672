"""Events: how long operations report progress and how state changes are announced.

An :class:`EventBus` delivers :class:`Event` objects to subscribers, each of which
reads from its own bounded queue (a slow subscriber loses its oldest events, it never
blocks the publisher). Publishing is synchronous and cheap, safe from any coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from nocturna.core.clock import get_clock


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: ``topic`` like ``"camera.exposure.started"``."""

    topic: str
    source: str
    data: dict[str, Any] = field(default_factory=dict)
    time: datetime = field(default_factory=lambda: get_clock().now())


class Subscription:
    """One subscriber's queue of events whose topic matches ``pattern`` (fnmatch)."""

    def __init__(self, bus: EventBus, pattern: str, maxsize: int) -> None:
        self._bus = bus
        self.pattern = pattern
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def matches(self, topic: str) -> bool:
        return self.pattern == "*" or fnmatch.fnmatchcase(topic, self.pattern)

    def offer(self, event: Event) -> None:
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()

    def drain(self) -> list[Event]:
        """Every event queued so far (without waiting)."""
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events

    def close(self) -> None:
        self._bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self.queue.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Subscriber(Protocol):
    """Anything the bus can deliver to: :class:`Subscription` or a custom tap."""

    def matches(self, topic: str) -> bool: ...

    def offer(self, event: Event) -> None: ...


class EventBus:
    """Publish/subscribe within one process."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscriber] = []

    def subscribe(self, pattern: str = "*", maxsize: int = 1000) -> Subscription:
        subscription = Subscription(self, pattern, maxsize)
        self.attach(subscription)
        return subscription

    def attach(self, subscriber: Subscriber) -> None:
        """Deliver matching events to ``subscriber.offer`` (called in the publisher's
        thread; it must not block)."""
        self._subscriptions.append(subscriber)

    def unsubscribe(self, subscription: Subscriber) -> None:
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)

    def publish(self, topic: str, source: str, *, time: datetime | None = None,
                **data: Any) -> Event:
        """Deliver an event; ``time`` defaults to the process clock's now."""
        event = Event(topic, source, data, time if time is not None else get_clock().now())
        for subscription in list(self._subscriptions):
            if subscription.matches(topic):
                subscription.offer(event)
        return event


_bus = EventBus()


def get_event_bus() -> EventBus:
    """The process-wide event bus."""
    return _bus
