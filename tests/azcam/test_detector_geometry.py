"""Detector geometry: config checking, amplifier layouts, ROI/binning sections, the
header transforms (checked against the pixels themselves), and simulated readouts."""

from __future__ import annotations

import numpy as np
import pytest

from nocturna.azcam.detector import (
    AmpSections,
    DetectorGeometry,
    Readout,
    Roi,
    Section,
)
from nocturna.core.errors import ConfigError, InvalidOperationError, InvalidValueError


def geometry(**overrides) -> DetectorGeometry:
    config = {"name": "sim", "columns": 64, "rows": 48, "amplifiers": [2, 2],
              "prescan_columns": 3, "overscan_columns": 5, "prescan_rows": 2,
              "overscan_rows": 4, "bias_adu": 0, "read_noise_e": 0.0, "gain_e_per_adu": 1.0}
    config.update(overrides)
    return DetectorGeometry.from_config(config)


def index_image(shape: tuple[int, int]) -> np.ndarray:
    """Every pixel a different value (its flat index + 1), so positions can be traced."""
    return (np.arange(shape[0] * shape[1]) + 1).reshape(shape).astype(np.uint16)


def card_values(sections: AmpSections) -> dict[str, object]:
    return {card.keyword: card.value for card in sections.cards()}


# --- config checking ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key", "shown"),
    [
        ({"columns": -5}, "detector.columns", "-5"),
        ({"columns": "2048"}, "detector.columns", "'2048'"),
        ({"rows": True}, "detector.rows", "True"),
        ({"rows": None}, "detector.rows", "None"),
        ({"amplifiers": [3, 2]}, "detector.amplifiers", "[3, 2]"),
        ({"amplifiers": [2]}, "detector.amplifiers", "[2]"),
        ({"amplifiers": [0, 1]}, "detector.amplifiers", "[0, 1]"),
        ({"prescan_columns": -1}, "detector.prescan_columns", "-1"),
        ({"overscan_rows": 2.5}, "detector.overscan_rows", "2.5"),
        ({"bias_adu": 70000}, "detector.bias_adu", "70000"),
        ({"bias_adu": [1, 2, 3]}, "detector.bias_adu", "[1, 2, 3]"),
        ({"read_noise_e": -1.0}, "detector.read_noise_e", "-1.0"),
        ({"gain_e_per_adu": 0}, "detector.gain_e_per_adu", "0"),
        ({"gain_e_per_adu": [1, 1, "x", 1]}, "detector.gain_e_per_adu", "'x'"),
        ({"amp_names": ["a", "a", "b", "c"]}, "detector.amp_names", "'a'"),
        ({"amp_names": ["a", "b"]}, "detector.amp_names", "['a', 'b']"),
        ({"name": ""}, "detector.name", "''"),
        ({"colums": 64}, "detector.colums", "64"),
    ],
)
def test_bad_config_names_key_value_and_expectation(change, key, shown) -> None:
    with pytest.raises(InvalidValueError) as info:
        geometry(**change)
    message = str(info.value)
    assert key in message
    assert shown in message
    assert "expected" in message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        geometry(columns=0, gain_e_per_adu=-1, amp_names="x")
    keys = " ".join(info.value.problems)
    for key in ("detector.columns", "detector.gain_e_per_adu", "detector.amp_names"):
        assert key in keys


def test_columns_are_required_and_config_must_be_a_mapping() -> None:
    with pytest.raises(InvalidValueError, match=r"detector\.columns.*required"):
        DetectorGeometry.from_config({"rows": 10})
    with pytest.raises(InvalidValueError, match="mapping"):
        DetectorGeometry.from_config([("columns", 10)])  # type: ignore[arg-type]


