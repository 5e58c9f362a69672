"""The API of a running unit, during a simulated night on virtual time (paced), served by
uvicorn on 127.0.0.1 from its own thread, on uvloop's loop and on asyncio's.

Every read endpoint answers; every command works with an operator token and is
refused without one (401) or with a viewer token (403); a target of opportunity is
the next field observed; an operator park is parked and closed within the safety
latency (60 s of the unit's clock); live events arrive over SSE.
"""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from api_helpers import (
    AS_OPERATOR,
    AS_VIEWER,
    EVENT_LOOPS,
    RunningNight,
    status,
    until,
)

COMMANDS = [("POST", "/api/park", None), ("POST", "/api/pause", {"reason": "test"}),
            ("POST", "/api/resume", None), ("POST", "/api/end-night", None),
            ("POST", "/api/observe", {"name": "T1", "ra_deg": 10.0, "dec_deg": 20.0}),
            ("POST", "/api/calibrations", {"kind": "bias", "count": 1}),
            ("POST", "/api/abort", None),
            ("PUT", "/api/config/scheduler.weights.moon", {"value": 0.5})]
SAFETY_LATENCY_S = 60.0


@pytest.fixture(scope="module", params=sorted(EVENT_LOOPS))
def night(request, tmp_path_factory):
    with RunningNight(tmp_path_factory.mktemp(f"night-{request.param}"),
                      EVENT_LOOPS[request.param]) as running:
        running.loop_name = request.param
        yield running


@pytest.fixture(scope="module")
def client(night):
    with httpx.Client(base_url=night.url, timeout=60) as http:
        yield http


def _first_frame(client):
    answer = client.get("/api/frames/latest", headers=AS_VIEWER,
                        params={"image_type": "OBJECT"})
    return answer.json() if answer.status_code == 200 else None


def test_the_api_serves_from_its_own_thread_and_loop(night):
    import uvloop

    assert night.server.loop is not night.server.link.loop
    assert isinstance(night.server.loop, uvloop.Loop) is (night.loop_name == "uvloop")


def test_every_read_endpoint_answers_during_the_night(night, client):
    frame = until(lambda: _first_frame(client), "a light frame")
    log_file = night.server.link.log_file  # the unit logs there when the CLI runs it
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("".join(f"line {n}\n" for n in range(1, 21)))
    snapshot = status(client)
    assert snapshot["unit"] == night.config.model.name and snapshot["time_base"] == "virtual"
    assert snapshot["state"] and "safety" in snapshot and "components" in snapshot
    assert snapshot["api_url"] == night.server.url  # what a fleet page links to
    json_reads = ["/api/whoami", "/api/plan", "/api/sky", "/api/frames",
                  f"/api/frames/{frame['image_id']}", f"/api/frames/{frame['image_id']}/header",
                  "/api/transitions?limit=5", "/api/telemetry?kind=weather&limit=3",
                  "/api/summary", "/api/records/pointing", "/api/records/focus",
                  "/api/records/tracking", "/api/focus/plots", "/api/log?lines=5",
                  "/api/commands"]
    answers = {path: client.get(path, headers=AS_VIEWER) for path in json_reads}
    for path, answer in answers.items():
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "application/json", path
    assert answers["/api/whoami"].json() == {"name": "watcher", "role": "viewer"}
    assert answers["/api/plan"].json()["sets"]
    sky = answers["/api/sky"].json()
    assert sky["horizon"] and sky["fields"] and "alt_deg" in sky["moon"]
    assert any(field["done"] for field in sky["fields"])
    assert frame["image_id"] in {f["image_id"] for f in answers["/api/frames"].json()}
    cards = answers[f"/api/frames/{frame['image_id']}/header"].json()["cards"]
    assert ["OBJECT", frame["field"]] in [card[:2] for card in cards]
    assert answers["/api/transitions?limit=5"].json()[0]["to_state"]
    assert answers["/api/telemetry?kind=weather&limit=3"].json()
    assert answers["/api/summary"].json()["light_frames"]
    assert answers["/api/log?lines=5"].json()["lines"] == [f"line {n}" for n in range(16, 21)]
    for path, kind in ((f"/api/frames/{frame['image_id']}/preview.jpg?size=128", "image/jpeg"),
                       (f"/api/frames/{frame['image_id']}/preview.png?stretch=zscale",
                        "image/png"),
                       ("/api/plan.png", "image/png"),
                       (f"/api/frames/{frame['image_id']}/fits", "application/fits")):
        answer = client.get(path, headers=AS_VIEWER)
        assert answer.status_code == 200 and answer.headers["content-type"] == kind, path
    small = client.get(f"/api/frames/{frame['image_id']}/preview.jpg?size=128",
                       headers=AS_VIEWER)
    from io import BytesIO

    from PIL import Image

    assert max(Image.open(BytesIO(small.content)).size) <= 128
    fits = client.get(f"/api/frames/{frame['image_id']}/fits", headers=AS_VIEWER)
    assert fits.content.startswith(b"SIMPLE  =") and len(fits.content) % 2880 == 0
    assert client.get("/api/frames/no-such-frame", headers=AS_VIEWER).status_code == 404


