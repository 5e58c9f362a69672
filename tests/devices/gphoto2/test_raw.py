"""Raw conversion on DNGs written to the spec: the mosaic, its Bayer pattern and its
cards checked against rawpy's own reading (boundary: LibRaw reading a real file format)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import rawpy

from nocturna.core.errors import InvalidValueError
from nocturna.devices.gphoto2.dng import dng_bytes
from nocturna.devices.gphoto2.raw import bayer_pattern, read_raw


def mosaic(rows: int = 48, columns: int = 64) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 4096, (rows, columns), dtype=np.uint16)


@pytest.mark.parametrize("pattern", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_the_mosaic_and_pattern_are_what_rawpy_reads(pattern):
    pixels = mosaic()
    data = dng_bytes(pixels, pattern=pattern, white_level=4095, black_level=0)
    frame = read_raw(data, "test.dng")
    with rawpy.imread(io.BytesIO(data)) as raw:
        assert np.array_equal(frame.mosaic, raw.raw_image_visible)
        letters = "".join(raw.color_desc.decode()[i] for i in raw.raw_pattern.ravel())
        assert letters == pattern
    assert np.array_equal(frame.mosaic, pixels)
    assert frame.pattern == pattern
    assert frame.mosaic.dtype == np.uint16
    assert (frame.white_level, frame.black_level) == (4095, 0)
    cards = frame.header_cards()
    assert cards["BAYERPAT"][0] == pattern
    assert cards["XBAYROFF"][0] == 0 and cards["YBAYROFF"][0] == 0


def test_libraws_second_green_index_maps_to_g():
    assert bayer_pattern(np.array([[0, 1], [3, 2]]), b"RGBG") == "RGGB"
    assert bayer_pattern(np.array([[2, 3], [1, 0]]), b"RGBG") == "BGGR"
    with pytest.raises(InvalidValueError, match="not a Bayer pattern"):
        bayer_pattern(np.array([[0, 0], [0, 0]]), b"RGBG")


def test_a_file_libraws_cannot_read_is_a_clear_error():
    with pytest.raises(InvalidValueError, match=r"IMG_0001\.CR2: LibRaw cannot read it"):
        read_raw(b"not a raw file at all" * 100, "IMG_0001.CR2")


def test_dng_writer_refuses_what_a_raw_reader_would_not_read():
    with pytest.raises(InvalidValueError, match="2-D uint16"):
        dng_bytes(np.zeros((30, 30), dtype=np.float32))
    with pytest.raises(InvalidValueError, match="too small"):
        dng_bytes(np.zeros((8, 30), dtype=np.uint16))
    with pytest.raises(InvalidValueError, match="Bayer pattern"):
        dng_bytes(np.zeros((30, 30), dtype=np.uint16), pattern="RGBX")
