"""How a component in FAULT comes back by itself: the retry policy."""

from __future__ import annotations

from dataclasses import dataclass

from nocturna.components.states import (
    DISABLED,
    ENABLED,
    STANDBY,
    is_finite_number,
)
from nocturna.core.errors import (
    InvalidValueError,
)

DUE_SLACK_S = 1e-3
"""A recovery attempt due within this many clock seconds is due now (float rounding)."""

RECOVERY_STEPS = ((STANDBY, "leaving FAULT"), (DISABLED, "reconnecting"),
                   (ENABLED, "re-enabling"))
"""The walk of a recovery attempt, with how its step reasons name each step."""

@dataclass(frozen=True, slots=True)
class RecoveryPolicy:
    """How a component in FAULT tries to come back by itself (see the module docstring).

    The first attempt comes ``first_retry_s`` clock seconds after the fault; after each
    failed one the wait grows ``factor`` times, up to ``max_retry_s``. Failed attempts
    are summarised in the log (at WARNING) every ``log_every`` attempts.
    """

    first_retry_s: float = 30.0
    max_retry_s: float = 600.0
    factor: float = 2.0
    log_every: int = 5

    def __post_init__(self) -> None:
        if not (is_finite_number(self.first_retry_s) and self.first_retry_s > 0):
            raise InvalidValueError(
                f"first_retry_s must be a finite number > 0, got {self.first_retry_s!r}")
        if not (is_finite_number(self.max_retry_s) and self.max_retry_s >= self.first_retry_s):
            raise InvalidValueError(f"max_retry_s must be a finite number >= first_retry_s "
                                    f"({self.first_retry_s!r}), got {self.max_retry_s!r}")
        if not (is_finite_number(self.factor) and self.factor >= 1):
            raise InvalidValueError(f"factor must be a finite number >= 1, got {self.factor!r}")
        if isinstance(self.log_every, bool) or not isinstance(self.log_every, int) \
                or self.log_every < 1:
            raise InvalidValueError(
                f"log_every must be a whole number >= 1, got {self.log_every!r}")

    def delay_s(self, failed: int) -> float:
        """Clock seconds to wait for the next attempt after ``failed`` failed attempts."""
        try:
            delay = self.first_retry_s * self.factor ** max(0, failed)
        except OverflowError:
            return float(self.max_retry_s)
        return float(min(self.max_retry_s, delay))
