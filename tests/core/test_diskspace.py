"""Free disk space and simulated shortages (the oracle behind the disk_full fault)."""

from __future__ import annotations

import errno
import shutil
from collections import namedtuple
from types import SimpleNamespace

import pytest

from nocturna.core import diskspace
from nocturna.core.atomic import atomic_write_bytes, temporary_files
from nocturna.core.errors import InvalidValueError
from nocturna.states.safety import SafetySupervisor
from unit_helpers import disk_check_unit

Usage = namedtuple("Usage", "total used free")


@pytest.fixture
def measured(monkeypatch):
    """A fake file system with 5 GB free; records the paths it is asked about."""
    asked = []

    def disk_usage(path):
        asked.append(path)
        return Usage(10_000_000_000, 5_000_000_000, 5_000_000_000)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    return asked


def unit_needing(tmp_path, minimum_mb: float) -> SimpleNamespace:
    """What the safety disk check reads of a unit."""
    return disk_check_unit(tmp_path / "data", minimum_mb)


def test_without_a_shortage_free_bytes_is_what_the_file_system_says(tmp_path, measured):
    assert diskspace.free_bytes(tmp_path) == 5_000_000_000
    assert measured == [tmp_path]


def test_a_path_not_created_yet_is_measured_at_its_nearest_existing_parent(tmp_path,
                                                                           measured):
    diskspace.free_bytes(tmp_path / "night" / "raw")
    assert measured == [tmp_path]


def test_a_shortage_caps_the_free_space_under_its_root_only(tmp_path, measured):
    (tmp_path / "data").mkdir()
    (tmp_path / "other").mkdir()
    with diskspace.shortage(tmp_path / "data", free_bytes=1000):
        assert diskspace.free_bytes(tmp_path / "data" / "night") == 1000
        assert diskspace.free_bytes(tmp_path / "other") == 5_000_000_000
    assert diskspace.free_bytes(tmp_path / "data") == 5_000_000_000


def test_a_shortage_without_a_root_covers_every_path(tmp_path, measured):
    with diskspace.shortage(free_bytes=0):
        assert diskspace.free_bytes(tmp_path) == 0


def test_a_write_during_a_full_disk_fails_with_enospc_and_leaves_nothing(tmp_path):
    target = tmp_path / "frame.fits"
    with diskspace.shortage(tmp_path), pytest.raises(OSError) as caught:
        atomic_write_bytes(target, b"\0" * 2880)
    assert caught.value.errno == errno.ENOSPC
    assert not target.exists() and list(temporary_files(tmp_path)) == []


def test_a_write_works_again_once_the_shortage_ends(tmp_path):
    target = tmp_path / "frame.fits"
    with diskspace.shortage(tmp_path):
        pass
    atomic_write_bytes(target, b"\0" * 2880)
    assert target.read_bytes() == b"\0" * 2880


def test_a_write_that_fits_in_the_space_left_succeeds_and_a_larger_one_fails(tmp_path):
    with diskspace.shortage(tmp_path, free_bytes=3000):
        atomic_write_bytes(tmp_path / "small.fits", b"\0" * 2880)
        with pytest.raises(OSError, match="No space left"):
            atomic_write_bytes(tmp_path / "large.fits", b"\0" * 5760)


def test_the_safety_disk_check_reports_a_shortage_and_recovers_after_it(tmp_path, measured):
    supervisor = SafetySupervisor(unit_needing(tmp_path, 100))
    assert supervisor.disk() == []
    with diskspace.shortage(tmp_path / "data"):
        (reason,) = supervisor.disk()
        assert reason.startswith("only 0 MB free") and "need 100 MB" in reason
        supervisor.disk()  # still short: told once
    assert supervisor.disk() == []
    assert [topic for topic, _ in supervisor.unit.published] == ["disk_low"]
    assert supervisor.unit.published[0][1]["limit_mb"] == 100


def test_the_smallest_of_overlapping_shortages_wins(tmp_path, measured):
    with diskspace.shortage(tmp_path, free_bytes=2000), \
            diskspace.shortage(tmp_path / "data", free_bytes=500):
        assert diskspace.free_bytes(tmp_path / "data") == 500
        assert diskspace.free_bytes(tmp_path) == 2000


def test_a_negative_shortage_is_refused():
    with pytest.raises(InvalidValueError, match="free_bytes"):
        diskspace.simulate_shortage(free_bytes=-1)
    assert diskspace.active_shortages() == []
