"""Sending, away from the night: a thread with its own real-time event loop.

The unit's loop only hands messages over (:meth:`Sender.submit`, which never waits).
Each channel has its own bounded queue and worker, so a dead or slow receiver holds up
only its own messages. One try at sending runs in a daemon thread and is given
``timeout_s``; a failed try is logged and tried again after ``backoff_s``, doubled
each time (at most :data:`MAX_BACKOFF_S`), ``retries`` times, then given up (logged
as an error). A queue holds the messages waiting behind the one being sent; when it
is full it drops its oldest (logged).

:meth:`Sender.close` lets the queues empty for a bounded time, then gives up on what
is left (logged) and ends the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from nocturna.notify.notification import Message

if TYPE_CHECKING:
    from nocturna.notify.channels import Channel

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0
T = TypeVar("T")


@dataclass
class _Lane:
    """One channel's queue and its worker's state (used on the sender's loop only)."""

    channel: Channel
    queue: deque[Message] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    sent: int = 0
    failed: int = 0


class Sender:
    """Delivers messages to channels on its own thread (see the module docstring)."""

    def __init__(self, channels: list[Channel], *, timeout_s: float, retries: int,
                 backoff_s: float, queue_size: int) -> None:
        self.channels = channels
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.queue_size = queue_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lanes: dict[str, _Lane] = {}
        self._workers: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------ any thread
    def start(self) -> None:
        """Start the thread and its loop (returns once they are ready)."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), daemon=True,
                                        name="nocturna-notify")
        self._thread.start()
        ready.wait()

    def submit(self, channel: Channel, message: Message) -> None:
        """Queue ``message`` for ``channel``; never waits (safe from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            log.error("%s: not sent, the sender is stopped: %s", channel.label, message.subject)
            return
        with contextlib.suppress(RuntimeError):  # closed meanwhile
            loop.call_soon_threadsafe(self._enqueue, channel.name, message)

    def close(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the queues to empty, give up on the rest, stop."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        done = asyncio.run_coroutine_threadsafe(self._drain(timeout_s), loop)
        with contextlib.suppress(Exception):
            done.result(timeout_s + 10.0)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10.0)
        self._loop = None

    def counts(self) -> dict[str, dict[str, int]]:
        """Per channel: messages sent, given up, dropped (read after :meth:`close`)."""
        return {name: {"sent": lane.sent, "failed": lane.failed, "dropped": lane.dropped}
                for name, lane in self._lanes.items()}

    # ------------------------------------------------------------ the sender's thread
    def _main(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            for channel in self.channels:
                lane = self._lanes[channel.name] = _Lane(channel)
                lane.idle.set()
                self._workers.append(loop.create_task(self._work(lane)))
            ready.set()
            loop.run_forever()
            for task in self._workers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*self._workers, return_exceptions=True))
        finally:
            ready.set()
            loop.close()

    def _enqueue(self, name: str, message: Message) -> None:
        lane = self._lanes[name]
        if len(lane.queue) >= self.queue_size:
            lost = lane.queue.popleft()
            lane.dropped += 1
            log.warning("%s: queue full (%d), dropped the oldest message: %s",
                        lane.channel.label, self.queue_size, lost.subject)
        lane.queue.append(message)
        lane.idle.clear()
        lane.wake.set()

    async def _work(self, lane: _Lane) -> None:
        while True:
            if not lane.queue:
                lane.idle.set()
                lane.wake.clear()
                await lane.wake.wait()
                continue
            await self._deliver(lane, lane.queue.popleft())  # the queue holds what waits

    async def _deliver(self, lane: _Lane, message: Message) -> None:
        channel, wait = lane.channel, self.backoff_s
        tries = self.retries + 1
        for attempt in range(1, tries + 1):
            try:
                await in_thread(channel.send, message, timeout_s=self.timeout_s + 1.0)
            except Exception as exc:
                error = _describe(exc)
                if attempt == tries:
                    lane.failed += 1
                    log.error("%s: gave up after %d tries: %s (not sent: %s)", channel.label,
                              tries, error, message.subject,
                              extra={"channel": channel.name, "tries": tries})
                    return
                log.warning("%s: try %d of %d failed: %s; trying again in %g s",
                            channel.label, attempt, tries, error, wait,
                            extra={"channel": channel.name, "attempt": attempt})
                await asyncio.sleep(wait)
                wait = min(MAX_BACKOFF_S, 2 * wait)
            else:
                lane.sent += 1
                log.info("%s: sent %s", channel.label, message.subject,
                         extra={"channel": channel.name, "attempt": attempt})
                return

    async def _drain(self, timeout_s: float) -> None:
        lanes = list(self._lanes.values())
        try:
            async with asyncio.timeout(timeout_s):
                for lane in lanes:
                    await lane.idle.wait()
        except TimeoutError:
            for lane in lanes:
                if lane.queue:
                    lane.failed += len(lane.queue)
                    log.error("%s: %d message(s) not sent after %g s at the end of the run "
                              "(first: %s)", lane.channel.label, len(lane.queue), timeout_s,
                              lane.queue[0].subject, extra={"channel": lane.channel.name})


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError) and not str(error):
        return "no answer in time"
    text = str(error)
    return text if text else type(error).__name__


async def in_thread(function: Callable[..., T], *args: Any, timeout_s: float) -> T:
    """Run blocking ``function(*args)`` in a daemon thread of its own and wait for it at
    most ``timeout_s`` (then :class:`TimeoutError`; the thread is left to end by itself
    and never holds up the process's exit)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            result = function(*args)
        except BaseException as exc:  # handed to the waiting coroutine
            error = exc
            with contextlib.suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(settle, lambda: future.set_exception(error))
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, lambda: future.set_result(result))

    threading.Thread(target=run, daemon=True, name="nocturna-notify-send").start()
    async with asyncio.timeout(timeout_s):
        return await future
