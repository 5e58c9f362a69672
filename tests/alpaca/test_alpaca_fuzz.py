"""Fuzzing nocturna's Alpaca server against its own OpenAPI description (schemathesis).

The server describes itself at ``GET /openapi.json`` (built from nocturna's members
table, see ``nocturna.alpaca.openapi``). Every operation of that description gets a
couple of generated requests (device number 0 of every device type, all served by
simulators): no reply may be an HTTP 5xx, and every HTTP 200 reply must carry the
transaction keys, exactly cased and typed, and a ``Value`` matching the description's
schema when the operation succeeded.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
from alpaca_server_helpers import small_sim_camera
from hypothesis import HealthCheck, Phase, given, settings

from nocturna.alpaca.members import KINDS
from nocturna.alpaca.openapi import PATH, document
from nocturna.alpaca.runner import start_in_thread
from nocturna.core.config import Config
from nocturna.devices.alpaca import imagebytes
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.rotator import SimRotator

EXAMPLES = 2
UINT32 = range(0, 0x1_0000_0000)


SPEC: dict[str, Any] = document({kind: [0] for kind in KINDS})
"""What the server below describes itself as (checked against what it serves)."""
SCHEMA = schemathesis.openapi.from_dict(SPEC)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def _value_validator(operation: Any) -> Any | None:
    """A validator of the ``Value`` the operation returns on success (None: none)."""
    method = SPEC["paths"][operation.path][operation.method.lower()]
    ref = method["responses"]["200"]["content"]["application/json"]["schema"]
    schema = ref if "$ref" not in ref else SPEC["components"]["schemas"][
        ref["$ref"].rsplit("/", 1)[-1]]
    for part in schema.get("allOf", [schema]):
        value = part.get("properties", {}).get("Value")
        if value is not None:
            return jsonschema_rs.validator_for({"components": SPEC["components"], **value})
    return None


@pytest.fixture(scope="module")
def server():
    devices = build_devices(Config.load(None, load_local=False, environ={}), simulate=True)
    devices.cameras["cam0"] = small_sim_camera(mount=devices.mount)
    devices.rotators["rot0"] = SimRotator("rot0")
    with start_in_thread(devices) as running:
        yield running


@pytest.fixture(scope="module")
def session():
    with requests.Session() as http:
        yield http


def _reconnect(session: requests.Session, base: str) -> None:
    """Connect every device again (the fuzzer may have disconnected some)."""
    for kind in KINDS:
        session.put(f"{base}/{kind}/0/connected", data={"Connected": "true"}, timeout=30)


def _content_type(response: Any) -> str:
    value = {key.lower(): item for key, item in response.headers.items()}["content-type"]
    return value[0] if isinstance(value, list) else value


def _check_reply(operation: Any, response: Any, validator: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.content)
    content_type = _content_type(response)
    if response.status_code != 200:
        assert response.status_code == 400, response.status_code
        assert content_type.startswith("text/plain")
        return
    if content_type == "application/imagebytes":
        meta = imagebytes.parse_header(response.content)
        assert meta.error_number == 0 or 0x400 <= meta.error_number <= 0xFFF
        return
    assert content_type == "application/json; charset=utf-8"
    body = response.json()
    assert type(body["ClientTransactionID"]) is int and body["ClientTransactionID"] in UINT32
    assert type(body["ServerTransactionID"]) is int and body["ServerTransactionID"] in UINT32
    assert body["ServerTransactionID"] >= 1
    assert type(body["ErrorNumber"]) is int and type(body["ErrorMessage"]) is str
    for key in body:
        assert key in {"ClientTransactionID", "ServerTransactionID", "ErrorNumber",
                       "ErrorMessage", "Value", "Type", "Rank"}, key
    if body["ErrorNumber"]:
        assert 0x400 <= body["ErrorNumber"] <= 0xFFF and body["ErrorMessage"], body
        return
    assert body["ErrorMessage"] == ""
    assert ("Value" in body) is (validator is not None), body
    if validator is not None:
        assert validator.is_valid(body["Value"]), (operation.path, body["Value"])
    if operation.path.endswith(("/imagearray", "/imagearrayvariant")):
        assert body["Rank"] in (2, 3) and body["Type"] in (1, 2, 3)


def test_the_server_serves_the_description_the_fuzzer_uses(server, session):
    reply = session.get(server.url + PATH, timeout=30)
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert reply.json() == SPEC
    paths = SPEC["paths"]
    assert len(OPERATIONS) == sum(len(ops) for ops in paths.values())
    assert "/api/v1/camera/{device_number}/startexposure" in paths
    assert "/management/v1/configureddevices" in paths


@pytest.mark.parametrize("operation", OPERATIONS,
                         ids=[f"{op.method.upper()} {op.path}" for op in OPERATIONS])
def test_every_generated_request_gets_a_well_formed_reply(server, session, operation):
    base = server.url
    validator = _value_validator(operation)
    image = operation.path.endswith(("/imagearray", "/imagearrayvariant"))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(base_url=base, session=session, timeout=30)
        _check_reply(operation, response, validator)
        if image:
            response = case.call(base_url=base, session=session, timeout=30,
                                 headers={"Accept": "application/imagebytes"})
            _check_reply(operation, response, validator)

    try:
        run()
    finally:
        if operation.path.endswith(("/connected", "/connect", "/disconnect")):
            _reconnect(session, base)
