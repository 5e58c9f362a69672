"""azcam file types: FITS (assembled), MEF (one extension per amp) and BIN (raw bytes),
read back with astropy, checksums verified, written atomically."""

from __future__ import annotations

import hashlib
import io
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from nocturna.azcam.detector import DetectorGeometry, Readout, Roi, Section
from nocturna.azcam.filetypes import FileType, encode, read_bin, write_image
from nocturna.core.atomic import temporary_files
from nocturna.core.errors import InvalidValueError


def make_readout(amplifiers=(2, 2), roi: Roi | None = None, bins=(1, 1), columns=64,
                 rows=48, scan=(3, 5, 2, 4), seed=0, names=None) -> Readout:
    g = DetectorGeometry.from_config({
        "name": "sim", "columns": columns, "rows": rows, "amplifiers": list(amplifiers),
        "prescan_columns": scan[0], "overscan_columns": scan[1], "prescan_rows": scan[2],
        "overscan_rows": scan[3], "bias_adu": 1000, "read_noise_e": 4.0,
        "gain_e_per_adu": 2.0, "amp_names": names})
    shape = g.layout(roi, *bins).image_shape
    image = np.random.default_rng(seed).integers(1000, 60000, shape).astype(np.uint16)
    return g.readout(image, roi=roi, col_bin=bins[0], row_bin=bins[1], image_bias_adu=1000,
                     rng=np.random.default_rng(seed + 1))


def primary_header() -> fits.Header:
    header = fits.Header()
    header["OBJECT"] = ("M51", "target")
    header["EXPTIME"] = (30.0, "[s] exposure time")
    header["NAXIS"] = 3  # layout keywords are the writer's, not the caller's
    header["BZERO"] = 5
    return header


