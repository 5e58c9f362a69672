"""azcam's exposure flags, the states they show as, and the meanings of the flush flag."""

from __future__ import annotations

from enum import IntEnum


class ExposureFlag(IntEnum):
    """azcam's exposure flags (numbers as azcam's ``exposureflags``)."""

    NONE = 0
    EXPOSING = 1
    ABORT = 2
    PAUSE = 3
    RESUME = 4
    READ = 5
    PAUSED = 6
    READOUT = 7
    SETUP = 8
    WRITING = 9
    GUIDEERROR = 10
    ERROR = 11


STATE_OF_FLAG = {
    ExposureFlag.NONE: "idle", ExposureFlag.SETUP: "exposing",
    ExposureFlag.EXPOSING: "exposing", ExposureFlag.RESUME: "exposing",
    ExposureFlag.PAUSE: "paused", ExposureFlag.PAUSED: "paused",
    ExposureFlag.READ: "reading", ExposureFlag.READOUT: "reading",
    ExposureFlag.WRITING: "writing", ExposureFlag.ABORT: "aborted",
    ExposureFlag.ERROR: "error", ExposureFlag.GUIDEERROR: "error",
}
"""The state ``get_status`` reports for each flag."""

FLUSH_MEANING = {0: "flush before each exposure", 1: "flush before the first only",
                 2: "no flush"}
"""azcam's ``flush_array_flag`` values (the FLUSHARR card's comment)."""
