"""Reconciling image files with exposure rows after a crash: real frames, real SQLite."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from astropy.io import fits
from sqlalchemy import delete

from nocturna.core.atomic import temporary_name
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.storage import ExposureRecord, Storage
from nocturna.core.storage.engine import write_transaction
from nocturna.core.storage.schema import exposures
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.images.fits import FITS_BLOCK, CorruptImageError, read_fits, verify_fits
from nocturna.instrument.instrument import Instrument
from nocturna.runtime.reconcile import ReconcileReport, reconcile_images

NIGHT = "2026-12-15T10:00Z"  # midnight in Hawaii: observing day 2026-12-14
TINY = SimCameraModel(width=64, height=48, readout_s=0.1, noise_seed=3)


@pytest.fixture(autouse=True)
def clock() -> Iterator[SimClock]:
    clock = SimClock(NIGHT, speed=2000)  # simulated time runs 2000x real time
    with use_clock(clock):
        yield clock


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def storage(data_dir: Path) -> Iterator[Storage]:
    with Storage.open(data_dir=data_dir) as opened:
        yield opened


async def take(storage: Storage, data_dir: Path, n: int = 1, *, compress: bool = False,
               observation_id: int | None = None) -> list[ExposureRecord]:
    """``n`` object frames through the real pipeline (instrument, header, file, row)."""
    camera = SimCamera("cam0", model=TINY)
    await camera.connect()
    try:
        instrument = Instrument(camera, storage=storage, data_dir=data_dir,
                                timezone="US/Hawaii", compress=compress)
        ids = await instrument.take_object(1.0, n, title="M42",
                                           observation_id=observation_id)
    finally:
        await camera.disconnect()
    rows = [storage.get_exposure(instrument.image_id(exposure_id)) for exposure_id in ids]
    assert all(row is not None for row in rows)
    return rows


def forget(storage: Storage, image_id: str) -> None:
    """Delete a row, as if the process had been killed between the file and the row."""
    with write_transaction(storage.engine) as connection:
        connection.execute(delete(exposures).where(exposures.c.image_id == image_id))


def files(data_dir: Path) -> dict[str, str]:
    """Every file but the database's, by path relative to ``data_dir``: its SHA-256."""
    return {str(path.relative_to(data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(data_dir.rglob("*"))
            if path.is_file() and not path.name.startswith("nocturna.sqlite")}


def truncate(path: Path) -> bytes:
    """Cut the file to its first FITS block; the original bytes."""
    original = path.read_bytes()
    path.write_bytes(original[:FITS_BLOCK])
    return original


def damage_a_pixel(path: Path) -> None:
    """Damage the data without changing the size (the checksums catch it)."""
    raw = bytearray(path.read_bytes())
    header_end = raw.index(b"END" + b" " * 77) + 80
    header_end += -header_end % FITS_BLOCK
    raw[header_end + 10] ^= 0xFF
    path.write_bytes(bytes(raw))


def quarantined_path(data_dir: Path, path: Path) -> Path:
    return data_dir / "quarantine" / path.relative_to(data_dir / "images")


async def test_a_clean_directory_reports_clean(storage, data_dir, caplog):
    rows = await take(storage, data_dir, 2)
    with caplog.at_level(logging.INFO, logger="nocturna.runtime.reconcile"):
        report = reconcile_images(storage, data_dir)
    assert report.clean
    assert (report.files_checked, report.rows_checked) == (2, 2)
    assert "all in agreement" in str(report)
    assert [record.levelno for record in caplog.records] == [logging.INFO]
    assert len(storage.list_exposures()) == len(rows)


def test_a_data_directory_without_images_is_clean(storage, data_dir):
    report = reconcile_images(storage, data_dir)
    assert report.clean
    assert (report.files_checked, report.rows_checked) == (0, 0)


@pytest.mark.parametrize("compress", [False, True], ids=["fits", "fits.fz"])
async def test_a_file_without_a_row_and_valid_checksums_gets_its_row(storage, data_dir,
                                                                     compress):
    observation = storage.add_observation("M42")
    [original] = await take(storage, data_dir, compress=compress,
                            observation_id=observation.id)
    forget(storage, original.image_id)
    report = reconcile_images(storage, data_dir)
    assert report.recovered == [original.image_id]
    assert not report.clean
    row = storage.get_exposure(original.image_id)
    assert row is not None
    assert (row.path, row.camera, row.image_type, row.exposure_time_s) == (
        original.path, original.camera, "OBJECT", original.exposure_time_s)
    assert (row.size_bytes, row.checksum, row.header) == (
        original.size_bytes, original.checksum, original.header)
    # DATE-OBS keeps milliseconds; the OBSROWID card names the observation's row.
    assert timedelta(0) <= original.start_time - row.start_time < timedelta(milliseconds=1)
    assert row.observation_id == observation.id


async def test_a_recovered_file_is_clean_on_the_next_start(storage, data_dir):
    [original] = await take(storage, data_dir)
    forget(storage, original.image_id)
    reconcile_images(storage, data_dir)
    assert reconcile_images(storage, data_dir, verify_all=True).clean


async def test_a_truncated_file_without_a_row_is_quarantined_not_deleted(storage, data_dir):
    [original] = await take(storage, data_dir)
    forget(storage, original.image_id)
    path = Path(original.path)
    content = truncate(path)[:FITS_BLOCK]
    report = reconcile_images(storage, data_dir)
    [quarantined] = report.quarantined
    assert quarantined.path == path
    assert quarantined.destination == quarantined_path(data_dir, path)
    assert "truncated" in quarantined.reason
    assert not path.exists()
    assert quarantined.destination.read_bytes() == content
    assert storage.get_exposure(original.image_id) is None
    assert report.recovered == []


async def test_one_corrupted_file_does_not_stop_the_others_being_recovered(storage,
                                                                           data_dir):
    damaged, intact = await take(storage, data_dir, 2)
    for row in (damaged, intact):
        forget(storage, row.image_id)
    damage_a_pixel(Path(damaged.path))
    report = reconcile_images(storage, data_dir)
    assert [entry.path for entry in report.quarantined] == [Path(damaged.path)]
    assert "DATASUM" in report.quarantined[0].reason
    assert report.recovered == [intact.image_id]
    assert storage.get_exposure(damaged.image_id) is None


async def test_a_file_without_checksums_is_quarantined(storage, data_dir):
    [original] = await take(storage, data_dir)
    forget(storage, original.image_id)
    path = Path(original.path)
    data, header = read_fits(path)
    del header["CHECKSUM"], header["DATASUM"]
    fits.PrimaryHDU(data, header).writeto(path, overwrite=True)  # a file from elsewhere
    with pytest.raises(CorruptImageError, match="no CHECKSUM"):
        verify_fits(path, require_checksum=True)
    report = reconcile_images(storage, data_dir)
    assert [entry.path for entry in report.quarantined] == [path]


async def test_a_row_whose_file_was_deleted_is_reported_missing(storage, data_dir):
    gone, _ = await take(storage, data_dir, 2)
    Path(gone.path).unlink()
    report = reconcile_images(storage, data_dir)
    assert report.missing == [gone.image_id]
    assert storage.get_exposure(gone.image_id) == gone  # the row is kept
    assert (report.files_checked, report.rows_checked) == (1, 2)
    assert "1 missing their file" in str(report)


async def test_a_file_whose_size_differs_from_its_row_is_quarantined(storage, data_dir):
    [original] = await take(storage, data_dir)
    path = Path(original.path)
    truncate(path)
    report = reconcile_images(storage, data_dir)
    assert [entry.path for entry in report.quarantined] == [path]
    assert f"the row says {original.size_bytes}" in report.quarantined[0].reason
    assert quarantined_path(data_dir, path).is_file()
    assert storage.get_exposure(original.image_id) == original  # the row is kept
    assert report.missing == []


async def test_same_size_damage_to_a_recorded_file_is_found_only_with_verify_all(storage,
                                                                                 data_dir):
    [original] = await take(storage, data_dir)
    path = Path(original.path)
    damage_a_pixel(path)
    assert reconcile_images(storage, data_dir).clean
    report = reconcile_images(storage, data_dir, verify_all=True)
    assert [entry.path for entry in report.quarantined] == [path]


async def test_a_leftover_temporary_file_is_removed(storage, data_dir):
    [original] = await take(storage, data_dir)
    leftover = temporary_name(Path(original.path).with_name("cam0_2026121400099.fits"))
    leftover.write_bytes(b"SIMPLE  =                    T" + b" " * 50)
    report = reconcile_images(storage, data_dir)
    assert report.temporaries_removed == [leftover]
    assert not leftover.exists()
    assert report.files_checked == 1
    assert "1 temporary files removed" in str(report)


async def test_a_second_file_with_a_recorded_image_id_is_left_alone(storage, data_dir):
    [original] = await take(storage, data_dir)
    copy = data_dir / "images" / "20261215" / Path(original.path).name
    copy.parent.mkdir()
    shutil.copy(original.path, copy)
    report = reconcile_images(storage, data_dir)
    assert [entry.path for entry in report.unresolved] == [copy]
    assert "already recorded" in report.unresolved[0].reason
    assert copy.is_file()
    assert report.recovered == report.quarantined == []


async def test_rows_of_files_outside_the_image_directory_are_not_checked(storage, data_dir,
                                                                         tmp_path):
    await take(storage, data_dir)
    elsewhere = storage.get_exposure(storage.list_exposures()[0].image_id)
    assert elsewhere is not None
    storage.add_exposure("other_unit_1", camera="cam9", image_type="OBJECT",
                         exposure_time_s=1.0, start_time=elsewhere.start_time,
                         path=tmp_path / "other-unit" / "images" / "x.fits")
    report = reconcile_images(storage, data_dir)
    assert report.clean
    assert report.rows_checked == 1


async def test_repair_false_changes_nothing_on_disk_or_in_the_database(storage, data_dir,
                                                                       caplog):
    unrecorded, corrupt, gone, _ = await take(storage, data_dir, 4)
    for row in (unrecorded, corrupt):
        forget(storage, row.image_id)
    truncate(Path(corrupt.path))
    Path(gone.path).unlink()
    leftover = temporary_name(Path(gone.path))
    leftover.write_bytes(b"partial")
    disk, rows = files(data_dir), storage.list_exposures()
    with caplog.at_level(logging.INFO, logger="nocturna.runtime.reconcile"):
        report = reconcile_images(storage, data_dir, repair=False, verify_all=True)
    assert files(data_dir) == disk
    assert storage.list_exposures() == rows
    assert report.recovered == [unrecorded.image_id]
    assert [entry.path for entry in report.quarantined] == [Path(corrupt.path)]
    assert report.missing == [gone.image_id]
    assert report.temporaries_removed == [leftover]
    assert str(report).endswith("(report only)")
    assert "1 to recover" in str(report)
    assert caplog.records[-1].levelno == logging.WARNING
    assert caplog.records[-1].getMessage() == str(report)


def test_the_report_summary_counts_what_was_found():
    report = ReconcileReport(files_checked=3, rows_checked=2, recovered=["a"],
                             missing=["b", "c"])
    assert str(report) == ("images reconciled: 3 image files, 2 rows; 1 recovered, "
                           "2 missing their file")
    assert not report.clean
