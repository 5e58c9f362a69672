"""Storage fixtures: every test runs on SQLite and, when ``NOCTURNA_TEST_PG`` holds a
SQLAlchemy URL, on PostgreSQL too (each test in a schema of its own, dropped after).

Without the variable there is simply no PostgreSQL parameter: nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.storage import MIGRATIONS, Migration, Storage

PG_URL = os.environ.get("NOCTURNA_TEST_PG", "").strip()
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
SIM_START = "2026-12-15T04:00Z"


@dataclass(frozen=True)
class Place:
    """Where one test's database lives; open it as often as the test needs."""

    backend: str
    url: str | None = None
    data_dir: Path | None = None
    schema: str | None = None

    def open(self, migrations: Sequence[Migration] = MIGRATIONS) -> Storage:
        return Storage.open(
            self.url, data_dir=self.data_dir, schema=self.schema, migrations=migrations
        )


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An autocommit engine on the PostgreSQL test database (creates/drops schemas)."""
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """A fresh, empty database location on each backend."""
    if request.param == "sqlite":
        yield Place("sqlite", data_dir=tmp_path / "data")
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    schema = f"test_{uuid.uuid4().hex}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield Place("postgresql", url=PG_URL, schema=schema)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def storage(place: Place) -> Iterator[Storage]:
    """An open Storage on a fresh database."""
    with place.open() as opened:
        yield opened


@pytest.fixture
def sim_clock() -> Iterator[SimClock]:
    """The nocturna clock stopped at SIM_START (moves only by ``advance``)."""
    with use_clock(SimClock(SIM_START, speed=0)) as clock:
        yield clock
