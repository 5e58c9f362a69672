"""The fleet page's JSON, served over HTTP from a real PostgreSQL database that the
ingest's own write path (:class:`nocturna.fleet.store.FleetStore`) filled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fleet_web_rows import DASHBOARD, fill, get, serving
from sqlalchemy import Engine

from nocturna.cli.main import main
from nocturna.core.errors import NocturnaError
from nocturna.fleet.migrations import migrate_fleet
from nocturna.fleet.store import open_fleet_engine
from nocturna.fleet.web import check_database


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_fleet_engine(db_url)
    migrate_fleet(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def fleet_url(engine: Engine) -> Iterator[str]:
    fill(engine)
    yield from serving(engine)


def test_the_fleet_json_has_every_unit_at_a_glance(fleet_url):
    status, fleet = get(f"{fleet_url}api/fleet")
    assert status == 200
    one, two = fleet["units"]
    assert (one["unit"], one["online"], one["state"], one["reason"]) == (
        "pan001", True, "observing", "tracking M42")
    assert (one["weather_safe"], one["weather_reasons"]) == (True, [])
    assert (one["frames"], one["night"]) == (3, "2026-12-15")  # its newest night only
    assert one["last_time"] == "2026-12-15T21:09:00Z"  # the newest event: frame 5
    assert 0 <= one["heard_s_ago"] < 3600
    assert one["dashboard"] == DASHBOARD
    assert (two["unit"], two["online"], two["state"], two["weather_safe"]) == (
        "pan002", False, "parked", False)
    assert two["weather_reasons"] == ["rain 2.1 mm/h > 0"]
    assert (two["frames"], two["night"]) == (0, None)
    assert two["dashboard"] is None  # not an http(s) address: no link
    [ingest] = fleet["ingests"]
    assert (ingest["client_id"], ingest["connected"], ingest["backlog"]) == (
        "nocturna-ingest", True, 2)
    assert (ingest["event_lag_p50_s"], ingest["write_lag_p99_s"]) == (0.02, 0.03)


def test_a_units_detail_lists_its_transitions_and_frames_newest_first(fleet_url):
    status, unit = get(f"{fleet_url}api/units/pan001")
    assert status == 200
    assert [(t["component"], t["to_state"]) for t in unit["transitions"]] == [
        (None, "observing"), (None, "scheduling"), ("camera", "enabled")]
    assert unit["transitions"][0]["reason"] == "tracking M42"
    assert [f["image_id"] for f in unit["exposures"]] == [
        "pan001-5", "pan001-4", "pan001-3", "pan001-2", "pan001-1"]
    assert unit["exposures"][0]["path"] == "/data/pan001/5.fits"
    assert unit["frames"] == 3


def test_an_unknown_unit_is_a_404_that_names_it(fleet_url):
    status, body = get(f"{fleet_url}api/units/pan999")
    assert status == 404 and "pan999" in body["detail"]


def test_an_empty_fleet_is_an_empty_list(engine):
    for url in serving(engine):
        status, fleet = get(f"{url}api/fleet")
        assert (status, fleet["units"], fleet["ingests"]) == (200, [], [])


def test_a_database_without_fleet_tables_is_refused_in_one_line(db_url):
    engine = open_fleet_engine(db_url)
    try:
        with pytest.raises(NocturnaError, match=r"no fleet tables.*fleet ingest"):
            check_database(engine)
    finally:
        engine.dispose()


def test_serving_beyond_loopback_needs_allow_remote(db_url, capsys):
    assert main(["fleet", "serve", "--db", db_url, "--host", "0.0.0.0", "--port", "0"]) == 2
    error = capsys.readouterr().err
    assert "--allow-remote" in error and "0.0.0.0" in error and len(error.splitlines()) == 1
