"""What the API knows of the running unit, and how it crosses to the unit's loop.

The unit's event loop is the single writer. The API thread reads the status board
(attribute reads of whole, replaced values), reads storage in worker threads, and
runs anything that touches the unit (commands, configuration sets, the summary) on
the unit's loop with :meth:`UnitLink.on_unit`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from nocturna.core.errors import NocturnaError

T = TypeVar("T")

UNIT_CALL_TIMEOUT_S = 60.0
"""How long the API waits for the unit's loop to answer (it answers in well under a
second unless the night is over)."""


GONE = "refused: state (the night is over: the unit takes no more commands)"


class UnitGoneError(NocturnaError):
    """The night is over: the unit takes nothing more (HTTP 409, reason ``state``)."""

    category = "state"


class UnitTimeoutError(NocturnaError):
    """The unit's loop did not answer in time (HTTP 504)."""


@dataclass
class UnitLink:
    """The running unit as the API sees it."""

    control: Any  # nocturna.runtime.control.UnitControl
    unit: Any  # nocturna.observatory.unit.Observatory
    loop: asyncio.AbstractEventLoop  # the unit's event loop
    started: datetime  # when the run started, on the unit's clock
    timeout_s: float = UNIT_CALL_TIMEOUT_S

    @property
    def config(self) -> Any:
        return self.unit.config

    @property
    def storage(self) -> Any:
        return self.unit.storage

    @property
    def status_bytes(self) -> bytes:
        """The status snapshot, JSON-encoded by the unit's loop."""
        return self.control.board.json_bytes

    @property
    def log_file(self) -> Path:
        settings = self.config.model.logging
        return Path(settings.file) if settings.file else \
            Path(self.config.data_dir) / "logs" / "nocturna.log"

    async def on_unit(self, work: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``work()`` on the unit's loop and wait for its result here."""
        if self.loop.is_closed():
            raise UnitGoneError(GONE)
        try:
            future = asyncio.run_coroutine_threadsafe(work(), self.loop)
        except RuntimeError:
            raise UnitGoneError(GONE) from None
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)),
                                          self.timeout_s)
        except TimeoutError:
            future.cancel()
            if self.loop.is_closed():
                raise UnitGoneError(GONE) from None
            raise UnitTimeoutError(f"the unit did not answer within {self.timeout_s:.0f} s") \
                from None
        except concurrent.futures.CancelledError:  # the night ended: its loop cancelled it
            raise UnitGoneError(GONE) from None
