"""The version 1 envelope check: what the ingest accepts, and what it refuses (one line)."""

from __future__ import annotations

import json

import pytest

from nocturna.fleet.envelope import BadMessage, envelope_bytes, parse

ID = "0123456789abcdef0123456789abcdef"


def body(**changes) -> bytes:
    message = {"v": 1, "id": ID, "unit": "pan001", "kind": "frame",
               "time": "2026-12-15T21:03:00Z", "data": {"image_id": 7, "path": "/a.fits"}}
    message.update(changes)
    return json.dumps(message).encode()


def test_a_valid_envelope_is_read_with_its_event_time():
    envelope = parse("nocturna/pan001/frame", body())
    assert (envelope.id, envelope.unit, envelope.kind) == (ID, "pan001", "frame")
    assert envelope.time.isoformat() == "2026-12-15T21:03:00+00:00"
    assert envelope.data["path"] == "/a.fits"


def test_acks_and_commands_have_their_own_forms():
    ack = envelope_bytes("pan001", "command/ack", {"command_id": "c1", "accepted": True})
    assert parse("nocturna/pan001/command/ack", ack).kind == "ack"
    command = json.dumps({"v": 1, "id": ID, "command": "park", "by": "ops",
                          "time": "2026-12-15T21:03:00Z"}).encode()
    parsed = parse("nocturna/pan001/command", command)
    assert (parsed.kind, parsed.data["command"], parsed.data["by"]) == ("command", "park", "ops")


@pytest.mark.parametrize(("topic", "payload", "says"), [
    ("nocturna/pan001/frame", b"\xff\xfe not json", "not UTF-8 JSON"),
    ("nocturna/pan001/frame", b"[1, 2]", "not a JSON object"),
    ("nocturna/pan001/frame", body(v=2), "version 2"),
    ("nocturna/pan001/frame", body(id="not-hex"), "32 lowercase hex"),
    ("nocturna/pan001/frame", body(unit="pan002"), "not the topic's 'pan001'"),
    ("nocturna/pan001/frame", body(kind="status"), "kind 'status'"),
    ("nocturna/pan001/frame", body(time="yesterday"), "not an ISO 8601 time"),
    ("nocturna/pan001/frame", body(data=[]), "data is not a JSON object"),
    ("nocturna/pan001/frame", body(data={"path": "/a.fits"}), "data.image_id"),
    ("nocturna/pan001/weather", body(kind="weather", data={"safe": "yes"}), "data.safe"),
    ("nocturna/pan001/teapot", body(kind="teapot"), "unknown kind"),
    ("nocturna/pan 1/frame", body(), "unit id"),
    ("elsewhere/pan001/frame", body(), "nocturna/<unit>/<kind>"),
    ("nocturna/pan001/command", body(kind="command", command="explode"), "command"),
])
def test_bad_messages_are_refused_with_one_line_saying_why(topic, payload, says):
    if topic.endswith("/command"):
        payload = json.dumps({"v": 1, "id": ID, "command": "explode", "by": "x",
                              "time": "2026-12-15T21:03:00Z"}).encode()
    with pytest.raises(BadMessage, match=None) as caught:
        parse(topic, payload)
    assert says in str(caught.value) and "\n" not in str(caught.value)
