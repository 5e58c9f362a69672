"""Fuzzing the running unit's API against the OpenAPI description it serves (schemathesis):
no generated request, with an operator token, gets an HTTP 5xx, during a simulated
night. The event stream (endless by design) is left out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests
import schemathesis
from api_helpers import AS_OPERATOR, EVENT_LOOPS, RunningNight
from hypothesis import HealthCheck, Phase, given, settings

EXAMPLES = 3
ENDLESS = {"/api/events"}


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    with RunningNight(tmp_path_factory.mktemp("fuzz"), EVENT_LOOPS["uvloop"]) as running:
        yield running


@pytest.fixture(scope="module")
def operations(night):
    spec = httpx.get(night.url + "/openapi.json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(spec)
    return [result.ok() for result in schema.get_all_operations()
            if result.ok().path not in ENDLESS]


def _fuzz(operation: Any, base_url: str, session: requests.Session,
          failures: list[Any]) -> None:
    """Send the operation's generated requests; note every 5xx."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, timeout=60,
                             headers=AS_OPERATOR)
        if response.status_code >= 500:
            failures.append((operation.method, operation.path, response.status_code,
                             response.text[:300]))

    run()


def test_no_generated_request_gets_a_5xx(night, operations):
    assert {"/api/status", "/api/park", "/api/observe", "/api/config/{key}"} <= \
        {op.path for op in operations}
    failures: list[Any] = []
    with requests.Session() as session:
        for operation in operations:
            _fuzz(operation, night.url, session, failures)
    assert not failures, failures
