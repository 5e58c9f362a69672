"""azcam's sequences: ``number_exposures`` exposures with the current settings,
``delay`` seconds apart, in the foreground (``sequence``) or background (``sequence1``).

``flush_array_flag`` keeps azcam's meaning (-1 current, 0 flush before each, 1 before
the first only, 2 never) and is recorded (``FLUSHARR`` card, status); nocturna cameras
clear the sensor at the start of every exposure, so it does not change the pixels.
"""

from __future__ import annotations

import asyncio
import contextlib

from nocturna.azcam.remote import remote
from nocturna.azcam.tools.exposure.flags import FLUSH_MEANING
from nocturna.azcam.tools.exposure.lifecycle import ExposureLifecycle
from nocturna.azcam.tools.exposure.shot import first
from nocturna.azcam.values import integer, number
from nocturna.core.errors import InvalidValueError


class ExposureSequences(ExposureLifecycle):
    """``sequence`` / ``sequence1`` and the settings they keep."""

    exposure_sequence_total: int
    exposure_sequence_delay: float
    exposure_sequence_flush: int
    _sequence_number: int  # the exposure of the running sequence (1-based), else 0

    @remote
    async def sequence(self, number_exposures: int = -1, flush_array_flag: int = -1,
                       delay: float = -1) -> None:
        """``number_exposures`` exposures with the current time, type and title, ``delay``
        seconds apart (-1: the current settings; see the module docstring for the flag)."""
        self._refuse_if_busy()
        await self._sequence(number_exposures, flush_array_flag, delay)

    @remote
    async def sequence1(self, number_exposures: int = 1, flush_array_flag: int = -1,
                        delay: float = -1) -> None:
        """:meth:`sequence` in the background: returns at once."""
        self._refuse_if_busy()
        count, flush, pause = self._sequence_settings(number_exposures, flush_array_flag,
                                                      delay)

        async def run() -> None:
            with contextlib.suppress(Exception):  # kept in last_error / flag / message
                await self._sequence(count, flush, pause)

        self._in_sequence = True  # refuse other commands from now on
        self._task = asyncio.get_running_loop().create_task(run())

    def _sequence_settings(self, number_exposures: int, flush_array_flag: int,
                           delay: float) -> tuple[int, int, float]:
        count = integer(number_exposures, "number_exposures", -1)
        count = self.exposure_sequence_total if count == -1 else count
        if count < 1:
            raise InvalidValueError(f"number_exposures must be >= 1 (or -1 for the current "
                                    f"{self.exposure_sequence_total}), got {number_exposures}")
        flush = integer(flush_array_flag, "flush_array_flag", -1)
        flush = self.exposure_sequence_flush if flush == -1 else flush
        if flush not in FLUSH_MEANING:
            raise InvalidValueError(f"flush_array_flag must be -1, 0, 1 or 2, got "
                                    f"{flush_array_flag}")
        pause = number(delay, "delay")
        pause = self.exposure_sequence_delay if pause < 0 else pause
        return count, flush, pause

    async def _sequence(self, number_exposures: int, flush_array_flag: int,
                        delay: float) -> None:
        count, flush, pause = self._sequence_settings(number_exposures, flush_array_flag,
                                                      delay)
        self.exposure_sequence_total = count
        self._in_sequence, self._stop_sequence = True, False
        try:
            for index in range(count):
                if index and pause > 0:
                    await first(self.clock.sleep(pause), self._stopped())
                if self._stop_sequence:
                    break
                self._sequence_number = index + 1
                frame_flush = flush if index == 0 or flush != 1 else 2
                await self._begin(-1, self.image_type, self.title, frame_flush)
                await self._finish()
        finally:
            self._in_sequence = False
            self._sequence_number = 0

    async def _stopped(self) -> None:
        while not self._stop_sequence:
            await self.clock.sleep(0.1)
