"""Commands from the network, run on the unit's loop with a local command's rules.

The publisher's thread receives ``nocturna/<u>/command``; :class:`CommandRunner` sends
the command to the unit's loop (``asyncio.run_coroutine_threadsafe``, as the API does)
where :class:`~nocturna.runtime.control.UnitControl` accepts or refuses it, records it
with who sent it (``mqtt:<by>``, role operator: the broker's ACL lets only operators
publish commands) and the answer comes back as the acknowledgement's data. The runtime
gives the control and how to name its sender (``network`` sits below ``runtime``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nocturna.core.errors import CommandRefused
from nocturna.network.messages import Command

ANSWER_TIMEOUT_S = 60.0
"""How long the unit's loop may take to answer a command (real seconds)."""
METHODS = {"park": "park", "pause": "pause", "resume": "resume", "end_night": "end_night"}
"""Network command → UnitControl method."""


@dataclass(frozen=True)
class Answer:
    """What became of a command: accepted or refused (with its category), and when."""

    accepted: bool
    category: str | None
    message: str
    time: datetime


def refused(category: str, message: str) -> Answer:
    return Answer(False, category, message, datetime.now(UTC))


class CommandRunner:
    """Runs network commands on the unit's loop (see the module docstring)."""

    def __init__(self) -> None:
        self.control: Any | None = None  # nocturna.runtime.control.UnitControl
        self.loop: asyncio.AbstractEventLoop | None = None  # the unit's
        self.operator: Callable[[str], Any] | None = None

    def attach(self, control: Any, loop: asyncio.AbstractEventLoop,
               operator: Callable[[str], Any]) -> None:
        """Take commands from now on, for ``control`` of the unit running on ``loop``;
        ``operator(name)`` makes the control's record of who sent one."""
        self.control, self.loop, self.operator = control, loop, operator

    def detach(self) -> None:
        self.control = None

    async def run(self, command: Command) -> Answer:
        """Run ``command`` on the unit's loop (call on the publisher's loop)."""
        control, loop, operator = self.control, self.loop, self.operator
        if control is None or loop is None or operator is None or loop.is_closed():
            return refused("state", "the unit is not running a night: it takes no commands")
        try:
            future = asyncio.run_coroutine_threadsafe(
                _on_unit(control, operator(f"mqtt:{command.by}"), command), loop)
        except RuntimeError:
            return refused("state", "the night is over: the unit takes no more commands")
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), ANSWER_TIMEOUT_S)
        except TimeoutError:
            future.cancel()
            return refused("state", f"the unit did not answer within {ANSWER_TIMEOUT_S:g} s")
        except concurrent.futures.CancelledError:
            return refused("state", "the night is over: the unit takes no more commands")


async def _on_unit(control: Any, who: Any, command: Command) -> Answer:
    """On the unit's loop: the command through UnitControl, as the API sends it."""
    method = getattr(control, METHODS[command.command])
    try:
        result = await method(who)
    except CommandRefused as refusal:
        return Answer(False, refusal.category, str(refusal), control.unit.clock.now())
    return Answer(True, None, result.detail, control.unit.clock.now())
