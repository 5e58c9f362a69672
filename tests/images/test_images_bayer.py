"""Bayer mosaics: the pattern a header gives at pixel (0, 0), colour superpixels, and
colour previews of a colour camera's frame."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from nocturna.core.errors import InvalidValueError
from nocturna.images.bayer import pattern_at, shifted_pattern, superpixels
from nocturna.images.preview import preview_bytes


def test_the_pattern_moves_with_the_offsets():
    assert shifted_pattern("RGGB", 0, 0) == "RGGB"
    assert shifted_pattern("RGGB", 1, 0) == "GRBG"
    assert shifted_pattern("RGGB", 0, 1) == "GBRG"
    assert shifted_pattern("RGGB", 1, 1) == "BGGR"
    assert shifted_pattern("BGGR", 3, 2) == "GBRG"
    assert pattern_at({"BAYERPAT": "RGGB", "XBAYROFF": 1, "YBAYROFF": 0}) == "GRBG"
    assert pattern_at({"BAYERPAT": "rggb"}) == "RGGB"
    assert pattern_at({"BAYERPAT": "CMYG"}) is None and pattern_at({}) is None


@pytest.mark.parametrize("pattern", ["RGGB", "BGGR", "GRBG", "GBRG"])
def test_superpixels_take_each_colour_from_its_place(pattern):
    values = {"R": 100.0, "G": 50.0, "B": 10.0}
    mosaic = np.empty((6, 8), dtype=np.uint16)
    for index, letter in enumerate(pattern):
        mosaic[index // 2::2, index % 2::2] = values[letter]
    mosaic[pattern.index("G") // 2::2, pattern.index("G") % 2::2] = 40  # one green of two
    rgb = superpixels(mosaic, pattern)
    assert rgb.shape == (3, 4, 3)
    assert np.all(rgb[..., 0] == 100) and np.all(rgb[..., 2] == 10)
    assert np.all(rgb[..., 1] == 45)  # the mean of the two greens
    with pytest.raises(InvalidValueError, match="CMYG"):
        superpixels(mosaic, "CMYG")


def test_a_mosaic_preview_is_in_colour_and_a_mono_one_is_grey():
    rng = np.random.default_rng(2)
    mosaic = rng.normal(1000, 20, (64, 96)).astype(np.float32)
    mosaic[0::2, 0::2] += 500  # the red pixels of an RGGB sensor see a red source
    colour = Image.open(io.BytesIO(preview_bytes(mosaic, bayer="RGGB")))
    grey = Image.open(io.BytesIO(preview_bytes(mosaic)))
    assert colour.mode == "RGB" and colour.size == (48, 32)
    assert grey.mode == "L" and grey.size == (96, 64)