def test_reads_need_a_token(client):
    assert client.get("/api/status").status_code == 401
    assert client.get("/api/status", headers={"Authorization": "Bearer wrong"}).status_code \
        == 401
    assert client.get("/api/status", headers={"Authorization": "Basic abc"}).status_code == 401


def test_the_docs_and_the_description_are_served_with_no_outside_request(client):
    spec = client.get("/openapi.json").json()
    assert "/api/status" in spec["paths"] and "/api/park" in spec["paths"]
    page = client.get("/docs").text
    assert "/docs-files/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert client.get("/docs-files/swagger-ui-bundle.js").status_code == 200
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), COMMANDS, ids=[c[1] for c in COMMANDS])
def test_every_command_is_401_without_a_token_and_403_for_a_viewer(client, method, path,
                                                                    body):
    assert client.request(method, path, json=body).status_code == 401
    answer = client.request(method, path, json=body, headers=AS_VIEWER)
    assert answer.status_code == 403 and "operator" in answer.json()["detail"]


def _commands(client):
    return client.get("/api/commands", headers=AS_VIEWER).json()


def test_pause_resume_abort_calibrate_and_config_with_an_operator_token(night, client):
    until(lambda: status(client)["state"] == "observing", "observing")
    paused = client.post("/api/pause", json={"reason": "clouds coming"}, headers=AS_OPERATOR)
    assert paused.status_code == 202, paused.text
    assert paused.json()["accepted"] is True and paused.json()["command"] == "pause"
    until(lambda: status(client)["paused"], "paused")
    calibrated = client.post("/api/calibrations", json={"kind": "bias", "count": 1},
                             headers=AS_OPERATOR)
    assert calibrated.status_code in (202, 409), calibrated.text
    resumed = client.post("/api/resume", headers=AS_OPERATOR)
    assert resumed.status_code == 202, resumed.text
    again = client.post("/api/resume", headers=AS_OPERATOR)
    assert again.status_code == 409 and again.json()["reason"] == "state"
    aborted = client.post("/api/abort", headers=AS_OPERATOR)
    assert aborted.status_code in (202, 409), aborted.text
    if aborted.status_code == 409:
        assert aborted.json()["reason"] == "state"
    configured = client.put("/api/config/scheduler.weights.moon", json={"value": 0.5},
                            headers=AS_OPERATOR)
    assert configured.status_code == 202, configured.text
    assert night.config.model.scheduler.weights.moon == 0.5
    local = client.put("/api/config/api.tokens", json={"value": []}, headers=AS_OPERATOR)
    assert local.status_code == 403 and "api" in local.json()["detail"]
    unknown = client.put("/api/config/no.such.key", json={"value": 1}, headers=AS_OPERATOR)
    assert unknown.status_code == 422 and "unknown key" in unknown.json()["detail"]
    out_of_range = client.put("/api/config/scheduler.weights.moon", json={"value": -5},
                              headers=AS_OPERATOR)
    assert out_of_range.status_code == 422
    recorded = _commands(client)
    by_command = {(row["command"], row["accepted"]) for row in recorded}
    assert {("pause", True), ("resume", True), ("resume", False), ("config", True),
            ("config", False)} <= by_command
    assert all(row["operator"] == "ops" and row["address"] for row in recorded)


