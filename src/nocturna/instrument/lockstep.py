"""Several instruments taking one sequence together, frame by frame (cameras on one mount).

:func:`take_in_lockstep` runs the same sequence on a lead instrument and its followers.
The lead decides: its checkpoint runs before each of its frames (and may stop the
sequence); a follower starts frame *i* once the lead has passed checkpoint *i*, and the
lead runs checkpoint *i + 1* only once every follower has read frame *i* out, so
nothing the checkpoint does (a guide pulse, the dome turning, a meridian flip) happens
while any camera exposes. Every frame shares the sequence's group id, visit and snap
numbering and observation; each gets its own exposure id and database row.

A follower never holds the lead up for long and never stops it: one that fails (its
camera faults, refuses the sequence) leaves the lockstep and its error is returned;
one that has not read its frame out :data:`FOLLOWER_GRACE_S` after the lead is ready
for the next frame is stopped (cancelled) and left behind. When the lead's sequence
ends, for any reason, the followers stop before their next frame; frames already
taken are written and recorded, as for any sequence.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nocturna.core.clock import Clock
from nocturna.core.errors import OperationCancelledError
from nocturna.instrument.exposure_ids import next_group_id
from nocturna.instrument.instrument import Checkpoint, Instrument

log = logging.getLogger(__name__)

FOLLOWER_GRACE_S = 60.0
"""How long (clock seconds) the lead waits at a checkpoint for a follower's readout."""


class LeadStopped(OperationCancelledError):
    """The lead's sequence ended: a follower takes no further frame."""


@dataclass
class Follower:
    """An instrument following the lead, with its own setup keywords (its filter)."""

    instrument: Instrument
    setup: dict[str, Any] = field(default_factory=dict)


@dataclass
class LockstepResult:
    """The lead's exposure ids, and what each follower ended with."""

    lead_ids: list[int]
    follower_ids: dict[str, list[int]] = field(default_factory=dict)
    follower_errors: dict[str, BaseException] = field(default_factory=dict)


class _Gate:
    """Where the lead and the followers wait for each other (see the module docstring)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.released = 0  # the last frame the lead's checkpoint let go
        self.reached = dict.fromkeys(names, 0)  # follower → the frame it waits to take
        self.stopped = False
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, ready: Callable[[], bool]) -> None:
        while not ready():
            await self._changed.wait()

    def release(self, index: int) -> None:
        self.released = index
        self._notify()

    def leave(self, name: str) -> None:
        self.reached.pop(name, None)
        self._notify()

    def stop(self) -> None:
        self.stopped = True
        self._notify()

    async def followers_ready(self, index: int) -> None:
        await self._until(lambda: all(r >= index for r in self.reached.values()))

    def late(self, index: int) -> list[str]:
        return [name for name, reached in self.reached.items() if reached < index]

    async def follow(self, name: str, index: int) -> None:
        self.reached[name] = index
        self._notify()
        await self._until(lambda: self.released >= index or self.stopped)
        if self.released < index:
            raise LeadStopped(f"{name}: the lead's sequence ended before frame {index}")


async def take_in_lockstep(lead: Instrument, followers: Sequence[Follower], imgtype: str,
                           exptime: float, n: int, *, checkpoint: Checkpoint | None = None,
                           grace_s: float = FOLLOWER_GRACE_S,
                           **kwargs: Any) -> LockstepResult:
    """Take ``n`` frames of ``imgtype`` on ``lead`` and every follower together.

    ``kwargs`` go to every :meth:`Instrument.take_imgtype` (``title``, ``reason``,
    ``observation_id``…; a ``group_id`` is made if not given); ``setup`` keywords among
    them are the lead's only (each follower has its own). The lead's errors are raised;
    the followers' are returned.
    """
    kwargs.setdefault("group_id", next_group_id(lead.clock))
    lead_setup = {k: kwargs.pop(k) for k in ("filter", "grating", "linear_stage")
                  if k in kwargs}
    gate = _Gate([f.instrument.name for f in followers])
    tasks: dict[str, asyncio.Task[list[int]]] = {}
    lead_frames = 0

    async def lead_checkpoint(message: str) -> None:
        nonlocal lead_frames
        lead_frames += 1
        index = lead_frames
        if not await _within(lead.clock, grace_s, gate.followers_ready(index)):
            for name in gate.late(index):
                log.warning("%s: frame %d not read out %g s after the lead's; leaving it "
                            "behind", name, index - 1, grace_s)
                gate.leave(name)
                tasks[name].cancel()
        if checkpoint is not None:
            await checkpoint(message)
        gate.release(index)

    def follower_checkpoint(name: str) -> Checkpoint:
        count = 0

        async def wait_for_lead(message: str) -> None:
            nonlocal count
            count += 1
            await gate.follow(name, count)

        return wait_for_lead

    for follower in followers:
        name = follower.instrument.name
        task = asyncio.ensure_future(follower.instrument.take_imgtype(
            imgtype, exptime, n, checkpoint=follower_checkpoint(name),
            **kwargs, **follower.setup))
        task.add_done_callback(lambda _, name=name: gate.leave(name))
        tasks[name] = task
    result = LockstepResult([])
    try:
        result.lead_ids = await lead.take_imgtype(imgtype, exptime, n,
                                                  checkpoint=lead_checkpoint,
                                                  **kwargs, **lead_setup)
    finally:
        gate.stop()
        await _collect(tasks, result, grace_s, lead.clock)
    return result


async def _within(clock: Clock, seconds: float, work: Awaitable[Any]) -> bool:
    """Await ``work`` for at most ``seconds`` of ``clock`` time; whether it finished
    (if not, it is cancelled)."""
    task = asyncio.ensure_future(work)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait((task, timer), return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        if not task.done():
            task.cancel()
    return task.done() and not task.cancelled()


async def _collect(tasks: dict[str, asyncio.Task[list[int]]], result: LockstepResult,
                   grace_s: float, clock: Clock) -> None:
    """Wait (at most ``grace_s``) for the followers to finish their frame in progress and
    its write; note their ids or errors. When the lead was cancelled (the unit parks),
    the followers are cancelled too; cancelled again, this stops waiting and the
    followers' writes run on by themselves."""
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        for task in tasks.values():
            task.cancel()
    if tasks:
        await _within(clock, grace_s, asyncio.wait(tasks.values()))
    for name, task in tasks.items():
        if not task.done():
            task.cancel()
            result.follower_errors[name] = TimeoutError(f"{name} still busy {grace_s:g} s "
                                                        "after the lead's sequence ended")
        elif task.cancelled():
            result.follower_errors[name] = asyncio.CancelledError()
        elif task.exception() is not None:
            result.follower_errors[name] = task.exception()  # type: ignore[assignment]
        else:
            result.follower_ids[name] = task.result()