def test_config_round_trip_and_per_amp_values() -> None:
    g = geometry(bias_adu=[100, 200, 300, 400], read_noise_e=[1, 2, 3, 4],
                 amp_names=["LL", "LR", "UL", "UR"])
    assert [a.bias_adu for a in g.amplifiers] == [100, 200, 300, 400]
    assert [a.read_noise_e for a in g.amplifiers] == [1, 2, 3, 4]
    assert DetectorGeometry.from_config(g.to_config()) == g
    assert g.amplifier("UR").number == 4
    with pytest.raises(InvalidValueError, match=r"'XX'.*LL, LR, UL, UR"):
        g.amplifier("XX")


# --- layouts ------------------------------------------------------------------------


def test_single_amplifier_default_geometry() -> None:
    g = DetectorGeometry.single(100, 80, name="cam", gain_e_per_adu=2.0)
    assert (g.amps_x, g.amps_y, len(g.amplifiers)) == (1, 1, 1)
    amp = g.amplifiers[0]
    assert (amp.name, amp.flip_x, amp.flip_y, amp.area) == ("A1", False, False,
                                                             Section(1, 100, 1, 80))
    assert not g.scan.any
    layout = g.layout()
    assert layout.raw_shapes == [(80, 100)]
    s = layout.amps[0].sections
    assert (str(s.datasec), s.biassec, str(s.ccdsec), str(s.ampsec)) == (
        "[1:100,1:80]", None, "[1:100,1:80]", "[1:100,1:80]")
    cards = card_values(s)
    assert (cards["LTM1_1"], cards["LTV1"], cards["ATV1"], cards["GAIN"]) == (1.0, 0.0, 0, 2.0)
    assert "BIASSEC" not in cards


def test_two_by_one_layout_reads_from_both_ends() -> None:
    g = geometry(columns=40, rows=10, amplifiers=[2, 1])
    a1, a2 = g.amplifiers
    assert (a1.area, a1.flip_x, a1.flip_y) == (Section(1, 20, 1, 10), False, False)
    assert (a2.area, a2.flip_x, a2.flip_y) == (Section(21, 40, 1, 10), True, False)
    s1, s2 = (a.sections for a in g.layout().amps)
    assert str(s1.ccdsec) == "[1:20,1:10]"
    assert str(s2.ccdsec) == "[40:21,1:10]"  # first pixel read is the rightmost
    assert str(s2.ampsec) == "[1:20,1:10]"  # readout order: amplifier coordinates ascend
    assert str(s2.datasec) == str(s1.datasec) == "[4:23,3:12]"
    assert str(s2.biassec) == "[24:28,3:12]"


def test_two_by_two_order_and_flips() -> None:
    g = geometry()
    got = [(a.number, a.name, a.grid_x, a.grid_y, a.flip_x, a.flip_y) for a in g.amplifiers]
    assert got == [(1, "A1", 0, 0, False, False), (2, "A2", 1, 0, True, False),
                   (3, "A3", 0, 1, False, True), (4, "A4", 1, 1, True, True)]
    assert [str(a.area) for a in g.amplifiers] == [
        "[1:32,1:24]", "[33:64,1:24]", "[1:32,25:48]", "[33:64,25:48]"]


def test_odd_grid_middle_amp_is_not_flipped() -> None:
    g = geometry(columns=60, amplifiers=[3, 1])
    assert [a.flip_x for a in g.amplifiers] == [False, False, True]


def test_raw_array_has_prescan_left_data_middle_overscan_right() -> None:
    g = geometry(bias_adu=[10, 20, 30, 40], read_noise_e=0.0)
    image = np.full((48, 64), 5000, dtype=np.uint16)
    readout = g.readout(image, rng=np.random.default_rng(1))
    for layout, raw in zip(readout.amps, readout.arrays, strict=True):
        bias = layout.amp.bias_adu
        assert raw.dtype == np.uint16
        assert raw.shape == (2 + 24 + 4, 3 + 32 + 5)
        assert (raw[:, :3] == bias).all() and (raw[:, 35:] == bias).all()
        assert (raw[:2, :] == bias).all() and (raw[26:, :] == bias).all()
        assert (raw[2:26, 3:35] == 5000 + bias).all()


