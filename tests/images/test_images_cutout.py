"""Cutouts around a pixel or a sky position, at and beyond the image edges."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from nocturna.core.errors import InvalidValueError
from nocturna.images.cutout import cutout, cutout_sky
from nocturna.images.wcs import tan_wcs

HEIGHT, WIDTH = 80, 100


def _image(dtype=np.uint16) -> np.ndarray:
    return np.arange(HEIGHT * WIDTH).reshape(HEIGHT, WIDTH).astype(dtype)


def _wcs():
    return tan_wcs(150.0, 30.0, scale_arcsec=1.5, width=WIDTH, height=HEIGHT, rotation_deg=25.0)


def test_cutout_is_centred_on_the_pixel():
    cut = cutout(_image(), (40, 30), 11)
    assert cut.data.shape == (11, 11)
    assert cut.data[5, 5] == _image()[30, 40]
    assert not cut.partial


def test_rectangular_size_is_rows_then_columns():
    assert cutout(_image(), (40, 30), (5, 9)).data.shape == (5, 9)


def test_cutout_is_a_copy():
    image = _image()
    cut = cutout(image, (40, 30), 5)
    cut.data[...] = 0
    assert image[30, 40] == 30 * WIDTH + 40


def test_partial_integer_cutout_is_zero_filled_and_masked():
    cut = cutout(_image(), (1, 2), 9)
    assert cut.data.shape == (9, 9) and cut.partial
    assert cut.mask[:2, :].all() and cut.mask[:, :3].all()  # 2 rows, 3 columns outside
    assert not cut.mask[2:, 3:].any()
    assert np.all(cut.data[cut.mask] == 0)
    assert cut.data[4, 4] == _image()[2, 1]


def test_partial_float_cutout_is_nan_filled():
    cut = cutout(_image(np.float32), (WIDTH - 1, HEIGHT - 1), 5)
    assert np.isnan(cut.data[cut.mask]).all() and np.isfinite(cut.data[~cut.mask]).all()


def test_fill_value_can_be_chosen():
    cut = cutout(_image(), (0, 0), 5, fill_value=65535)
    assert np.all(cut.data[cut.mask] == 65535)


def test_nan_fill_for_integer_image_is_refused():
    with pytest.raises(InvalidValueError, match="fill_value"):
        cutout(_image(), (0, 0), 5, fill_value=float("nan"))


def test_cutout_wcs_maps_to_the_same_sky_as_the_original():
    wcs = _wcs()
    cut = cutout(_image(), (40, 30), 11, wcs=wcs)
    assert np.allclose(cut.wcs.pixel_to_world_values(5, 5), wcs.pixel_to_world_values(40, 30),
                       rtol=0, atol=1e-10)


def test_partial_cutout_wcs_maps_to_the_same_sky_as_the_original():
    wcs = _wcs()
    cut = cutout(_image(), (1, 2), 9, wcs=wcs)
    ox, oy = cut.to_original(0, 0)
    assert (ox, oy) == (-3, -2)
    assert np.allclose(cut.wcs.pixel_to_world_values(0, 0), wcs.pixel_to_world_values(ox, oy),
                       rtol=0, atol=1e-10)


def test_cutout_around_ra_dec_is_centred_on_it():
    wcs = _wcs()
    ra, dec = (float(v) for v in wcs.pixel_to_world_values(60, 25))
    cut = cutout_sky(_image(), wcs, ra, dec, 7)
    assert cut.data[3, 3] == _image()[25, 60]
    assert cut.position_original == pytest.approx((60, 25))


def test_cutout_around_a_skycoord_with_an_angular_size():
    wcs = _wcs()
    ra, dec = (float(v) for v in wcs.pixel_to_world_values(50, 40))
    cut = cutout(_image(), SkyCoord(ra * u.deg, dec * u.deg), 15 * u.arcsec, wcs=wcs)
    assert cut.data.shape == (10, 10)  # 15" at 1.5"/px
    assert np.allclose(cut.wcs.world_to_pixel_values(ra, dec), cut.position_cutout)


def test_sky_position_without_wcs_is_refused():
    with pytest.raises(InvalidValueError, match="WCS"):
        cutout(_image(), SkyCoord(150 * u.deg, 30 * u.deg), 5)


def test_box_outside_the_image_is_refused():
    with pytest.raises(InvalidValueError, match="does not overlap"):
        cutout(_image(), (500, 500), 5)


def test_bad_size_is_refused():
    with pytest.raises(InvalidValueError, match="size"):
        cutout(_image(), (10, 10), 0)
