"""Operations a served device runs after the HTTP reply has gone (connect, park...).

ASCOM methods such as ``Connect``, ``Park`` or ``FindHome`` start an operation and
return; a status property (``Connecting``, ``Slewing``) shows it running. The handlers
start them here, by name, one of each name per device at a time; the server cancels
a device's operations when it stops. A failure is logged (there is nobody to reply to).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

from nocturna.devices.base import Device

log = logging.getLogger(__name__)

T = TypeVar("T")

_tasks: weakref.WeakKeyDictionary[Device, dict[str, asyncio.Task[Any]]] = \
    weakref.WeakKeyDictionary()


def start(device: Device, name: str, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """Run ``work`` as ``device``'s operation ``name`` (one already running is cancelled)."""
    tasks = _tasks.setdefault(device, {})
    previous = tasks.get(name)
    if previous is not None and not previous.done():
        previous.cancel()
    task = asyncio.get_running_loop().create_task(work, name=f"alpaca {device.name} {name}")
    tasks[name] = task

    def finished(done: asyncio.Task[Any]) -> None:
        if tasks.get(name) is done:
            del tasks[name]
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            log.warning("%s %s: %s failed: %s", device.kind, device.name, name, error,
                        extra={"device": device.name, "operation": name})

    task.add_done_callback(finished)
    return task


def running(device: Device, *names: str) -> bool:
    """True while one of ``device``'s operations ``names`` runs."""
    tasks = _tasks.get(device)
    if not tasks:
        return False
    return any(name in tasks and not tasks[name].done() for name in names)


async def cancel(device: Device, *names: str) -> None:
    """Cancel ``device``'s operations ``names`` (all of them without names) and wait."""
    tasks = _tasks.get(device)
    if not tasks:
        return
    chosen = [task for key, task in list(tasks.items()) if not names or key in names]
    for task in chosen:
        task.cancel()
    if chosen:
        await asyncio.gather(*chosen, return_exceptions=True)


class PerDevice(Generic[T]):
    """Server-side values kept per served device (e.g. a camera's pending subframe)."""

    def __init__(self) -> None:
        self._values: weakref.WeakKeyDictionary[Device, T] = weakref.WeakKeyDictionary()

    def get(self, device: Device) -> T | None:
        return self._values.get(device)

    def set(self, device: Device, value: T) -> T:
        self._values[device] = value
        return value

    def pop(self, device: Device) -> T | None:
        return self._values.pop(device, None)
