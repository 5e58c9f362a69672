"""What the exposure tool reports: azcam's flag, the status dictionary (azcam's keys
and nocturna's), the time still to integrate and the image-ready toggle."""

from __future__ import annotations

import math
from typing import Any

from nocturna.azcam.remote import remote
from nocturna.azcam.tools.exposure.flags import STATE_OF_FLAG
from nocturna.azcam.tools.exposure.sequence import ExposureSequences

UNREADABLE_TEMPERATURES = (-999.9, -666.6)
"""azcam's camtemp and dewtemp when they cannot be read."""


class ExposureStatus(ExposureSequences):
    """The status commands."""

    @remote
    def get_exposureflag(self) -> list[Any]:
        """``[flag number, flag name]`` as azcam returns it."""
        return [int(self.flag), self.flag.name]

    @remote
    def get_exposuretime_remaining(self) -> float:
        """Seconds of integration still to go (0 when not integrating)."""
        return round(self._remaining(self._shot), 3) if self._shot is not None else 0.0

    @remote
    def check_image_ready(self) -> bool:
        """True once per image written since the last call (azcam's image-ready toggle)."""
        ready, self._image_ready = self._image_ready, False
        return ready

    @remote
    async def get_status(self) -> dict[str, Any]:
        """The exposure's state, times, counts and names (azcam's keys and nocturna's)."""
        shot = self._shot
        state = STATE_OF_FLAG[self.flag]
        remaining = self._remaining(shot) if shot is not None else 0.0
        exposure_time = shot.exposure_time if shot is not None else self.exposure_time
        progress = 0.0
        label = ""
        if shot is not None and state in ("exposing", "paused") and shot.camera_started:
            progress = 100.0 * (1 - remaining / exposure_time) if exposure_time else 100.0
            label = f"{remaining:.1f} sec remaining" + (" (paused)" if state == "paused"
                                                        else "")
        elif state in ("reading", "writing"):
            progress = 100.0
            label = state
        message = self.message
        if not message and state != "idle":
            message = self.flag.name
            if self._in_sequence:
                message += f" - {self._sequence_number} of {self.exposure_sequence_total}"
        current = shot or self._last_shot
        camtemp, dewtemp = await self._temperatures()
        return {
            "state": state, "message": message, "exposure_time": exposure_time,
            "time_remaining": round(remaining, 3), "progress": round(progress, 1),
            "image_count": self.image_count, "filename": self.get_filename(),
            "last_filename": self.last_filename,
            "exposure_id": current.exposure_id if current is not None else None,
            "paused": shot is not None and shot.paused_since is not None,
            # azcam's keys
            "exposurelabel": label, "exposurestate": self.flag.name if state != "idle" else "",
            "progressbar": round(progress, 1), "camtemp": camtemp, "dewtemp": dewtemp,
            "seqcount": self._sequence_number if self._in_sequence else 0,
            "seqtotal": self.exposure_sequence_total if self._in_sequence else 0,
            "timestamp": self.clock.now().isoformat(timespec="seconds"),
            "imagetitle": self.title, "imagetype": self.image_type,
            "imagetest": int(self.filenames.test_image), "exposuretime": self.exposure_time,
            "colbin": self.col_bin, "rowbin": self.row_bin,
        }

    async def _temperatures(self) -> tuple[float, float]:
        """The camera's sensor and heat-sink temperatures, rounded as azcam shows them."""
        try:
            state = await self.camera.state()
        except Exception:
            return UNREADABLE_TEMPERATURES
        readings = (state.ccd_temperature_c, state.heat_sink_temperature_c)
        camtemp, dewtemp = (round(t, 1) if math.isfinite(t) else bad
                            for t, bad in zip(readings, UNREADABLE_TEMPERATURES, strict=True))
        return camtemp, dewtemp
