"""Topics and payloads (version 1): one JSON envelope per message, one kind per topic.

Every message on ``nocturna/<unit_id>/<kind>`` is the envelope::

    {"v": 1, "id": "<32 hex>", "unit": "<unit_id>", "kind": "<kind>",
     "time": "<ISO 8601 UTC of the event>", "data": {...}}

``id`` is made once, when the message is kept in the outbox, and never changes (a
message sent twice carries the same id: receivers are idempotent on it). The kind is
the topic's last level (``ack`` on ``command/ack``). ``schema.json`` beside this module
is the JSON Schema of the envelope and of each kind's ``data`` (:func:`json_schema`).
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

VERSION = 1
ROOT = "nocturna"
KINDS = ("online", "status", "transition", "weather", "component", "frame", "summary",
         "notification", "command", "ack")
"""Every kind of message (``command`` is the one the unit receives)."""
COMMANDS = ("park", "pause", "resume", "end_night")
"""What a network command may ask."""
_SUBTOPIC = {"ack": "command/ack"}
NAME_PATTERN = r"^[A-Za-z0-9_.@:-]{1,64}$"
"""Who sent a command (``by``) and command ids: short, no spaces."""


def topic(unit_id: str, kind: str) -> str:
    """``nocturna/<unit_id>/<kind>`` (``…/command/ack`` for ``ack``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    return f"{ROOT}/{unit_id}/{_SUBTOPIC.get(kind, kind)}"


def iso(when: datetime) -> str:
    """ISO 8601 UTC with ``Z``; microseconds when there are some."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities (anywhere inside) as None: JSON cannot hold them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


@dataclass(frozen=True)
class Envelope:
    """One message: its id, unit, kind, the event's time and its data."""

    id: str
    unit: str
    kind: str
    time: datetime
    data: dict[str, Any]

    @classmethod
    def new(cls, unit: str, kind: str, data: dict[str, Any], time: datetime) -> Envelope:
        """A message with a new id."""
        if kind not in KINDS:
            raise ValueError(f"unknown message kind {kind!r}")
        return cls(uuid.uuid4().hex, unit, kind, time, data)

    @property
    def topic(self) -> str:
        return topic(self.unit, self.kind)

    def as_dict(self) -> dict[str, Any]:
        return {"v": VERSION, "id": self.id, "unit": self.unit, "kind": self.kind,
                "time": iso(self.time), "data": finite(self.data)}

    def encode(self) -> str:
        """The payload: compact JSON (UTF-8 when sent)."""
        return json.dumps(self.as_dict(), separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)


@cache
def json_schema() -> dict[str, Any]:
    """The JSON Schema of the envelope and each kind's data (``schema.json``)."""
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# ----------------------------------------------------------------- each kind's data
def transition_data(data: dict[str, Any]) -> dict[str, Any]:
    """From ``unit.state``: ``from`` is null for the run's first state."""
    return {"from": data.get("from_state"), "to": data["to_state"],
            "reason": str(data.get("reason") or "")}


def _state_name(state: Any) -> str:
    return str(getattr(state, "name", state))


def component_data(source: str, data: dict[str, Any]) -> dict[str, Any]:
    """From ``component.state`` (states by name, as the status board shows them)."""
    return {"component": source, "from": _state_name(data["from"]),
            "to": _state_name(data["to"]), "reason": str(data.get("reason") or "")}


def frame_data(record: Any, night: str) -> dict[str, Any]:
    """A frame written, from its exposure row (no pixels): ``sha256`` of the file."""
    header = record.header or {}
    exposure_id = header.get("EXPID")
    title = header.get("OBJECT")
    return {"image_id": record.image_id,
            "exposure_id": int(exposure_id) if isinstance(exposure_id, int) else None,
            "camera": record.camera, "path": record.path, "sha256": record.checksum,
            "image_type": record.image_type, "object": None if title in (None, "")
            else str(title), "exposure_s": float(record.exposure_time_s),
            "start_time": iso(record.start_time), "observation_id": record.observation_id,
            "night": night}


def weather_data(snapshot: dict[str, Any]) -> dict[str, Any] | None:
    """From a status board snapshot: readings, ``safe`` and the weather check's reasons
    (None when the unit has no weather station or safety monitor)."""
    weather = snapshot.get("weather")
    if not weather:
        return None
    checks = (snapshot.get("safety") or {}).get("checks") or {}
    reasons = (checks.get("weather") or {}).get("reasons") or []
    return {**weather, "safe": bool(weather.get("safe")), "reasons": [str(r) for r in reasons]}


def notification_data(level: str, subject: str, text: str) -> dict[str, Any]:
    return {"level": level, "subject": subject, "text": text}


def ack_data(command_id: str, accepted: bool, category: str | None,
             message: str) -> dict[str, Any]:
    return {"command_id": command_id, "accepted": accepted, "category": category,
            "message": message}


# ----------------------------------------------------------------- commands received
@dataclass(frozen=True)
class Command:
    """A command from the network: what, its id, who sent it."""

    id: str
    command: str
    by: str


class CommandInvalid(ValueError):
    """A command payload that cannot be run; ``command_id`` if it had a usable one."""

    def __init__(self, message: str, command_id: str = "") -> None:
        super().__init__(message)
        self.command_id = command_id


def parse_command(payload: bytes) -> Command:
    """The command in ``payload`` (CommandInvalid saying what is wrong otherwise)."""
    import re

    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandInvalid(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise CommandInvalid("expected a JSON object")
    command_id = body.get("id")
    usable = command_id if isinstance(command_id, str) and \
        re.match(NAME_PATTERN, command_id) else ""
    if body.get("v") != VERSION:
        raise CommandInvalid(f"v: expected {VERSION}, got {body.get('v')!r}", usable)
    if not usable:
        raise CommandInvalid(f"id: expected 1 to 64 letters, digits or _.@:-, got "
                             f"{command_id!r}")
    if body.get("command") not in COMMANDS:
        raise CommandInvalid(f"command: expected one of {', '.join(COMMANDS)}, got "
                             f"{body.get('command')!r}", usable)
    by = body.get("by")
    if not isinstance(by, str) or not re.match(NAME_PATTERN, by):
        raise CommandInvalid(f"by: expected 1 to 64 letters, digits or _.@:-, got {by!r}",
                             usable)
    return Command(usable, body["command"], by)
