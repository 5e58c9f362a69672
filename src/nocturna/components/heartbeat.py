"""The heartbeat of a component: liveliness probes on its clock, waiting for the next
beat (a mixin of :class:`~nocturna.components.component.Component`, which holds the
state it uses)."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Self

from nocturna.components.states import (
    CONNECTED,
    FAULT,
    OFFLINE,
    LivelinessError,
    describe_error,
)
from nocturna.core.errors import (
    InvalidOperationError,
)

log = logging.getLogger("nocturna.components.component")


PROBING: ContextVar[Heartbeating | None] = ContextVar("nocturna_probing_component", default=None)


async def cancel_tasks(*tasks: asyncio.Future[Any]) -> None:
    """Cancel ``tasks`` and wait until they have ended (no pending-task warnings)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class Heartbeating:
    """The heartbeat task and its probes (see :mod:`nocturna.components.component`)."""

    heartbeat_interval_s: float
    probe_timeout_s: float
    last_heartbeat: datetime | None
    async def start(self) -> None:
        """Start the heartbeat task (it beats only while the state is not OFFLINE)."""
        self._closed = False
        self._ensure_heartbeat()

    async def close(self) -> None:
        """Stop the heartbeat task (and recovery); the summary state (and the device's
        gate) stay as they are."""
        self._closed = True
        self._cancel_recovery("closed")
        task, self._task = self._task, None
        if task is not None:
            await cancel_tasks(task)
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_exception(InvalidOperationError(f"{self.label} was closed"))
        self._waiters.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _ensure_heartbeat(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._heartbeat_loop(), name=f"nocturna heartbeat {self.name}")

    async def _heartbeat_loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                if self._recovery_due():
                    await self._recover()
                else:
                    await self._beat()
            except Exception:  # never let the heartbeat die silently
                log.exception("heartbeat failed", extra={"component": self.name})
            await self._pause()

    async def _pause(self) -> None:
        """Wait one heartbeat interval on the clock, or less if the state changes or a
        recovery attempt is due sooner."""
        if self._wake.is_set():
            return
        seconds = self.heartbeat_interval_s
        if self.next_recovery is not None and self._state is FAULT:
            until = (self.next_recovery - self.clock.now()).total_seconds()
            seconds = min(seconds, max(0.0, until))
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_tasks(sleeper, waker)

    async def _beat(self) -> None:
        state, epoch = self._state, self._epoch
        if state is OFFLINE:
            return
        failure = await self._probe_once() if state in CONNECTED else None
        if epoch != self._epoch:
            return  # the state changed while probing: this result says nothing about now
        if failure is None:
            self.probe_failures = 0
            self._record_heartbeat()
            return
        self.probe_failures += 1
        self.last_failure = f"{self.label} {failure}"
        log.warning("%s %s (%d in a row)", self.label, failure, self.probe_failures,
                    extra={"component": self.name, "failures": self.probe_failures})
        self.events.publish("component.heartbeat_missed", self.name, time=self.clock.now(),
                            state=state, failures=self.probe_failures, error=failure)
        if self.probe_failures >= self.fault_after:
            await self.fault(f"{self.label} {failure}, {self.probe_failures} times in a row")

    async def _probe_once(self) -> str | None:
        """Run the liveliness probe once: None if it answered, else what went wrong."""
        token = PROBING.set(self)
        try:
            async with asyncio.timeout(self.probe_timeout_s) as limit:
                await self._probe()
        except TimeoutError as exc:
            if limit.expired():
                return (f"did not answer {self.probe_description} within "
                        f"{self.probe_timeout_s:g} s")
            return f"{self.probe_description} raised {describe_error(exc)}"
        except Exception as exc:
            return f"{self.probe_description} raised {describe_error(exc)}"
        finally:
            PROBING.reset(token)
        return None

    def _record_heartbeat(self) -> None:
        now = self.clock.now()
        self.last_heartbeat = now
        self.heartbeat_count += 1
        self.events.publish("component.heartbeat", self.name, time=now, state=self._state,
                            count=self.heartbeat_count)
        for waiter in list(self._waiters):
            if not waiter.done():
                waiter.set_result(now)
        self._waiters.clear()

    async def next_heartbeat(self, timeout_s: float | None = None) -> datetime:
        """Wait for the next heartbeat, at most ``timeout_s`` clock seconds.

        The default limit is three heartbeat intervals; :class:`LivelinessError` if
        none comes.
        """
        limit = 3 * self.heartbeat_interval_s if timeout_s is None else float(timeout_s)
        waiter: asyncio.Future[datetime] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        sleeper = asyncio.ensure_future(self.clock.sleep(limit))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            if waiter.done():
                return waiter.result()
        finally:
            self._waiters.discard(waiter)
            await cancel_tasks(sleeper)
            waiter.cancel()
        raise LivelinessError(f"{self.label} sent no heartbeat within {limit:g} s "
                              f"({self._staleness()})")

    def _staleness(self) -> str:
        """The heartbeat situation in words, for error messages."""
        age = self.heartbeat_age_s()
        text = f"{self._state.name}, " + ("no heartbeat yet" if age is None
                                          else f"last heartbeat {age:.1f} s ago")
        if self._state is FAULT and self.fault_reason:
            text += f"; fault: {self.fault_reason}"
        elif self.probe_failures and self.last_failure:
            text += f"; {self.probe_failures} missed: {self.last_failure}"
        return text
