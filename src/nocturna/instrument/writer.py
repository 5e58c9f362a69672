"""Writing frames behind the camera: the next exposure starts while the last is saved.

A :class:`FrameWriter` runs each save (FITS file + database row) as its own task, at
most ``depth`` at a time: :meth:`submit` waits only when that many are still under
way. A failed save is raised by the next :meth:`submit` or by :meth:`drain`, so a
sequence stops at the first frame it could not keep. Saves already started always
finish (a cancelled sequence still records the frames it took).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from nocturna.core.errors import InvalidValueError

T = TypeVar("T")
log = logging.getLogger(__name__)


class FrameWriter(Generic[T]):
    """Bounded background saves (see the module docstring)."""

    def __init__(self, depth: int = 2,
                 on_done: Callable[[T, Any], None] | None = None) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise InvalidValueError(f"writer depth must be an integer >= 1, got {depth!r}")
        self.depth = depth
        self._on_done = on_done
        self._pending: deque[tuple[asyncio.Task[T], Any]] = deque()
        self.results: list[T] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def submit(self, save: Awaitable[T], tag: Any = None) -> None:
        """Start ``save``; first wait for the oldest if ``depth`` are under way."""
        try:
            while len(self._pending) >= self.depth:
                await self._finish_oldest()
            self._collect_done()
        except BaseException:
            if inspect.iscoroutine(save):
                save.close()  # never started: nothing to finish
            raise
        task = asyncio.ensure_future(save)
        if self._on_done is not None:
            task.add_done_callback(lambda done: self._announce(done, tag))
        self._pending.append((task, tag))

    def _announce(self, task: asyncio.Task[T], tag: Any) -> None:
        if task.cancelled() or task.exception() is not None or self._on_done is None:
            return
        try:
            self._on_done(task.result(), tag)
        except Exception:  # a listener's failure must not lose the frame
            log.exception("frame writer listener failed")

    async def drain(self) -> list[T]:
        """Wait for every save; raises the first failure after all have finished."""
        first_error: BaseException | None = None
        while self._pending:
            try:
                await self._finish_oldest()
            except Exception as exc:  # keep going: every started save must finish
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
        return self.results

    async def settle(self) -> None:
        """Let every save finish, even when the caller is being cancelled; no errors."""
        tasks = [task for task, _ in self._pending]
        if not tasks:
            return
        gathered = asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.shield(gathered)
        except asyncio.CancelledError:
            # Cancelled again: the saves run on by themselves; note what they return.
            gathered.add_done_callback(lambda _: self._collect_done(raise_errors=False))
            raise
        self._collect_done(raise_errors=False)

    def _collect_done(self, *, raise_errors: bool = True) -> None:
        while self._pending and self._pending[0][0].done():
            task, tag = self._pending.popleft()
            self._record(task, tag, raise_errors)

    async def _finish_oldest(self) -> None:
        task, tag = self._pending[0]
        try:
            await asyncio.shield(task)
        finally:
            if task.done() and self._pending and self._pending[0][0] is task:
                self._pending.popleft()
                self._record(task, tag, True)

    def _record(self, task: asyncio.Task[T], tag: Any, raise_errors: bool) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            if raise_errors:
                raise error
            return
        self.results.append(task.result())