# --- ROI and binning ----------------------------------------------------------------


def test_roi_with_binning_sections() -> None:
    g = geometry()
    roi = Roi(first_col=9, last_col=48, first_row=5, last_row=40)
    layout = g.layout(roi, col_bin=2, row_bin=4)
    assert layout.image_shape == (9, 20)
    assert [a.amp.name for a in layout.amps] == ["A1", "A2", "A3", "A4"]
    a1, a2, a3, a4 = (a.sections for a in layout.amps)
    # amp 1: columns 9..32 (12 binned), rows 5..24 (5 binned)
    assert str(a1.datasec) == "[4:15,3:7]"
    assert str(a1.ccdsec) == "[9:32,5:24]"
    assert str(a1.ampsec) == "[9:32,5:24]"
    assert str(a1.biassec) == "[16:20,3:7]"
    assert layout.amps[0].shape == (2 + 5 + 4, 3 + 12 + 5)
    # amp 2: columns 33..48 (8 binned) read from column 64 inwards: amp columns 17..32
    assert str(a2.datasec) == "[4:11,3:7]"
    assert str(a2.ccdsec) == "[48:33,5:24]"
    assert str(a2.ampsec) == "[17:32,5:24]"
    # amp 3: rows 25..40 (4 binned) read from row 48 down: amp rows 9..24
    assert str(a3.ccdsec) == "[9:32,40:25]"
    assert str(a3.ampsec) == "[9:32,9:24]"
    assert str(a4.ccdsec) == "[48:33,40:25]"
    values = card_values(a1)
    assert values["CCDSUM"] == "2 4"
    assert (values["LTM1_1"], values["LTM2_2"]) == (0.5, 0.25)
    assert card_values(a4)["LTM1_1"] == -0.5


def test_roi_on_one_amplifier_reads_only_it() -> None:
    g = geometry()
    layout = g.layout(Roi(40, 60, 30, 45))
    assert [a.amp.name for a in layout.amps] == ["A4"]
    assert {c.keyword: c.value for c in layout.primary_cards()}["NAMPS"] == 1
    assert str(layout.amps[0].sections.ccdsec) == "[60:40,45:30]"
    assert str(layout.amps[0].sections.ampsec) == "[5:25,4:19]"


@pytest.mark.parametrize(
    ("roi", "bins", "pattern"),
    [
        (Roi(0, 10, 1, 10), (1, 1), r"first_col = 0.*1 to 64"),
        (Roi(1, 65, 1, 10), (1, 1), r"last_col = 65.*1 to 64"),
        (Roi(1, 10, 1, 49), (1, 1), r"last_row = 49.*1 to 48"),
        (Roi(20, 10, 1, 10), (1, 1), r"first_col = 20 is after last_col = 10"),
        (Roi(1, 10, 9, 3), (1, 1), r"first_row = 9 is after last_row = 3"),
        (Roi(1, 64, 1, 48), (0, 1), r"col_bin = 0"),
        (Roi(1, 64, 1, 48), (3, 1), r"32 columns on amplifier A1.*col_bin = 3"),
        (Roi(1, 10, 1, 48), (1, 5), r"24 rows on amplifier A1.*row_bin = 5"),
    ],
)
def test_bad_roi_is_refused_with_its_key(roi, bins, pattern) -> None:
    with pytest.raises(InvalidValueError, match=pattern):
        geometry().layout(roi, *bins)


def test_fit_roi_trims_outer_ends() -> None:
    g = geometry()
    # spans A1 and A2 in x: A1's part 2..32 (31 columns) loses its outer column
    fitted = g.fit_roi(Roi(2, 50, 1, 10), col_bin=3, row_bin=4)
    assert fitted == Roi(3, 50, 1, 8)  # A1 part 3..32 = 30, A2 part 33..50 = 18
    g.check_roi(fitted, 3, 4)
    assert DetectorGeometry.single(100, 80).fit_roi(None, 3, 3) == Roi(1, 99, 1, 78)
    with pytest.raises(InvalidValueError, match=r"col_bin = 5.*whole amplifiers"):
        geometry(columns=96, amplifiers=[3, 2]).fit_roi(None, 5, 1)


