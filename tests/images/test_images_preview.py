"""JPEG/PNG previews: stretch, downscale, orientation, odd images, atomic writing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from nocturna.core.errors import InvalidValueError
from nocturna.images.preview import preview_bytes, stretch, write_preview


def _sky(shape=(300, 400), seed=0) -> np.ndarray:
    """Poisson sky with a few bright square 'stars'."""
    image = np.random.default_rng(seed).poisson(1000, shape).astype(np.uint16)
    for y, x in ((50, 60), (150, 200), (250, 330)):
        image[y - 2 : y + 3, x - 2 : x + 3] = 40000
    return image


def _decoded(encoded: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(encoded))
    image.load()
    return image


def test_jpeg_preview_is_a_jpeg_no_larger_than_max_size(tmp_path):
    path = write_preview(tmp_path / "p.jpg", _sky(), max_size=128)
    image = _decoded(path.read_bytes())
    assert image.format == "JPEG"
    assert max(image.size) == 128


def test_downscale_keeps_the_aspect_ratio():
    image = _decoded(preview_bytes(_sky((300, 400)), format="PNG", max_size=100))
    assert image.size == (100, 75)


def test_png_preview_of_a_small_image_keeps_its_size(tmp_path):
    image = _decoded(write_preview(tmp_path / "p.png", _sky((30, 40))).read_bytes())
    assert (image.format, image.size, image.mode) == ("PNG", (40, 30), "L")


def test_asinh_stretch_puts_the_sky_near_a_quarter_and_stars_at_white():
    stretched = stretch(_sky())
    assert 50 <= np.median(stretched) <= 80
    assert stretched[150, 200] == 255


def test_zscale_stretch_puts_the_sky_mid_range():
    stretched = stretch(_sky(), method="zscale")
    assert 100 <= np.median(stretched) <= 155
    assert stretched[150, 200] == 255


def test_preview_shows_row_zero_at_the_bottom():
    data = np.zeros((20, 20), dtype=np.float32)
    data[:5] = 1000.0  # first rows bright
    pixels = np.asarray(_decoded(preview_bytes(data, format="PNG")))
    assert pixels[-1].mean() > pixels[0].mean()


def test_constant_image_gives_uniform_grey():
    pixels = np.asarray(_decoded(preview_bytes(np.full((40, 50), 7, np.uint16), format="PNG")))
    assert np.all(pixels == 128)


def test_nan_pixels_become_black():
    data = _sky().astype(np.float32)
    data[:10, :10] = np.nan
    stretched = stretch(data)
    assert np.all(stretched[:10, :10] == 0)


def test_all_nan_image_gives_a_black_preview():
    pixels = np.asarray(_decoded(preview_bytes(np.full((20, 30), np.nan), format="PNG")))
    assert np.all(pixels == 0)


def test_existing_preview_is_refused_without_overwrite(tmp_path):
    (tmp_path / "p.jpg").write_bytes(b"old")
    with pytest.raises(InvalidValueError, match=r"p\.jpg"):
        write_preview(tmp_path / "p.jpg", _sky())
    assert (tmp_path / "p.jpg").read_bytes() == b"old"


def test_overwrite_replaces_a_preview_leaving_no_temporary(tmp_path):
    (tmp_path / "p.png").write_bytes(b"old")
    write_preview(tmp_path / "p.png", _sky(), overwrite=True)
    assert _decoded((tmp_path / "p.png").read_bytes()).format == "PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["p.png"]


def test_unknown_preview_suffix_is_refused(tmp_path):
    with pytest.raises(InvalidValueError, match=r"\.jpg"):
        write_preview(tmp_path / "p.gif", _sky())


def test_colour_cube_is_refused():
    with pytest.raises(InvalidValueError, match="2-D"):
        preview_bytes(np.zeros((3, 10, 10)))
