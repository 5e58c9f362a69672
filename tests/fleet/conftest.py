"""Fleet fixtures: a broker with units, the ingest and an operator, and a fresh
PostgreSQL schema per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_helpers import fresh_schema

from mqtt_helpers import Mosquitto

USERS = {"pan001": "pw1", "pan002": "pw2", "pan003": "pw3", "operator": "pw0",
         "ingest": "pwi"}


@pytest.fixture
def db_url() -> Iterator[str]:
    """A URL into a new, empty schema of the test PostgreSQL server."""
    with fresh_schema() as url:
        yield url


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path, users=USERS) as started:
        yield started
