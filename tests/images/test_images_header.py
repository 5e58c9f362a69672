"""Building the FITS header of an exposure from typed sections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_scales

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.errors import InvalidValueError
from nocturna.images.fits import read_fits, write_fits
from nocturna.images.header import (
    CameraInfo,
    Card,
    ExposureInfo,
    FilterInfo,
    FocuserInfo,
    MountInfo,
    ObservationInfo,
    SiteInfo,
    build_header,
    header_values,
    pointing_wcs,
    sexagesimal,
)
from nocturna.images.wcs import frame_wcs, tan_wcs, wcs_cards

START = datetime(2026, 12, 15, 4, 0, 0, 123456, tzinfo=UTC)


def _exposure(**changes) -> ExposureInfo:
    return ExposureInfo(**{"start": START, "exposure_s": 30.0, **changes})


def _camera(**changes) -> CameraInfo:
    return CameraInfo(**{"name": "SimCam", "binning_x": 2, "gain": 100, "offset": 50,
                         "ccd_temp_c": -10.2, "set_temp_c": -10.0, "pixel_size_x_um": 3.76,
                         "readout_mode": "High", "electrons_per_adu": 0.25, **changes})


def _mount(**changes) -> MountInfo:
    return MountInfo(**{"telescope": "Sim 0.25 m", "focal_length_mm": 1000.0,
                        "target_ra_deg": 10.6847, "target_dec_deg": 41.2690,
                        "ra_deg": 10.69, "dec_deg": 41.27, "hour_angle_h": -1.25,
                        "altitude_deg": 61.5, "azimuth_deg": 40.0, "airmass": 1.138,
                        "pier_side": "west", **changes})


def _full_header():
    mount, camera = _mount(), _camera()
    return build_header(
        _exposure(image_type="light"),
        SiteInfo(name="Demo", latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400),
        camera, mount, FilterInfo("R"), FocuserInfo(position=12000, temperature_c=4.5),
        ObservationInfo(object_name="M31", field="M31-A", sequence_id="seq1",
                        image_id="img1", observer="Ada", program="survey"),
        pointing_wcs(mount, camera, width=600, height=400, rotation_deg=0.0),
    )


def test_exposure_cards_give_start_end_mjd_and_exposure_time():
    header = build_header(_exposure())
    assert header["DATE-OBS"] == "2026-12-15T04:00:00.123"
    assert header["DATE-END"] == "2026-12-15T04:00:30.123"
    assert header["MJD-OBS"] == pytest.approx(Time(START).mjd, abs=1e-9)
    assert (header["EXPTIME"], header["IMAGETYP"], header["TIMESYS"]) == (30.0, "LIGHT", "UTC")


def test_explicit_end_is_used_for_date_end():
    header = build_header(_exposure(end="2026-12-15T04:00:31.5Z"))
    assert header["DATE-END"] == "2026-12-15T04:00:31.500"


def test_date_card_is_read_from_the_nocturna_clock():
    with use_clock(SimClock("2030-01-02T03:04:05Z", speed=0)):
        header = build_header(_exposure())
    assert header["DATE"] == "2030-01-02T03:04:05.000"


def test_negative_exposure_is_refused_naming_the_field():
    with pytest.raises(InvalidValueError, match=r"ExposureInfo\.exposure_s"):
        _exposure(exposure_s=-1.0)


def test_end_before_start_is_refused():
    with pytest.raises(InvalidValueError, match=r"ExposureInfo\.end"):
        _exposure(end=datetime(2026, 12, 15, 3, 0, tzinfo=UTC))


def test_unknown_image_type_is_refused_naming_the_field():
    with pytest.raises(InvalidValueError, match=r"ExposureInfo\.image_type"):
        _exposure(image_type="SELFIE")


def test_image_type_is_upper_cased():
    assert build_header(_exposure(image_type="flat"))["IMAGETYP"] == "FLAT"


def test_quantities_are_converted_to_the_documented_units():
    exposure = _exposure(exposure_s=2 * u.min)
    camera = _camera(ccd_temp_c=263.15 * u.K, pixel_size_x_um=0.00376 * u.mm)
    assert exposure.exposure_s == pytest.approx(120.0)
    assert camera.ccd_temp_c == pytest.approx(-10.0)
    assert camera.pixel_size_x_um == pytest.approx(3.76)


def test_quantity_of_the_wrong_kind_is_refused_naming_the_field():
    with pytest.raises(InvalidValueError, match=r"SiteInfo\.elevation_m"):
        SiteInfo(elevation_m=3 * u.s)


def test_latitude_out_of_range_is_refused_naming_the_field():
    with pytest.raises(InvalidValueError, match=r"SiteInfo\.latitude_deg"):
        SiteInfo(latitude_deg=91.0)


def test_non_finite_number_is_refused():
    with pytest.raises(InvalidValueError, match=r"MountInfo\.airmass"):
        MountInfo(airmass=float("nan"))


def test_zero_binning_is_refused():
    with pytest.raises(InvalidValueError, match=r"CameraInfo\.binning_x"):
        CameraInfo(binning_x=0)


def test_non_ascii_text_is_refused():
    with pytest.raises(InvalidValueError, match=r"ObservationInfo\.observer"):
        ObservationInfo(observer="Zoë")


def test_ra_without_dec_is_refused():
    with pytest.raises(InvalidValueError, match=r"MountInfo\.ra_deg"):
        MountInfo(ra_deg=10.0)


def test_site_cards():
    header = build_header(_exposure(), SiteInfo(name="Demo", latitude_deg=19.54,
                                                longitude_deg=204.42, elevation_m=3400))
    assert (header["OBSERVAT"], header["SITELAT"], header["SITEELEV"]) == ("Demo", 19.54, 3400)
    assert header["SITELONG"] == pytest.approx(-155.58)  # east-positive, -180..180


def test_camera_cards_with_binned_pixel_size():
    header = build_header(_exposure(), _camera())
    assert (header["XBINNING"], header["YBINNING"]) == (2, 2)
    assert header["XPIXSZ"] == header["YPIXSZ"] == pytest.approx(7.52)
    assert (header["INSTRUME"], header["GAIN"], header["OFFSET"]) == ("SimCam", 100, 50)
    assert (header["CCD-TEMP"], header["SET-TEMP"]) == (-10.2, -10.0)
    assert (header["READMODE"], header["EGAIN"]) == ("High", 0.25)


def test_mount_cards_give_commanded_sexagesimal_and_actual_degrees():
    header = build_header(_exposure(), _mount())
    assert (header["OBJCTRA"], header["OBJCTDEC"]) == ("00 42 44.328", "+41 16 08.40")
    assert (header["RA"], header["DEC"]) == (10.69, 41.27)
    assert (header["HA"], header["OBJCTALT"], header["OBJCTAZ"]) == (-1.25, 61.5, 40.0)
    assert (header["AIRMASS"], header["PIERSIDE"]) == (1.138, "WEST")
    assert (header["TELESCOP"], header["FOCALLEN"]) == ("Sim 0.25 m", 1000.0)


def test_filter_focuser_and_observation_cards():
    header = _full_header()
    assert (header["FILTER"], header["FOCPOS"], header["FOCTEMP"]) == ("R", 12000, 4.5)
    assert (header["OBJECT"], header["FIELD"], header["SEQID"], header["IMAGEID"]) == (
        "M31", "M31-A", "seq1", "img1")
    assert (header["OBSERVER"], header["PROGRAM"]) == ("Ada", "survey")


def test_unset_fields_write_no_card():
    header = build_header(_exposure(), SiteInfo(name="Demo"), MountInfo())
    assert "SITELAT" not in header and "OBJCTRA" not in header and "AIRMASS" not in header


def test_every_card_has_a_comment():
    header = _full_header()
    assert len(header) > 50
    assert [card.keyword for card in header.cards if not card.comment.strip()] == []


def test_angle_and_temperature_comments_carry_their_units():
    header = _full_header()
    for keyword, unit in (("SITELAT", "[deg]"), ("EXPTIME", "[s]"), ("CCD-TEMP", "[degC]"),
                          ("XPIXSZ", "[um]"), ("FOCALLEN", "[mm]"), ("HA", "[h]")):
        assert header.comments[keyword].startswith(unit), keyword


def test_pointing_wcs_is_centred_on_the_mount_position_at_the_plate_scale():
    wcs = WCS(_full_header())
    ra, dec = wcs.pixel_to_world_values(299.5, 199.5)  # centre of a 600 × 400 image
    assert (float(ra), float(dec)) == pytest.approx((10.69, 41.27), abs=1e-9)
    expected = 206.264806 * 7.52 / 1000.0 / 3600.0  # binned pixel, 1000 mm focal length
    assert proj_plane_pixel_scales(wcs) == pytest.approx([expected, expected], rel=1e-9)


def test_pointing_wcs_without_focal_length_is_refused():
    with pytest.raises(InvalidValueError, match="focal_length_mm"):
        pointing_wcs(_mount(focal_length_mm=None), _camera(), width=10, height=10)


def test_extra_cards_are_added_after_the_sections():
    header = build_header(_exposure(), extra={"groupid": ("g-7", "group id"),
                                              "SNAPS": (np.int64(2), "snaps")})
    assert list(header.keys())[-2:] == ["GROUPID", "SNAPS"]
    assert (header["GROUPID"], header["SNAPS"]) == ("g-7", 2)


def test_extra_card_without_comment_is_refused():
    with pytest.raises(InvalidValueError, match="NOTE"):
        build_header(_exposure(), extra={"NOTE": "hello"})  # type: ignore[dict-item]


def test_extra_card_with_bad_keyword_is_refused():
    with pytest.raises(InvalidValueError, match="TOOLONGKEY"):
        build_header(_exposure(), extra={"TOOLONGKEY": (1, "x")})


def test_any_object_with_cards_is_a_section():
    @dataclass(frozen=True)
    class Rotator:
        angle_deg: float

        def cards(self) -> list[Card]:
            return [Card("ROTANG", self.angle_deg, "[deg] rotator angle")]

    header = build_header(_exposure(), Rotator(12.5), None)
    assert header["ROTANG"] == 12.5


def test_later_value_for_a_keyword_wins():
    header = build_header(_exposure(), ObservationInfo(object_name="M31"),
                          extra={"OBJECT": ("M32", "target name")})
    assert header["OBJECT"] == "M32"
    assert list(header.keys()).count("OBJECT") == 1


@pytest.mark.parametrize("value, hours, text", [
    (359.9999999, True, "00 00 00.000"),
    (89.99999999, False, "+90 00 00.00"),
    (-0.5, False, "-00 30 00.00"),
    (180.0, True, "12 00 00.000"),
])
def test_sexagesimal_rounds_with_carry(value, hours, text):
    assert sexagesimal(value, hours=hours) == text


def test_built_header_round_trips_through_a_fits_file(tmp_path):
    header = _full_header()
    write_fits(tmp_path / "a.fits", np.zeros((400, 600), np.uint16), header)
    _, read = read_fits(tmp_path / "a.fits")
    for keyword in ("DATE-OBS", "OBJCTRA", "FILTER", "CRVAL1", "PC1_1", "IMAGEID"):
        assert read[keyword] == header[keyword]


def test_header_values_give_a_plain_mapping_for_storage():
    values = header_values(_full_header())
    assert values["OBJECT"] == "M31" and values["EXPTIME"] == 30.0
    assert all(isinstance(v, str | int | float | bool) for v in values.values())


def _astropy_wcs_cards(wcs: WCS) -> list[tuple]:
    return [(card.keyword, card.value, card.comment) for card in wcs.to_header().cards]


def test_wcs_cards_are_what_astropy_writes_for_any_pointing():
    rng = np.random.default_rng(5)
    for _ in range(100):
        _, wcs = frame_wcs(rng.uniform(0, 360), rng.uniform(-90, 90),
                           scale_arcsec=rng.uniform(0.1, 60), width=int(rng.integers(8, 9000)),
                           height=int(rng.integers(8, 9000)), binning=int(rng.integers(1, 4)),
                           start_x=int(rng.integers(0, 4)), rotation_deg=rng.uniform(-180, 180))
        cards = wcs_cards(wcs)
        assert cards == _astropy_wcs_cards(wcs)
        assert [type(value) for _, value, _ in cards] == \
            [type(value) for _, value, _ in _astropy_wcs_cards(wcs)]


def test_wcs_cards_with_times_and_distortion_are_astropys():
    timed = tan_wcs(10.0, 20.0, scale_arcsec=1.0, width=100, height=100)
    timed.wcs.dateobs = "2026-12-15T04:00:00"
    sip = WCS({"CTYPE1": "RA---TAN-SIP", "CTYPE2": "DEC--TAN-SIP", "CRVAL1": 10.0,
               "CRVAL2": 20.0, "CRPIX1": 50.0, "CRPIX2": 50.0, "CD1_1": -1e-4, "CD2_2": 1e-4,
               "A_ORDER": 2, "B_ORDER": 2, "A_2_0": 1e-6, "B_0_2": 2e-6})
    assert wcs_cards(timed) == _astropy_wcs_cards(timed)
    assert ("DATE-OBS", "2026-12-15T04:00:00") in [card[:2] for card in wcs_cards(timed)]
    with pytest.warns(AstropyWarning, match="non-standard WCS keywords were excluded"):
        cards = wcs_cards(sip)  # astropy's own: it leaves SIP out and says so
    with pytest.warns(AstropyWarning):
        assert cards == _astropy_wcs_cards(sip)
