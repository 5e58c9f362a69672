"""Typed errors shared by every layer.

Each error carries the ASCOM error number it maps to, so the Alpaca server can
answer with the right ``ErrorNumber`` and the Alpaca client can raise the right
class for a number it receives (:func:`error_for_number`). Numbers follow the ASCOM
standard; errors ASCOM has no number for use the driver-specific range 0x500-0xFFF.
"""

from __future__ import annotations


class NocturnaError(Exception):
    """Base of every error nocturna raises on purpose."""

    ascom_number: int = 0x500

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)

    @property
    def message(self) -> str:
        return str(self)


class NotImplementedByDeviceError(NocturnaError):
    """The device or driver does not implement this member (or its Can* flag is false)."""

    ascom_number = 0x400


class InvalidValueError(NocturnaError, ValueError):
    """A value given is out of range or of the wrong kind."""

    ascom_number = 0x401


class ValueNotSetError(NocturnaError):
    """The value has not been set yet (e.g. last exposure duration before any exposure)."""

    ascom_number = 0x402


class NotConnectedError(NocturnaError):
    """The device is not connected."""

    ascom_number = 0x407


class InvalidWhileParkedError(NocturnaError):
    """The operation is not allowed while the mount is parked."""

    ascom_number = 0x408


class InvalidWhileSlavedError(NocturnaError):
    """The operation is not allowed while the dome is slaved to the mount."""

    ascom_number = 0x409


class InvalidOperationError(NocturnaError):
    """The operation is not valid in the current state (e.g. camera busy, no image)."""

    ascom_number = 0x40B


class ActionNotImplementedError(NocturnaError):
    """The named custom action is not implemented."""

    ascom_number = 0x40C


class OperationCancelledError(NocturnaError):
    """The operation was cancelled (abort, halt, or a checkpoint refusing to go on)."""

    ascom_number = 0x40E


class DeviceTimeoutError(NocturnaError, TimeoutError):
    """A device did not answer or finish within its time limit."""

    ascom_number = 0x500


class NotSafeError(NocturnaError):
    """The operation was refused because conditions are not safe (weather, daylight...)."""

    ascom_number = 0x501


class ConfigError(InvalidValueError):
    """The configuration is invalid; ``problems`` lists each bad key and why."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("invalid configuration: " + "; ".join(self.problems))


class ConfigKeyError(NocturnaError, KeyError):
    """A configuration key does not exist."""

    ascom_number = 0x401

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0] if self.args else "unknown configuration key"


class StorageError(NocturnaError):
    """The database or the image store could not complete a request."""


class UnitBusyError(NocturnaError):
    """Another controller already runs this unit (it holds the data directory's lock)."""


class CommandRefused(NocturnaError):
    """An operator's command was refused; ``category`` says why in one word: ``unsafe``,
    ``daylight``, ``fault``, ``state`` (not now, in this state) or ``invalid``."""

    CATEGORIES = ("unsafe", "daylight", "fault", "state", "invalid")

    def __init__(self, category: str, message: str) -> None:
        if category not in self.CATEGORIES:
            raise ValueError(f"unknown refusal category {category!r}")
        self.category = category
        super().__init__(f"refused: {category} ({message})")


_BY_NUMBER: dict[int, type[NocturnaError]] = {
    cls.ascom_number: cls
    for cls in (
        NotImplementedByDeviceError,
        InvalidValueError,
        ValueNotSetError,
        NotConnectedError,
        InvalidWhileParkedError,
        InvalidWhileSlavedError,
        InvalidOperationError,
        ActionNotImplementedError,
        OperationCancelledError,
        DeviceTimeoutError,
        NotSafeError,
    )
}


def error_for_number(number: int, message: str = "") -> NocturnaError:
    """The typed error for an ASCOM error number (driver-specific numbers → NocturnaError)."""
    cls = _BY_NUMBER.get(number)
    if cls is None:
        error = NocturnaError(message or f"device error 0x{number:X}")
        error.ascom_number = number
        return error
    return cls(message)
