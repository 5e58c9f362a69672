"""The version 1 message envelope (see the topic table in the README):
``{"v": 1, "id": "<32 hex>", "unit": "<unit_id>", "kind": "<last topic part>",
"time": "<ISO 8601 UTC>", "data": {...}}`` on ``nocturna/<unit_id>/<kind>``.

:func:`parse` checks a received message against it and raises :class:`BadMessage` (one
line saying what is wrong) for anything else, so the ingest can log and skip it.
Operator commands (``nocturna/<u>/command``) carry the command object itself
(``{"v": 1, "id", "command", "by", "time"}``); :func:`parse` turns one into an envelope of
kind ``command`` with the object as ``data``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from nocturna.core.config.network import UNIT_ID
from nocturna.network.messages import COMMANDS, KINDS, NAME_PATTERN, VERSION, Envelope
from nocturna.network.messages import ROOT as TOPIC_ROOT

MESSAGE_ID = re.compile(r"^[0-9a-f]{32}$")
COMMAND_ID = re.compile(NAME_PATTERN)
MAX_PAYLOAD = 1_000_000
"""A payload larger than this (bytes) is refused unread."""


class BadMessage(ValueError):
    """A message that is not a valid version 1 envelope (says what is wrong)."""


def kind_of_topic(topic: str) -> tuple[str, str]:
    """``(unit, kind)`` of ``nocturna/<unit>/<kind>`` (``command/ack`` gives ``ack``)."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != TOPIC_ROOT:
        raise BadMessage(f"topic {topic!r} is not nocturna/<unit>/<kind>")
    unit, rest = parts[1], "/".join(parts[2:])
    if not UNIT_ID.match(unit):
        raise BadMessage(f"topic {topic!r}: unit id {unit!r} is not [A-Za-z0-9_-]")
    kind = "ack" if rest == "command/ack" else rest
    if kind not in KINDS:
        raise BadMessage(f"topic {topic!r}: unknown kind {rest!r}")
    return unit, kind


def parse_time(value: Any, what: str = "time") -> datetime:
    """An ISO 8601 time as an aware UTC datetime (naive means UTC)."""
    if not isinstance(value, str):
        raise BadMessage(f"{what} {value!r} is not an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadMessage(f"{what} {value!r} is not an ISO 8601 time") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse(topic: str, payload: bytes) -> Envelope:
    """The envelope of a message received on ``topic`` (see the module docstring)."""
    unit, kind = kind_of_topic(topic)
    if len(payload) > MAX_PAYLOAD:
        raise BadMessage(f"{topic}: payload of {len(payload)} bytes is over {MAX_PAYLOAD}")
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadMessage(f"{topic}: payload is not UTF-8 JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise BadMessage(f"{topic}: payload is not a JSON object")
    if body.get("v") != VERSION:
        raise BadMessage(f"{topic}: version {body.get('v')!r} is not {VERSION}")
    message_id = body.get("id")
    if kind == "command" and "data" not in body:
        if not isinstance(message_id, str) or not COMMAND_ID.match(message_id):
            raise BadMessage(f"{topic}: command id {message_id!r} is not 1 to 64 of "
                             "[A-Za-z0-9_.@:-]")
        return _command(topic, unit, body)
    if not isinstance(message_id, str) or not MESSAGE_ID.match(message_id):
        raise BadMessage(f"{topic}: id {message_id!r} is not 32 lowercase hex digits")
    if body.get("unit") != unit:
        raise BadMessage(f"{topic}: unit {body.get('unit')!r} is not the topic's {unit!r}")
    if body.get("kind") not in (kind, "command/ack" if kind == "ack" else kind):
        raise BadMessage(f"{topic}: kind {body.get('kind')!r} is not the topic's {kind!r}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise BadMessage(f"{topic}: data is not a JSON object")
    envelope = Envelope(message_id, unit, kind, parse_time(body.get("time")), data)
    _check_data(topic, envelope)
    return envelope


def _command(topic: str, unit: str, body: dict[str, Any]) -> Envelope:
    if body.get("command") not in COMMANDS:
        raise BadMessage(f"{topic}: command {body.get('command')!r} is not one of "
                         f"{', '.join(COMMANDS)}")
    if not isinstance(body.get("by"), str):
        raise BadMessage(f"{topic}: by {body.get('by')!r} is not a name")
    return Envelope(body["id"], unit, "command", parse_time(body.get("time")), body)


_REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "online": {"online": bool},
    "transition": {"from": (str, type(None)), "to": str, "reason": str},
    "component": {"component": str, "from": str, "to": str, "reason": str},
    "weather": {"safe": bool},
    "frame": {"image_id": (str, int), "path": str},
    "notification": {"level": str, "subject": str, "text": str},
    "ack": {"command_id": str, "accepted": bool},
}


def _check_data(topic: str, envelope: Envelope) -> None:
    for key, expected in _REQUIRED.get(envelope.kind, {}).items():
        value = envelope.data.get(key)
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise BadMessage(f"{topic}: data.{key} {value!r} is missing or not "
                             f"{_type_name(expected)}")


def _type_name(expected: type | tuple[type, ...]) -> str:
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(kind.__name__ for kind in kinds)


def new_id() -> str:
    """A new message id (uuid4, 32 hex digits)."""
    return uuid.uuid4().hex


def iso(when: datetime) -> str:
    """``when`` as ISO 8601 UTC with ``Z``, milliseconds kept."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope_bytes(unit: str, kind: str, data: dict[str, Any], *, when: datetime | None = None,
                   message_id: str | None = None) -> bytes:
    """A version 1 envelope as it goes on the wire (for tests, the benchmark, tools)."""
    body = {"v": VERSION, "id": message_id or new_id(), "unit": unit,
            "kind": "ack" if kind == "command/ack" else kind,
            "time": iso(when or datetime.now(UTC)), "data": data}
    return json.dumps(body, separators=(",", ":")).encode()
