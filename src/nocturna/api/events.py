"""Live events for Server-Sent Events: from the unit's bus to every SSE client.

The unit's loop never waits on the API and is never woken by it. :class:`EventBridge`
taps the unit's event bus: publishing an event appends it to a thread-safe buffer
(heartbeats are left out: the status board carries them, and nothing is kept while no
client listens). :class:`LogForwarder` appends nocturna's log records at INFO and
above to the same buffer. On the API's loop, a pump drains the buffer every
:data:`TICK_S` of real time, encodes each entry once (``event: <topic>`` /
``data: {topic, source, time, data}``) and hands the bytes to the
:class:`Broadcaster`, which queues them for every connected client; a slow client
loses its oldest events, it never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from nocturna.api.encoding import json_bytes
from nocturna.core.events import Event, EventBus

log = logging.getLogger(__name__)

LEFT_OUT = ("component.heartbeat",)
"""Topics not sent to SSE clients (too many; the status board carries them)."""

CLIENT_QUEUE = 1000
KEEP_ALIVE_S = 15.0
TICK_S = 0.02
"""Real seconds between two hand-overs of buffered events to the SSE clients."""
BUFFER = 10_000
"""Events and log records kept between two ticks (the oldest go first)."""


def encode(topic: str, source: str, time: Any, data: dict[str, Any]) -> bytes:
    """One SSE message."""
    body = json_bytes({"topic": topic, "source": source, "time": time, "data": data})
    return b"event: " + topic.encode() + b"\ndata: " + body + b"\n\n"


def encode_record(record: logging.LogRecord) -> bytes:
    """A log record as a ``log`` SSE message."""
    data = {"level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
    return encode("log", record.name, datetime.fromtimestamp(record.created, UTC), data)


class Broadcaster:
    """The SSE clients of one API server (lives on the API's loop)."""

    def __init__(self, keep_alive_s: float = KEEP_ALIVE_S) -> None:
        self.keep_alive_s = keep_alive_s
        self._clients: set[asyncio.Queue[bytes]] = set()

    @property
    def clients(self) -> int:
        return len(self._clients)

    def publish(self, entries: list[Event | logging.LogRecord]) -> None:
        """Encode ``entries`` and queue them for every client (on the API's loop)."""
        if not self._clients:
            return
        for entry in entries:
            try:
                if isinstance(entry, Event):
                    message = encode(entry.topic, entry.source, entry.time, entry.data)
                else:
                    message = encode_record(entry)
            except (TypeError, ValueError) as exc:  # data JSON cannot carry: said, skipped
                name = entry.topic if isinstance(entry, Event) else "log"
                log.warning("event %s not sent to SSE clients: %s", name, exc)
                continue
            self.send(message)

    def send(self, message: bytes) -> None:
        for queue in list(self._clients):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

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
    """Carries the unit's events and log records to a :class:`Broadcaster` (see above).

    Made and started on the API's loop; :meth:`tap` attaches it to the unit's bus.
    """

    def __init__(self, broadcaster: Broadcaster, tick_s: float = TICK_S) -> None:
        self._broadcaster = broadcaster
        self._tick_s = tick_s
        self._buffer: deque[Event | logging.LogRecord] = deque(maxlen=BUFFER)
        self._bus: EventBus | None = None
        self._task: asyncio.Task[None] | None = None
        self.pattern = "*"

    # The bus's side (the unit's thread): a subscriber that only appends.
    def matches(self, topic: str) -> bool:
        return topic not in LEFT_OUT and self._broadcaster.clients > 0

    def offer(self, event: Event) -> None:
        self._buffer.append(event)

    def add_record(self, record: logging.LogRecord) -> None:
        """Buffer a log record (any thread)."""
        if self._broadcaster.clients:
            self._buffer.append(record)

    def tap(self, bus: EventBus) -> None:
        """Receive ``bus``'s events from now on."""
        bus.attach(self)
        self._bus = bus

    # The API's side.
    def start(self) -> None:
        """Start the pump (call on the API's loop)."""
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        buffer, publish = self._buffer, self._broadcaster.publish
        while True:
            await asyncio.sleep(self._tick_s)
            if buffer:
                entries = [buffer.popleft() for _ in range(len(buffer))]
                publish(entries)

    def stop(self) -> None:
        """Detach from the bus and stop the pump (any thread)."""
        if self._bus is not None:
            self._bus.unsubscribe(self)
            self._bus = None
        task = self._task
        if task is not None and not task.done():
            loop = task.get_loop()
            if not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(task.cancel)


class LogForwarder(logging.Handler):
    """Hands nocturna's log records at INFO and above to an :class:`EventBridge`."""

    def __init__(self, bridge: EventBridge) -> None:
        super().__init__(logging.INFO)
        self._bridge = bridge

    def emit(self, record: logging.LogRecord) -> None:
        self._bridge.add_record(record)