# --- transforms against the pixels ----------------------------------------------------

CASES = [
    ({"columns": 30, "rows": 20, "amplifiers": [1, 1]}, None, (1, 1)),
    ({"columns": 40, "rows": 20, "amplifiers": [2, 1]}, None, (1, 1)),
    ({"amplifiers": [2, 2]}, None, (1, 1)),
    ({"amplifiers": [2, 2]}, Roi(9, 48, 5, 40), (2, 4)),
    ({"amplifiers": [2, 2]}, Roi(35, 64, 26, 47), (3, 2)),
    ({"columns": 60, "rows": 48, "amplifiers": [3, 2]}, Roi(3, 58, 1, 48), (2, 3)),
]


def _check_transforms(sections: AmpSections, raw: np.ndarray, image: np.ndarray,
                      roi: Roi, col_bin: int, row_bin: int) -> None:
    """Map every data pixel with the header cards and check it lands where it came from."""
    c = card_values(sections)
    data = Section.parse(str(c["DATASEC"]))
    ccdsec = Section.parse(str(c["CCDSEC"]))
    ampsec = Section.parse(str(c["AMPSEC"]))
    detsec = Section.parse(str(c["DETSEC"]))
    xs = np.arange(data.x1, data.x2 + 1)
    ys = np.arange(data.y1, data.y2 + 1)
    x, y = np.meshgrid(xs, ys)
    # image → CCD: the centre of each binned pixel
    cx = (x - c["LTV1"]) / c["LTM1_1"]
    cy = (y - c["LTV2"]) / c["LTM2_2"]
    sx, sy = np.sign(c["LTM1_1"]), np.sign(c["LTM2_2"])
    first_x = cx - sx * (col_bin - 1) / 2  # the first unbinned CCD pixel it sums
    first_y = cy - sy * (row_bin - 1) / 2
    low_x = np.minimum(first_x, cx + sx * (col_bin - 1) / 2)
    low_y = np.minimum(first_y, cy + sy * (row_bin - 1) / 2)
    # the pixel value is the camera image's pixel at that place
    col = (low_x - roi.first_col) / col_bin
    row = (low_y - roi.first_row) / row_bin
    assert np.allclose(col, np.round(col)) and np.allclose(row, np.round(row))
    expected = image[np.round(row).astype(int), np.round(col).astype(int)]
    assert (raw[y - 1, x - 1] == expected).all()
    # the data's corners land exactly on CCDSEC's (element by element)
    last_x = cx + sx * (col_bin - 1) / 2
    last_y = cy + sy * (row_bin - 1) / 2
    exact = pytest.approx  # binning by 3 makes LTM 1/3: equal to rounding error
    assert (first_x[0, 0], last_x[0, -1]) == exact((ccdsec.x1, ccdsec.x2), abs=1e-9)
    assert (first_y[0, 0], last_y[-1, 0]) == exact((ccdsec.y1, ccdsec.y2), abs=1e-9)
    # CCD → detector (DTM/DTV) gives DETSEC, CCD → amplifier (ATM/ATV) gives AMPSEC
    dx = c["DTM1_1"] * np.array([first_x[0, 0], last_x[0, -1]]) + c["DTV1"]
    dy = c["DTM2_2"] * np.array([first_y[0, 0], last_y[-1, 0]]) + c["DTV2"]
    assert tuple(dx) == exact((detsec.x1, detsec.x2), abs=1e-9)
    assert tuple(dy) == exact((detsec.y1, detsec.y2), abs=1e-9)
    ax = c["ATM1_1"] * np.array([ccdsec.x1, ccdsec.x2]) + c["ATV1"]
    ay = c["ATM2_2"] * np.array([ccdsec.y1, ccdsec.y2]) + c["ATV2"]
    assert (tuple(ax), tuple(ay)) == ((ampsec.x1, ampsec.x2), (ampsec.y1, ampsec.y2))
    # amplifier pixel 1 is the amp's outer corner
    amp = sections.amp
    corner = (amp.area.x2 if amp.flip_x else amp.area.x1,
              amp.area.y2 if amp.flip_y else amp.area.y1)
    assert amp.to_amp(*corner) == (1, 1)


