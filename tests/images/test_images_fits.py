"""FITS writing and reading: layout, round trips, checksums, atomic publication."""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import re
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.fits.verify import VerifyWarning

from nocturna.core import atomic
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.images import fits as nfits
from nocturna.images.cards import HeaderCards
from nocturna.images.fits import (
    CorruptImageError,
    encode_checksum,
    read_fits,
    verify_fits,
    write_fits,
    write_fits_async,
)
from nocturna.images.header import header_values

INTEGER_TYPES = [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32]


def _frame(dtype=np.uint16, shape=(64, 80), seed=1) -> np.ndarray:
    """Sky-like pixels (Poisson around a background) with the type's extremes."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    level = min(1000, int(info.max) // 2)
    data = rng.poisson(level, shape).clip(info.min, info.max).astype(dtype)
    data[0, 0], data[0, 1] = info.min, info.max
    return data


def _header() -> fits.Header:
    header = fits.Header()
    header["OBJECT"] = ("M31", "target name")
    header["EXPTIME"] = (30.0, "[s] exposure time")
    return header


def _raw_primary_header(path: Path) -> fits.Header:
    with path.open("rb") as handle:
        return fits.Header.fromfile(handle)


def test_uint16_is_stored_as_bitpix_16_with_bzero_32768(tmp_path):
    path = write_fits(tmp_path / "a.fits", _frame()).path
    raw = _raw_primary_header(path)
    assert (raw["BITPIX"], raw["BZERO"], raw["BSCALE"]) == (16, 32768, 1)


def test_uint16_round_trip_is_bit_exact(tmp_path):
    data = _frame()
    write_fits(tmp_path / "a.fits", data)
    read, _ = read_fits(tmp_path / "a.fits")
    assert read.dtype == np.uint16
    assert np.array_equal(read, data)


@pytest.mark.parametrize("dtype", INTEGER_TYPES, ids=lambda t: np.dtype(t).name)
def test_rice_round_trip_is_bit_exact_for_integer_data(tmp_path, dtype):
    data = _frame(dtype)
    write_fits(tmp_path / "a.fits.fz", data, compress=True)
    read, _ = read_fits(tmp_path / "a.fits.fz")
    assert read.dtype == np.dtype(dtype)
    assert np.array_equal(read, data)


@pytest.mark.parametrize("dtype", [*INTEGER_TYPES, np.int64, np.uint64, np.float32,
                                   np.float64, ">u2", ">i4", ">f8"], ids=lambda t: np.dtype(t).str)
def test_plain_round_trip_is_exact_for_every_storable_type(tmp_path, dtype):
    data = (_frame(dtype) if np.dtype(dtype).kind in "ui"
            else np.random.default_rng(2).normal(100.0, 5.0, (40, 50)).astype(dtype))
    write_fits(tmp_path / "a.fits", data)
    read, _ = read_fits(tmp_path / "a.fits")
    assert read.dtype == np.dtype(dtype).newbyteorder("=")
    assert np.array_equal(read, data)


@pytest.mark.parametrize("name, compress", [("cube.fits", False), ("cube.fits.fz", True)])
def test_three_dimensional_cube_round_trips(tmp_path, name, compress):
    cube = np.stack([_frame(seed=seed) for seed in range(3)])
    write_fits(tmp_path / name, cube, compress=compress)
    assert np.array_equal(read_fits(tmp_path / name)[0], cube)


def test_rice_file_is_a_compressed_image_extension(tmp_path):
    write_fits(tmp_path / "a.fits.fz", _frame(), compress=True)
    with fits.open(tmp_path / "a.fits.fz") as hdus:
        assert isinstance(hdus[1], fits.CompImageHDU)
    with fits.open(tmp_path / "a.fits.fz", disable_image_compression=True) as hdus:
        assert hdus[1].header["ZCMPTYPE"] == "RICE_1"


def test_rice_compresses_sky_like_data(tmp_path):
    data = _frame(shape=(512, 512))
    plain = write_fits(tmp_path / "a.fits", data)
    packed = write_fits(tmp_path / "a.fits.fz", data, compress=True)
    assert packed.size_bytes < plain.size_bytes / 1.5


@pytest.mark.parametrize("dtype", [*INTEGER_TYPES, np.int64, np.uint64, np.float32,
                                   np.float64], ids=lambda t: np.dtype(t).name)
def test_plain_file_checksums_are_valid_for_astropy_for_every_type(tmp_path, dtype):
    data = np.arange(7 * 9).reshape(7, 9).astype(dtype)  # odd size: the data is padded
    write_fits(tmp_path / "a.fits", data, _header())
    with fits.open(tmp_path / "a.fits") as hdus:
        assert (hdus[0].verify_checksum(), hdus[0].verify_datasum()) == (1, 1)
        assert np.array_equal(hdus[0].data, data)


def test_checksum_text_encoding_matches_astropy():
    reference = fits.PrimaryHDU()
    values = [0, 1, 0xFFFFFFFF, 0x3A3A3A3A, 0x5F5F5F5F, 0x7FFFFFFF, 0x80000000]
    values += [int(v) for v in np.random.default_rng(4).integers(0, 1 << 32, 2000)]
    for value in values:
        assert encode_checksum(value) == reference._char_encode(value), hex(value)


def test_checksum_comments_carry_the_nocturna_clock_time(tmp_path):
    with use_clock(SimClock("2030-01-02T03:04:05Z", speed=0)):
        written = write_fits(tmp_path / "a.fits", _frame())
    assert written.header.comments["CHECKSUM"].endswith("2030-01-02T03:04:05")


def test_file_checksummed_by_astropy_is_verified(tmp_path):
    path = tmp_path / "other.fits"
    fits.PrimaryHDU(_frame(), _header()).writeto(path, checksum=True)
    verify_fits(path, require_checksum=True)


def test_image_in_an_extension_is_read(tmp_path):
    path = tmp_path / "ext.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(_frame())]).writeto(path, checksum=True)
    assert np.array_equal(read_fits(path)[0], _frame())


def test_scaled_file_from_elsewhere_is_read_through_astropy(tmp_path):
    path = tmp_path / "scaled.fits"
    hdu = fits.PrimaryHDU(np.arange(12, dtype=np.int16).reshape(3, 4))
    hdu.header["BSCALE"], hdu.header["BZERO"] = 2.0, 10.0
    hdu.writeto(path)
    data, _ = read_fits(path)
    assert np.array_equal(data, np.arange(12).reshape(3, 4) * 2.0 + 10.0)


def test_read_data_is_a_writable_array_of_its_own(tmp_path):
    write_fits(tmp_path / "a.fits", _frame(np.int16))
    data, _ = read_fits(tmp_path / "a.fits")
    data[0, 0] = 7
    assert data.flags.writeable and data.flags.owndata


@pytest.mark.parametrize("name, compress", [("a.fits", False), ("a.fits.fz", True)])
def test_every_hdu_carries_valid_checksum_and_datasum(tmp_path, name, compress):
    write_fits(tmp_path / name, _frame(), _header(), compress=compress)
    with fits.open(tmp_path / name, disable_image_compression=True) as hdus:
        assert len(hdus) == (2 if compress else 1)
        for hdu in hdus:
            assert "CHECKSUM" in hdu.header and "DATASUM" in hdu.header
            assert (hdu.verify_checksum(), hdu.verify_datasum()) == (1, 1)


@pytest.mark.parametrize("name, compress", [("a.fits", False), ("a.fits.fz", True)])
def test_flipped_byte_in_the_data_is_reported_naming_the_file(tmp_path, name, compress):
    path = write_fits(tmp_path / name, _frame(), compress=compress).path
    raw = bytearray(path.read_bytes())
    raw[-2880 - 100] ^= 0x01  # inside the last data block, before its padding
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptImageError, match=re.escape(str(path))):
        read_fits(path)


def test_changed_header_value_is_reported(tmp_path):
    path = write_fits(tmp_path / "a.fits", _frame(), _header()).path
    path.write_bytes(path.read_bytes().replace(b"'M31     '", b"'M32     '"))
    with pytest.raises(CorruptImageError, match="CHECKSUM"):
        read_fits(path)


def test_truncated_file_is_reported(tmp_path):
    path = write_fits(tmp_path / "a.fits", _frame(shape=(200, 200))).path
    path.write_bytes(path.read_bytes()[: 2880 * 5])
    with pytest.raises(CorruptImageError, match=re.escape(str(path))):
        read_fits(path)


def test_corrupt_image_error_is_a_storage_error():
    assert issubclass(CorruptImageError, StorageError)


def test_missing_file_raises_storage_error_naming_it(tmp_path):
    with pytest.raises(StorageError, match=r"nope\.fits"):
        read_fits(tmp_path / "nope.fits")


def test_file_without_checksums_is_read_unless_they_are_required(tmp_path):
    path = tmp_path / "other.fits"
    fits.PrimaryHDU(_frame()).writeto(path)  # another program: no CHECKSUM cards
    assert np.array_equal(read_fits(path)[0], _frame())
    with pytest.raises(CorruptImageError, match="no CHECKSUM"):
        verify_fits(path, require_checksum=True)


def test_existing_file_is_refused_without_overwrite_and_left_unchanged(tmp_path):
    path = tmp_path / "a.fits"
    path.write_bytes(b"precious")
    with pytest.raises(InvalidValueError, match=re.escape(str(path))):
        write_fits(path, _frame())
    assert path.read_bytes() == b"precious"
    assert list(tmp_path.iterdir()) == [path]


def test_overwrite_replaces_the_existing_file(tmp_path):
    path = tmp_path / "a.fits"
    path.write_bytes(b"old")
    write_fits(path, _frame(), overwrite=True)
    assert np.array_equal(read_fits(path)[0], _frame())


def test_written_image_reports_path_size_and_sha256_of_the_file(tmp_path):
    written = write_fits(tmp_path / "a.fits.fz", _frame(), compress=True)
    content = (tmp_path / "a.fits.fz").read_bytes()
    assert written.path == tmp_path / "a.fits.fz"
    assert written.size_bytes == len(content)
    assert written.checksum == hashlib.sha256(content).hexdigest()
    assert written.compressed


def test_written_image_header_holds_the_cards_and_checksums(tmp_path):
    written = write_fits(tmp_path / "a.fits", _frame(), _header())
    assert written.header["OBJECT"] == "M31"
    assert "CHECKSUM" in written.header


@pytest.mark.parametrize("name, compress", [("a.fits", False), ("a.fits.fz", True)])
def test_header_cards_and_comments_are_read_back(tmp_path, name, compress):
    write_fits(tmp_path / name, _frame(), _header(), compress=compress)
    _, header = read_fits(tmp_path / name)
    assert header["OBJECT"] == "M31"
    assert header.comments["EXPTIME"] == "[s] exposure time"


def test_a_header_read_from_a_file_can_be_written_again(tmp_path):
    write_fits(tmp_path / "a.fits.fz", _frame(), _header(), compress=True)
    data, header = read_fits(tmp_path / "a.fits.fz")
    write_fits(tmp_path / "b.fits", data.astype(np.int32), header)
    again, again_header = read_fits(tmp_path / "b.fits")
    assert np.array_equal(again, _frame().astype(np.int32))
    assert again_header["BITPIX"] == 32 and "BZERO" not in again_header


def test_caller_data_and_header_are_not_modified(tmp_path):
    data, header = _frame(), _header()
    before_data, before_header = data.copy(), header.tostring()
    write_fits(tmp_path / "a.fits.fz", data, header, compress=True)
    assert np.array_equal(data, before_data)
    assert header.tostring() == before_header


def test_compression_needs_an_fz_name(tmp_path):
    with pytest.raises(InvalidValueError, match=r"\.fz"):
        write_fits(tmp_path / "a.fits", _frame(), compress=True)


def test_an_fz_name_needs_compression(tmp_path):
    with pytest.raises(InvalidValueError, match=r"\.fz"):
        write_fits(tmp_path / "a.fits.fz", _frame())


def test_float_data_is_not_rice_compressed(tmp_path):
    with pytest.raises(InvalidValueError, match="lossless only for integers"):
        write_fits(tmp_path / "a.fits.fz", np.ones((8, 8), np.float32), compress=True)


def test_data_that_fits_cannot_hold_is_refused(tmp_path):
    with pytest.raises(InvalidValueError, match="bool"):
        write_fits(tmp_path / "a.fits", np.ones((8, 8), bool))


def test_no_temporary_file_remains_after_a_write(tmp_path):
    write_fits(tmp_path / "a.fits", _frame())
    assert [p.name for p in tmp_path.iterdir()] == ["a.fits"]


def test_failed_write_leaves_neither_file_nor_temporary(tmp_path, monkeypatch):
    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(StorageError, match="No space left"):
        write_fits(tmp_path / "a.fits", _frame())
    assert list(tmp_path.iterdir()) == []


def test_new_file_permissions_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        write_fits(tmp_path / "a.fits", _frame())
    finally:
        os.umask(previous)
    assert (tmp_path / "a.fits").stat().st_mode & 0o777 == 0o644


async def test_write_fits_async_writes_in_a_worker_thread(tmp_path, monkeypatch):
    threads: list[int] = []
    real_write = nfits.write_fits

    def recording_write(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_write(*args, **kwargs)

    monkeypatch.setattr(nfits, "write_fits", recording_write)
    written = await write_fits_async(tmp_path / "a.fits.fz", _frame(), compress=True)
    assert threads and threads[0] != threading.get_ident()
    assert np.array_equal(read_fits(written.path)[0], _frame())


async def test_event_loop_keeps_running_during_async_write(tmp_path, monkeypatch):
    started, release = threading.Event(), threading.Event()
    real_write = nfits.write_fits

    def gated_write(*args, **kwargs):
        started.set()
        release.wait(30)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(nfits, "write_fits", gated_write)
    task = asyncio.create_task(write_fits_async(tmp_path / "a.fits", _frame()))
    await asyncio.to_thread(started.wait, 30)
    ticks = 0
    for _ in range(3):  # the loop still runs other work while the write is held
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 3 and not task.done()
    release.set()
    assert (await task).path.exists()


def _exposure_cards() -> HeaderCards:
    """The cards of a realistic frame header: every section, a WCS, a long string."""
    from nocturna.images import header as h

    mount = h.MountInfo(telescope="Sim 0.25 m", focal_length_mm=1000.0, target_ra_deg=10.6847,
                        target_dec_deg=41.269, ra_deg=10.69, dec_deg=41.27, hour_angle_h=-1.25,
                        altitude_deg=61.5, azimuth_deg=40.0, airmass=1.1380123456789012,
                        pier_side="west")
    camera = h.CameraInfo(name="SimCam", binning_x=2, gain=100, offset=50, ccd_temp_c=-10.2,
                          pixel_size_x_um=3.76, readout_mode="High", electrons_per_adu=0.25)
    return h.header_cards(
        h.ExposureInfo(start="2026-12-15T04:00:00.123456Z", exposure_s=30.0),
        h.SiteInfo(name="Demo", latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400),
        camera, mount, h.FilterInfo("R"), h.ObservationInfo(object_name="M31", observer="Ada"),
        h.SequenceInfo(exposure_id=2026121400001, group_id="g", day_obs=20261214,
                       sequence_number=1, note="it's a note: " + "x" * 50),
        h.pointing_wcs(mount, camera, width=600, height=400, rotation_deg=12.0),
        extra={"NAXIS": (3, "a layout keyword: the writer's wins"), "FLAG": (True, "a bool")})


@pytest.mark.parametrize("dtype", [*INTEGER_TYPES, np.int64, np.uint64, np.float32,
                                   np.float64], ids=lambda t: np.dtype(t).name)
@pytest.mark.parametrize("shape", [(7, 9), (64, 80), (2, 5, 3)], ids=str)
def test_header_cards_write_the_same_file_as_an_astropy_header(tmp_path, dtype, shape):
    data = np.arange(math.prod(shape)).reshape(shape).astype(dtype)
    with use_clock(SimClock("2030-01-02T03:04:05Z", speed=0)), warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)  # NOTE's comment is cut, both ways
        cards = _exposure_cards()
        by_astropy = write_fits(tmp_path / "astropy.fits", data, cards.to_fits(),
                                check_header=False)  # as the frame pipeline wrote them
        by_cards = write_fits(tmp_path / "cards.fits", data, cards)
    assert (tmp_path / "cards.fits").read_bytes() == (tmp_path / "astropy.fits").read_bytes()
    assert isinstance(by_cards.header, HeaderCards)
    assert by_cards.header.values() == header_values(by_astropy.header)
    assert by_cards.checksum == by_astropy.checksum
    pixels, header = read_fits(tmp_path / "cards.fits", require_checksum=True)
    assert np.array_equal(pixels, data)
    assert header_values(header) == by_cards.header.values()  # what the row stores


def test_header_cards_are_written_compressed_through_astropy(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerifyWarning)
        cards = _exposure_cards()
        cards["NOTE"] = "short"
    written = write_fits(tmp_path / "a.fits.fz", _frame(), cards, compress=True)
    _, header = read_fits(tmp_path / "a.fits.fz")
    assert isinstance(written.header, fits.Header)
    assert header["OBJECT"] == "M31" and header["NOTE"] == cards["NOTE"]