def test_a_target_of_opportunity_is_observed_next(night, client):
    until(lambda: status(client)["state"] == "observing", "observing")
    sent = client.post("/api/observe", headers=AS_OPERATOR,
                       json={"name": "TOO-1", "ra_deg": night_ra(night), "dec_deg": 19.5,
                             "count": 1, "exposure_s": 5.0})
    assert sent.status_code == 202, sent.text
    fields = []

    def next_light_field():
        frames = client.get("/api/frames", headers=AS_VIEWER,
                            params={"image_type": "OBJECT", "since": sent_at(client)}).json()
        fields[:] = [f["field"] for f in reversed(frames)]
        return fields

    until(next_light_field, "a light frame after the target of opportunity")
    assert fields[0] == "TOO-1", fields


def night_ra(night) -> float:
    """A right ascension on the meridian at the site now (high in the sky)."""
    from nocturna.core.astro import zenith_radec_deg

    return zenith_radec_deg(night.config.model.site, night.unit.clock.now())[0]


def sent_at(client) -> str:
    rows = [row for row in _commands(client) if row["command"] == "observe"]
    return rows[0]["time"]


def test_an_operator_park_parks_and_closes_within_the_safety_latency(night, client):
    parked = client.post("/api/park", headers=AS_OPERATOR)
    assert parked.status_code == 202, parked.text
    sent = datetime.fromisoformat(
        next(r for r in _commands(client) if r["command"] == "park")["time"]
        .replace("Z", "+00:00"))

    def closed():
        snapshot = status(client)
        mount, dome = snapshot["mount"], snapshot["dome"]
        return mount["at_park"] and dome["shutter"] == "closed" and snapshot

    snapshot = until(closed, "parked and closed")
    transitions = client.get("/api/transitions", headers=AS_VIEWER,
                             params={"since": sent.isoformat()}).json()
    parked_at = min(datetime.fromisoformat(t["time"].replace("Z", "+00:00"))
                    for t in transitions if t["to_state"] in ("parked", "paused"))
    assert (parked_at - sent).total_seconds() <= SAFETY_LATENCY_S
    assert snapshot["mount"]["at_park"] is True
    resumed = client.post("/api/resume", headers=AS_OPERATOR)
    assert resumed.status_code in (202, 409)


def test_sse_carries_transitions_commands_and_frames(night, client):
    import json

    until(lambda: status(client)["state"] not in ("parked", "paused")
          or client.post("/api/resume", headers=AS_OPERATOR).status_code == 202,
          "the night going on")
    seen: list[dict] = []
    with httpx.stream("GET", night.url + "/api/events", headers=AS_VIEWER,
                      timeout=httpx.Timeout(120)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == ": connected"
        assert client.post("/api/pause", headers=AS_OPERATOR).status_code == 202
        resumed = False
        for line in lines:
            if not line.startswith("data: "):
                continue
            message = json.loads(line[len("data: "):])
            seen.append(message)
            if message["topic"] == "unit.state" and message["data"]["to_state"] == "paused" \
                    and not resumed:
                assert client.post("/api/resume", headers=AS_OPERATOR).status_code == 202
                resumed = True
            if resumed and message["topic"] == "unit.frame":
                break
    topics = [message["topic"] for message in seen]
    assert "unit.command" in topics and "unit.state" in topics and "unit.frame" in topics
    assert "component.heartbeat" not in topics
    frame = next(m for m in seen if m["topic"] == "unit.frame")
    assert frame["data"]["image_id"] and frame["time"].endswith("Z")


def test_cors_is_off_by_default(client):
    answer = client.get("/api/status", headers={**AS_VIEWER, "Origin": "http://elsewhere.test"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
    preflight = client.options("/api/park", headers={
        "Origin": "http://elsewhere.test", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in preflight.headers
