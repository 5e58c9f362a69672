"""Live events for Server-Sent Events: from the unit's bus to every SSE client.

:class:`EventBridge` subscribes to the unit's event bus in the unit's loop and hands
each batch of events to the API thread (``call_soon_threadsafe``); heartbeats are left
out (the status board carries them). :class:`Broadcaster`, in the API thread, encodes
each event once (``event: <topic>`` / ``data: {topic, source, time, data}``) and
queues the bytes for every connected client; a slow client loses its oldest events,
it never holds up the others. :class:`LogForwarder` adds ``log`` events for log
records at INFO and above.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from nocturna.api.encoding import json_bytes
from nocturna.core.events import Event, EventBus

log = logging.getLogger(__name__)

LEFT_OUT = ("component.heartbeat",)
"""Topics not sent to SSE clients (too many; the status board carries them)."""

CLIENT_QUEUE = 1000
KEEP_ALIVE_S = 15.0


def encode(topic: str, source: str, time: Any, data: dict[str, Any]) -> bytes:
    """One SSE message."""
    body = json_bytes({"topic": topic, "source": source, "time": time, "data": data})
    return b"event: " + topic.encode() + b"\ndata: " + body + b"\n\n"


class Broadcaster:
    """The SSE clients of one API server (lives on the API's loop)."""

    def __init__(self, keep_alive_s: float = KEEP_ALIVE_S) -> None:
        self.keep_alive_s = keep_alive_s
        self._clients: set[asyncio.Queue[bytes]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def clients(self) -> int:
        return len(self._clients)

    def publish(self, events: list[Event]) -> None:
        """Queue ``events`` for every client (call on the API's loop)."""
        if not self._clients:
            return
        for event in events:
            try:
                message = encode(event.topic, event.source, event.time, event.data)
            except (TypeError, ValueError) as exc:  # data JSON cannot carry: said, skipped
                log.warning("event %s not sent to SSE clients: %s", event.topic, exc)
                continue
            self.send(message)

    def send(self, message: bytes) -> None:
        for queue in list(self._clients):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    def post(self, message: bytes) -> None:
        """Queue an encoded message from any thread."""
        loop = self.loop
        if loop is not None and self._clients and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self.send, message)

    async def stream(self) -> AsyncIterator[bytes]:
        """One client's messages, with a keep-alive comment when nothing happens."""
        queue: asyncio.Queue[bytes] = asyncio.Queue(CLIENT_QUEUE)
        self._clients.add(queue)
        try:
            yield b": connected\n\n"
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), self.keep_alive_s)
                except TimeoutError:
                    yield b": keep-alive\n\n"
        finally:
            self._clients.discard(queue)


class EventBridge:
    """Forwards the unit's events to a :class:`Broadcaster` on another loop."""

    def __init__(self, bus: EventBus, broadcaster: Broadcaster,
                 api_loop: asyncio.AbstractEventLoop) -> None:
        self._subscription = bus.subscribe("*")
        self._broadcaster = broadcaster
        self._api_loop = api_loop
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start forwarding (call on the unit's loop)."""
        self._task = asyncio.ensure_future(self._forward())

    async def _forward(self) -> None:
        while True:
            first = await self._subscription.get()
            batch = [e for e in (first, *self._subscription.drain()) if e.topic not in LEFT_OUT]
            if batch and self._broadcaster.clients and not self._api_loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    self._api_loop.call_soon_threadsafe(self._broadcaster.publish, batch)

    def stop(self) -> None:
        """Stop forwarding (from any thread; the unit's loop may be closed already)."""
        self._subscription.close()
        task = self._task
        if task is not None and not task.done():
            loop = task.get_loop()
            if not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(task.cancel)


class LogForwarder(logging.Handler):
    """``log`` events for nocturna's log records at INFO and above."""

    def __init__(self, broadcaster: Broadcaster) -> None:
        super().__init__(logging.INFO)
        self._broadcaster = broadcaster

    def emit(self, record: logging.LogRecord) -> None:
        if not self._broadcaster.clients:
            return
        try:
            data = {"level": record.levelname.lower(), "logger": record.name,
                    "message": record.getMessage()}
            from datetime import UTC, datetime

            when = datetime.fromtimestamp(record.created, UTC)
            self._broadcaster.post(encode("log", record.name, when, data))
        except Exception:
            self.handleError(record)
