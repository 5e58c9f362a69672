"""Shared by tests that follow a component through its states."""

from __future__ import annotations

from collections.abc import Callable

from nocturna.core.events import Subscription


async def next_change(changes: Subscription, wanted: Callable[[dict], bool]) -> dict:
    """The data of the next ``component.*`` event ``wanted`` accepts."""
    while True:
        event = await changes.get()
        if wanted(event.data | {"topic": event.topic}):
            return event.data