@pytest.mark.parametrize(("config", "roi", "bins"), CASES)
def test_header_transforms_map_raw_pixels_to_their_ccd_place(config, roi, bins) -> None:
    g = geometry(**config)
    layout = g.layout(roi, *bins)
    image = index_image(layout.image_shape)
    readout = g.readout(image, roi=roi, col_bin=bins[0], row_bin=bins[1],
                        rng=np.random.default_rng(0))
    for a, raw in zip(readout.amps, readout.arrays, strict=True):
        _check_transforms(a.sections, raw, image, layout.roi, *bins)
    # every image pixel was read exactly once
    total = sum(a.sections.datasec.ncols * a.sections.datasec.nrows for a in readout.amps)
    assert total == image.size


@pytest.mark.parametrize(("config", "roi", "bins"), CASES)
def test_assembled_image_puts_every_amp_back_in_place(config, roi, bins) -> None:
    g = geometry(**config)
    layout = g.layout(roi, *bins)
    image = index_image(layout.image_shape)
    readout = g.readout(image, roi=roi, col_bin=bins[0], row_bin=bins[1],
                        rng=np.random.default_rng(0))
    assembled = readout.assembled()
    assert assembled.data.shape == layout.assembled_shape
    assert readout.size == (assembled.data.shape[1], assembled.data.shape[0])
    rebuilt = np.zeros_like(image)
    for s in assembled.sections:
        assert s.ccdsec == s.ccdsec.ascending()  # detector orientation
        r0 = (s.ccdsec.y1 - layout.roi.first_row) // bins[1]
        c0 = (s.ccdsec.x1 - layout.roi.first_col) // bins[0]
        rows, cols = s.datasec.slices()
        rebuilt[r0 : r0 + s.datasec.nrows, c0 : c0 + s.datasec.ncols] = assembled.data[rows, cols]
        _check_transforms(s, assembled.data, image, layout.roi, *bins)
        amp = s.amp
        assert (s.ampsec.x2 < s.ampsec.x1) == (amp.flip_x and s.ampsec.ncols > 1)
    assert (rebuilt == image).all()


def test_assembled_prescans_on_outer_edges() -> None:
    g = geometry(columns=40, rows=10, amplifiers=[2, 1], prescan_rows=0, overscan_rows=0)
    image = np.full((10, 40), 7, dtype=np.uint16)
    readout = g.readout(image, rng=np.random.default_rng(0))
    # mark prescan and overscan columns of each raw array
    arrays = []
    for raw in readout.arrays:
        raw = raw.copy()
        raw[:, :3] = 1  # prescan
        raw[:, -5:] = 2  # overscan
        arrays.append(raw)
    assembled = Readout(readout.layout, tuple(arrays)).assembled()
    row = assembled.data[0]
    assert list(row[:3]) == [1, 1, 1] and list(row[-3:]) == [1, 1, 1]
    assert list(row[23:33]) == [2] * 10  # both overscans meet in the middle
    a1, a2 = assembled.sections
    assert (str(a1.datasec), str(a2.datasec)) == ("[4:23,1:10]", "[34:53,1:10]")
    assert (str(a1.biassec), str(a2.biassec)) == ("[24:28,1:10]", "[29:33,1:10]")
    assert (str(a2.ccdsec), str(a2.ampsec)) == ("[21:40,1:10]", "[20:1,1:10]")


