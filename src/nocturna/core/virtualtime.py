"""Virtual time: an asyncio event loop whose clock jumps when nothing can run.

:class:`VirtualTimeLoop` is asyncio's selector loop with one change: its
:meth:`~VirtualTimeLoop.time` is virtual. Whenever the loop would block waiting for
its next timer (nothing is ready, no I/O is pending) and no tracked work is in
flight, it does not wait: it moves its time to that timer and goes on. Every
``asyncio.sleep``, ``asyncio.timeout`` and ``call_later`` therefore runs on virtual
time, and a simulated night takes only as long as its computing does.

Tracked work is whatever runs outside the loop but must finish before time may move:

* every :meth:`run_in_executor` job (so ``asyncio.to_thread`` too): a frame being
  rendered, a FITS file being written, a solve in a worker thread;
* every subprocess started through the loop, until it has exited (a plate solver);
* anything wrapped in :meth:`VirtualTimeLoop.tracked`.

While tracked work is in flight the loop blocks for real (a worker's completion wakes
it), so a stall of the process, a slow disk or a busy CPU never shows up as
simulated time. Work that takes time on a real unit costs *modelled* time instead
(see :meth:`nocturna.core.clock.Clock.takes`).

With ``pace`` set, the loop waits ``jump / pace`` real seconds before each jump: a
demo at 60x shows the night at a watchable speed, still on the same virtual
timeline (I/O arriving while it waits moves time by what really elapsed, times
``pace``).
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from nocturna.core.errors import InvalidValueError

REAL_WAIT_CAP_S = 1.0
"""Longest real block while tracked work is in flight (the loop then looks again)."""


class _JumpingSelector(selectors.BaseSelector):
    """Wraps the loop's selector: an idle wait for a timer becomes a jump of virtual time."""

    def __init__(self, inner: selectors.BaseSelector) -> None:
        self.inner = inner
        self.loop: VirtualTimeLoop | None = None

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self.inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self.inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self.inner.modify(fileobj, events, data)

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self.inner.get_key(fileobj)

    def get_map(self) -> Any:
        return self.inner.get_map()

    def close(self) -> None:
        self.inner.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self.loop
        if loop is None or timeout == 0:
            return self.inner.select(timeout)
        events = self.inner.select(0)
        if events:
            return events
        if loop.work_in_flight:
            return self.inner.select(REAL_WAIT_CAP_S)
        if timeout is None:  # no timer at all: only I/O or a signal can wake the loop
            return self.inner.select(None)
        return loop._jump(timeout, self.inner)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time (see the module docstring)."""

    def __init__(self, *, pace: float | None = None) -> None:
        if pace is not None and not (pace > 0 and pace != float("inf")):
            raise InvalidValueError(f"pace {pace!r} must be a finite number > 0 (or None: "
                                    "as fast as possible)")
        selector = _JumpingSelector(selectors.DefaultSelector())
        super().__init__(selector)
        self._virtual = 0.0
        self.pace = pace
        self._work = 0
        self._work_lock = threading.Lock()
        selector.loop = self

    # ------------------------------------------------------------ time
    def time(self) -> float:
        return self._virtual

    def _jump(self, seconds: float, inner: selectors.BaseSelector
              ) -> list[tuple[selectors.SelectorKey, int]]:
        """Advance to the next timer (``seconds`` ahead), paced in real time if asked."""
        events: list[tuple[selectors.SelectorKey, int]] = []
        if self.pace is None:
            self._virtual += seconds
        else:
            began = time.monotonic()
            events = inner.select(seconds / self.pace)
            waited = (time.monotonic() - began) * self.pace
            self._virtual += seconds if not events else min(seconds, waited)
        return events

    # ------------------------------------------------------- tracked work
    @property
    def work_in_flight(self) -> int:
        """Tracked jobs still running (time stands still until they end)."""
        return self._work

    def begin_work(self) -> None:
        with self._work_lock:
            self._work += 1

    def end_work(self) -> None:
        with self._work_lock:
            self._work = max(0, self._work - 1)
        self._write_to_self()  # the loop may be blocked waiting for this

    @contextlib.contextmanager
    def tracked(self) -> Iterator[None]:
        """A block of outside work that virtual time must wait for."""
        self.begin_work()
        try:
            yield
        finally:
            self.end_work()

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any
                        ) -> asyncio.Future[Any]:
        future = super().run_in_executor(executor, func, *args)
        self.begin_work()
        future.add_done_callback(lambda _: self.end_work())
        return future

    async def subprocess_exec(self, protocol_factory: Callable[[], Any], *args: Any,
                              **kwargs: Any) -> Any:
        tracker = _ProcessTracker(self, protocol_factory)
        try:
            return await super().subprocess_exec(tracker.factory, *args, **kwargs)
        except BaseException:
            tracker.finish()  # the process never started
            raise

    async def subprocess_shell(self, protocol_factory: Callable[[], Any], cmd: Any,
                               **kwargs: Any) -> Any:
        tracker = _ProcessTracker(self, protocol_factory)
        try:
            return await super().subprocess_shell(tracker.factory, cmd, **kwargs)
        except BaseException:
            tracker.finish()
            raise


class _ProcessTracker:
    """Counts one subprocess as tracked work from its protocol's creation to its exit."""

    def __init__(self, loop: VirtualTimeLoop, protocol_factory: Callable[[], Any]) -> None:
        self.loop = loop
        self.protocol_factory = protocol_factory
        self.state = "new"  # new -> running -> done

    def factory(self) -> Any:
        protocol = self.protocol_factory()
        exited = protocol.process_exited

        def process_exited() -> None:
            self.finish()
            exited()

        protocol.process_exited = process_exited
        self.state = "running"
        self.loop.begin_work()
        return protocol

    def finish(self) -> None:
        if self.state == "running":
            self.loop.end_work()
        self.state = "done"


def running_virtual_loop() -> VirtualTimeLoop | None:
    """The running loop if it runs on virtual time, else None."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return loop if isinstance(loop, VirtualTimeLoop) else None
