"""The records the storage API returns: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ObservationRecord:
    """An observation: a field observed for a while, with its status and data."""

    id: int
    name: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExposureRecord:
    """One image file and what produced it."""

    id: int
    image_id: str
    observation_id: int | None
    camera: str
    image_type: str
    exposure_time_s: float
    start_time: datetime
    path: str
    size_bytes: int | None
    checksum: str | None
    header: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TelemetryRecord:
    """One reading of some ``kind`` ("weather", "power", "device"...) from ``source``."""

    id: int
    time: datetime
    kind: str
    source: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """A change of the unit's state (``from_state`` is None for the first one)."""

    id: int
    time: datetime
    from_state: str | None
    to_state: str
    reason: str


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """An operator's command to the unit: who sent it, with what, and what came of it."""

    id: int
    time: datetime
    operator: str
    role: str
    address: str | None
    command: str
    args: dict[str, Any]
    accepted: bool
    detail: str


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A message for the broker, kept until it acknowledged it (``sent_at``)."""

    id: int
    message_id: str
    topic: str
    payload: str
    retain: bool
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class CurrentRecord:
    """The latest value of one ``kind`` (one row per kind)."""

    kind: str
    time: datetime
    source: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SchemaVersionRecord:
    """One applied migration."""

    version: int
    description: str
    applied_at: datetime