def open_verified(data: bytes) -> fits.HDUList:
    """Open with checksum checking; any checksum or verification warning fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hdus = fits.open(io.BytesIO(data), checksum=True)
        hdus.verify("exception")
    for hdu in hdus:
        assert hdu.verify_checksum() == 1
        assert hdu.verify_datasum() == 1
    return hdus


def assert_fits_structure(data: bytes, nhdus: int) -> None:
    """fitsverify-style sanity: 2880-byte blocks, and one END card per header."""
    assert len(data) % 2880 == 0
    ends = [i for i in range(0, len(data), 80)
            if data[i : i + 80] == b"END" + b" " * 77]
    assert len(ends) >= nhdus
    assert data[:30] == b"SIMPLE  =                    T"


# --- FileType ---------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("fits", FileType.FITS), ("MEF", FileType.MEF), ("Bin", FileType.BIN), (0, FileType.FITS),
    (1, FileType.MEF), ("2", FileType.BIN), (FileType.MEF, FileType.MEF)])
def test_filetype_parses_names_and_azcam_numbers(value, expected) -> None:
    assert FileType.parse(value) is expected


@pytest.mark.parametrize("value", ["tiff", 6, "", "3", -1])
def test_unknown_filetype_is_refused_with_choices(value) -> None:
    with pytest.raises(InvalidValueError, match=r"filetype .* fits \(0\), mef \(1\), bin \(2\)"):
        FileType.parse(value)


def test_filetype_numbers_and_extensions() -> None:
    assert [int(t) for t in FileType] == [0, 1, 2]
    assert [t.extension for t in FileType] == ["fits", "fits", "bin"]


# --- MEF ----------------------------------------------------------------------------


def test_mef_has_one_extension_per_amp_with_raw_pixels(tmp_path: Path) -> None:
    readout = make_readout(names=["LL", "LR", "ul", "UR"])
    header = primary_header()
    before = header.tostring()
    written = write_image(tmp_path / "a.fits", readout, header, "mef")
    assert header.tostring() == before  # the caller's header is untouched
    data = written.path.read_bytes()
    assert_fits_structure(data, 5)
    with open_verified(data) as hdus:
        assert len(hdus) == 5
        primary = hdus[0]
        assert primary.data is None
        assert (primary.header["NEXTEND"], primary.header["NAMPS"]) == (4, 4)
        assert primary.header["DETSIZE"] == "[1:64,1:48]"
        assert primary.header["OBJECT"] == "M51" and primary.header["NAXIS"] == 0
        for n, (ext, layout, raw) in enumerate(
                zip(hdus[1:], readout.amps, readout.arrays, strict=True), start=1):
            assert ext.header["EXTNAME"] == ["LL", "LR", "ul", "UR"][n - 1]  # case kept
            assert ext.header["EXTVER"] == n
            assert (ext.header["BITPIX"], ext.header["BZERO"]) == (16, 32768)
            assert ext.data.dtype == np.uint16
            assert (ext.data == raw).all()
            for card in layout.sections.cards():
                assert ext.header[card.keyword] == card.value
        assert hdus["ul"].header["CCDSEC"] == "[1:32,48:25]"


def test_mef_of_a_partial_roi_holds_only_the_amps_read() -> None:
    readout = make_readout(roi=Roi(40, 64, 1, 20), bins=(1, 2))
    with open_verified(encode(readout, None, FileType.MEF)) as hdus:
        assert [h.header.get("EXTNAME") for h in hdus[1:]] == ["A2"]
        assert hdus[0].header["NEXTEND"] == 1
        assert hdus[1].header["CCDSUM"] == "1 2"
        assert (hdus[1].data == readout.arrays[0]).all()


# --- FITS ---------------------------------------------------------------------------


def test_fits_holds_the_assembled_image_and_every_amps_sections() -> None:
    readout = make_readout()
    data = encode(readout, primary_header(), "fits")
    assert_fits_structure(data, 1)
    assembled = readout.assembled()
    with open_verified(data) as hdus:
        assert len(hdus) == 1
        hdu = hdus[0]
        assert hdu.data.dtype == np.uint16 and (hdu.data == assembled.data).all()
        h = hdu.header
        assert (h["NAMPS"], h["DETSIZE"], h["OBJECT"]) == (4, "[1:64,1:48]", "M51")
        assert "DATASEC" not in h  # several amps: only the numbered keywords
        for n, s in enumerate(assembled.sections, start=1):
            assert h[f"AMPNAME{n}"] == s.amp.name
            datasec = Section.parse(h[f"DATASEC{n}"])
            ccdsec = Section.parse(h[f"CCDSEC{n}"])
            rows, cols = datasec.slices()
            # the data section in the tiled image is the amp's data, flipped back
            layout = readout.amps[n - 1]
            raw = readout.arrays[n - 1][layout.sections.datasec.slices()]
            flipped = raw[::-1 if s.amp.flip_y else 1, ::-1 if s.amp.flip_x else 1]
            assert (hdu.data[rows, cols] == flipped).all()
            assert ccdsec == ccdsec.ascending()
            assert h[f"DETSEC{n}"] == h[f"CCDSEC{n}"]
            assert Section.parse(h[f"BIASSEC{n}"]).ncols == 5
            assert h[f"GAIN{n}"] == 2.0 and h[f"RDNOISE{n}"] == 4.0
        assert h["AMPSEC2"] == "[32:1,1:24]"  # A2 reads right-to-left


def test_fits_of_one_amp_also_has_unsuffixed_keywords() -> None:
    readout = make_readout(amplifiers=(1, 1), roi=Roi(5, 36, 9, 40), bins=(2, 2))
    with open_verified(encode(readout, None, 0)) as hdus:
        h = hdus[0].header
        assert h["DATASEC"] == h["DATASEC1"] == "[4:19,3:18]"
        assert h["CCDSEC"] == "[5:36,9:40]"
        # DATASEC x1 (4) is the binned pixel summing CCD columns 5..6 (centre 5.5)
        assert (h["LTM1_1"], h["LTV1"]) == (0.5, 4 - 0.5 * 5.5)
        assert (h["CCDSUM"], h["GAIN"], h["AMPNAME"]) == ("2 2", 2.0, "A1")


def test_fits_refuses_more_than_nine_amps() -> None:
    readout = make_readout(amplifiers=(5, 2), columns=80, rows=48)
    with pytest.raises(InvalidValueError, match=r"at most 9 amplifiers.*10.*mef"):
        encode(readout, None, "fits")
    with open_verified(encode(readout, None, "mef")) as hdus:
        assert len(hdus) == 11


def test_checksum_detects_damage() -> None:
    data = bytearray(encode(make_readout(), None, "mef"))
    data[-2880] ^= 0x01  # the first pixel byte of the last extension (one data block)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with fits.open(io.BytesIO(bytes(data)), checksum=True) as hdus:
            assert hdus[-1].verify_datasum() == 0
    assert any("Checksum verification failed" in str(w.message) for w in caught)


# --- BIN ----------------------------------------------------------------------------


def test_bin_is_the_assembled_image_as_azcam_writes_it(tmp_path: Path) -> None:
    readout = make_readout(roi=Roi(9, 48, 5, 40), bins=(2, 4))
    written = write_image(tmp_path / "x.bin", readout, primary_header(), FileType.BIN)
    data = written.path.read_bytes()
    assembled = readout.assembled().data
    assert data == assembled.astype("<u2").tobytes()
    size_x, size_y = readout.size
    assert written.size_bytes == len(data) == 2 * size_x * size_y
    assert (read_bin(data, size_x, size_y) == assembled).all()
    assert int.from_bytes(data[:2], "little") == int(assembled[0, 0])
    with pytest.raises(InvalidValueError, match="expected"):
        read_bin(data[:-2], size_x, size_y)


# --- writing ------------------------------------------------------------------------


def test_written_file_reports_size_and_sha256(tmp_path: Path) -> None:
    written = write_image(tmp_path / "w.fits", make_readout(), None, "fits")
    data = written.path.read_bytes()
    assert written.filetype is FileType.FITS
    assert written.size_bytes == len(data)
    assert written.sha256 == hashlib.sha256(data).hexdigest()


def test_existing_file_is_refused_unless_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "img.fits"
    path.write_bytes(b"old")
    with pytest.raises(InvalidValueError, match=f"{path}.*overwrite=True"):
        write_image(path, make_readout(), None, "mef")
    assert path.read_bytes() == b"old"
    written = write_image(path, make_readout(), None, "mef", overwrite=True)
    assert path.read_bytes()[:6] == b"SIMPLE" and written.size_bytes == path.stat().st_size
    assert list(temporary_files(tmp_path)) == []


def test_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(5, "simulated I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="simulated"):
        write_image(tmp_path / "f.fits", make_readout(), None, "mef")
    assert list(tmp_path.iterdir()) == []


def test_encoding_a_4k_four_amp_mef_is_fast() -> None:
    g = DetectorGeometry.from_config({
        "columns": 4096, "rows": 4096, "amplifiers": [2, 2], "prescan_columns": 8,
        "overscan_columns": 32, "overscan_rows": 16, "bias_adu": 1000, "read_noise_e": 4.5,
        "gain_e_per_adu": 1.5})
    image = np.full((4096, 4096), 1200, dtype=np.uint16)
    readout = g.readout(image, image_bias_adu=100, rng=np.random.default_rng(0))
    start = time.perf_counter()
    data = encode(readout, primary_header(), "mef")
    elapsed = time.perf_counter() - start
    assert len(data) > 4 * 4096 * 4096 // 2
    assert elapsed < 1.5, f"MEF encoding took {elapsed:.2f} s"