# --- pixel values -------------------------------------------------------------------


def test_simulated_overscan_has_each_amps_bias_and_noise() -> None:
    bias = [900.0, 1000.0, 1100.0, 1250.0]
    noise = [3.0, 4.5, 6.0, 9.0]
    gain = [1.0, 1.5, 2.0, 3.0]
    g = geometry(columns=512, rows=512, prescan_columns=16, overscan_columns=64,
                 prescan_rows=8, overscan_rows=32, bias_adu=bias, read_noise_e=noise,
                 gain_e_per_adu=gain)
    image = np.full((512, 512), 3000, dtype=np.uint16)
    readout = g.readout(image, image_bias_adu=1000, rng=np.random.default_rng(42))
    for k, (layout, raw) in enumerate(zip(readout.amps, readout.arrays, strict=True)):
        data = layout.sections.datasec
        rows, cols = data.slices()
        mask = np.ones(raw.shape, dtype=bool)
        mask[rows, cols] = False
        scan = raw[mask].astype(float)
        sigma = noise[k] / gain[k]
        assert scan.size > 20000
        assert abs(scan.mean() - bias[k]) < 5 * sigma / np.sqrt(scan.size) + 0.01
        assert abs(scan.std() / sigma - 1) < 0.03
        bias_region = raw[layout.sections.biassec.slices()]
        assert abs(bias_region.mean() - bias[k]) < 0.1
        # data pixels: image − camera bias + this amp's bias, no noise added
        assert (raw[rows, cols] == 3000 - 1000 + bias[k]).all()


def test_data_are_rounded_and_clipped() -> None:
    g = geometry(columns=4, rows=2, amplifiers=[1, 1], prescan_columns=0,
                 overscan_columns=0, prescan_rows=0, overscan_rows=0, bias_adu=100)
    image = np.array([[-50.0, 10.4, 10.6, np.nan], [70000.0, 0.0, 65535.0, 65435.0]])
    raw = g.readout(image, image_bias_adu=0, simulate=False).arrays[0]
    assert raw.tolist() == [[50, 110, 111, 0], [65535, 100, 65535, 65535]]


def test_real_camera_pixels_pass_through() -> None:
    g = DetectorGeometry.single(30, 20)
    image = np.random.default_rng(3).integers(0, 65536, (20, 30), dtype=np.uint16)
    readout = g.readout(image, simulate=False)
    assert readout.arrays[0].dtype == np.uint16
    assert (readout.arrays[0] == image).all()
    assert (readout.assembled().data == image).all()


def test_real_readout_refuses_overscan_geometry() -> None:
    with pytest.raises(InvalidOperationError, match="prescan/overscan"):
        geometry().readout(np.zeros((48, 64)), simulate=False)


def test_image_shape_must_match_binned_roi() -> None:
    with pytest.raises(InvalidValueError, match=r"image: expected .*\(24, 32\)"):
        geometry().readout(np.zeros((48, 64)), col_bin=2, row_bin=2)


def test_seeded_readout_is_reproducible() -> None:
    g = geometry(read_noise_e=5.0)
    image = np.zeros((48, 64))
    one = g.readout(image, rng=np.random.default_rng(7))
    two = g.readout(image, rng=np.random.default_rng(7))
    assert all((a == b).all() for a, b in zip(one.arrays, two.arrays, strict=True))


def test_section_text_round_trip() -> None:
    s = Section.parse("[2048:1025, 1:10]")
    assert (s.x1, s.x2, s.y1, s.y2, s.ncols, s.nrows) == (2048, 1025, 1, 10, 1024, 10)
    assert str(s) == "[2048:1025,1:10]"
    assert s.ascending() == Section(1025, 2048, 1, 10)
    with pytest.raises(InvalidValueError, match="x1:x2,y1:y2"):
        Section.parse("[1:2]")
