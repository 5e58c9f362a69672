"""Structured logging: quiet console by default, JSON lines in a rotating file."""

from __future__ import annotations

import json
import logging

import pytest

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.logs import setup_logging

log = logging.getLogger("nocturna.test.logs")


@pytest.fixture(autouse=True)
def _restore_logger():
    yield
    setup_logging()  # back to the quiet console only


def test_console_is_quiet_by_default(capsys):
    setup_logging()
    log.info("routine detail")
    log.warning("dome not closing")
    err = capsys.readouterr().err
    assert "routine detail" not in err
    assert "WARNING nocturna.test.logs: dome not closing" in err


def test_verbose_shows_info_and_debug(capsys):
    setup_logging(verbosity=1)
    log.info("slew started")
    log.debug("axis detail")
    err = capsys.readouterr().err
    assert "slew started" in err and "axis detail" not in err
    setup_logging(verbosity=2)
    log.debug("axis detail")
    assert "axis detail" in capsys.readouterr().err


def test_console_shows_structured_fields(capsys):
    setup_logging(verbosity=1)
    log.info("slewed", extra={"ra_deg": 10.5, "target": "M42"})
    assert "slewed ra_deg=10.5 target=M42" in capsys.readouterr().err


def test_file_gets_json_lines_with_fields_and_the_simulated_time(tmp_path):
    path = tmp_path / "logs" / "nocturna.log"
    setup_logging(log_file=path, file_level="info")
    with use_clock(SimClock("2026-12-15T04:00Z", speed=0)):
        log.info("exposure written", extra={"image_id": "20261215-0001", "exptime_s": 30})
    for handler in logging.getLogger("nocturna").handlers:
        handler.flush()
    entry = json.loads(path.read_text().strip().splitlines()[-1])
    assert entry["message"] == "exposure written"
    assert entry["level"] == "info" and entry["logger"] == "nocturna.test.logs"
    assert entry["image_id"] == "20261215-0001" and entry["exptime_s"] == 30
    assert entry["clock_time"].startswith("2026-12-15T04:00:00")


def test_file_rotates_at_its_size_limit(tmp_path):
    path = tmp_path / "nocturna.log"
    setup_logging(log_file=path, max_bytes=2048, backups=2)
    for i in range(200):
        log.warning("line %d with some padding to fill the file quickly", i)
    assert (tmp_path / "nocturna.log.1").exists()
    assert not (tmp_path / "nocturna.log.3").exists()


def test_setting_up_twice_does_not_duplicate_output(capsys):
    setup_logging()
    setup_logging()
    log.warning("once")
    assert capsys.readouterr().err.count("once") == 1
