"""Detector geometry: a CCD/CMOS split into amplifiers, and the layout of one readout.

Geometry
    The imaging area (``columns`` × ``rows`` unbinned pixels) is split into a grid of
    ``amplifiers: [nx, ny]`` equal rectangles. Amplifiers are numbered 1.. row-major from
    the bottom-left (amp 1 bottom-left, then along x, then the next row up); names
    default to ``A1``, ``A2``... Each amplifier reads from its own outer corner: an amp
    whose centre lies right of the detector's centre is read right-to-left (flipped in
    x), one above the centre top-to-bottom (flipped in y); a middle amp of an odd grid is
    not flipped.

Raw arrays (one per amplifier read, ``uint16`` like azcam's 16-bit data)
    Stored in READOUT order: raw pixel [1,1] is the first pixel the amp read. Along x:
    ``prescan_columns``, the data, ``overscan_columns``; along y: ``prescan_rows`` at the
    bottom, the data, ``overscan_rows`` on top. Pre/overscan sizes are clock counts, so
    they are binned pixels whatever the binning.

Region of interest and binning
    ``Roi(first_col, last_col, first_row, last_row)`` is 1-based, inclusive, in unbinned
    detector pixels (azcam's ``set_roi``); ``col_bin``/``row_bin`` ≥ 1. Each amplifier
    reads the part of the ROI on it; amps the ROI misses are not read. Rule: the part of
    the ROI on each amplifier must be a whole number of binned pixels along each axis
    (a binned pixel never straddles two amplifiers); otherwise :class:`InvalidValueError`.
    :meth:`DetectorGeometry.fit_roi` shrinks an ROI at its outer ends to satisfy this.

Header keywords (NOAO/IRAF mosaic convention; sections "[x1:x2,y1:y2]", 1-based,
inclusive). All sections of one array correspond element by element: the first
column of DATASEC is the first column of CCDSEC, AMPSEC and DETSEC, so a reversed
range (``[2048:1025,...]``) says the data run the other way along that axis.

* ``DETSIZE`` – the whole detector, unbinned: ``[1:columns,1:rows]`` (also CCDSIZE).
* ``DATASEC`` – the data pixels in this array (binned; TRIMSEC is the same).
* ``BIASSEC`` – the serial overscan next to the data rows; absent without overscan.
* ``CCDSEC`` – where the data lie on the CCD, unbinned. In a raw (readout-order) array
  it is reversed along the axes its amp is flipped in; in the assembled image it is
  ascending.
* ``AMPSEC`` – the data in amplifier coordinates, unbinned: 1 is the first pixel the
  amp reads (its corner), counting away from it over the amp's whole area. Ascending in
  raw arrays (they are in readout order); reversed along flipped axes in the assembled
  image (e.g. ``[1024:1,1:1024]``), the classic NOAO form.
* ``DETSEC`` – where the data lie on the detector; one CCD, so equal to CCDSEC.
* ``LTM1_1, LTM2_2, LTV1, LTV2`` – CCD (IRAF "physical") → image ("logical"):
  ``image = LTM · ccd + LTV``, LTM = ±1/binning (negative along flipped axes).
* ``ATM1_1, ATM2_2, ATV1, ATV2`` – CCD → amplifier: ``amp = ATM · ccd + ATV``, ATM = ±1.
* ``DTM1_1, DTM2_2, DTV1, DTV2`` – CCD → detector: ``det = DTM · ccd + DTV``; identity.
* ``CCDSUM "cx cy"``, ``AMPNAME``, ``IMAGEID`` (amp number), ``PRESCAN1/2``,
  ``OVRSCAN1/2``, ``GAIN`` (e-/ADU) and ``RDNOISE`` (e-) of the amplifier.

Pixel values
    Data pixels = image − ``image_bias_adu`` + the amp's ``bias_adu``, rounded and
    clipped to 0..65535. With ``simulate=True`` pre/overscan pixels are the amp's bias
    plus Gaussian read noise of ``read_noise_e / gain_e_per_adu`` ADU. A real camera
    has no overscan: it uses :meth:`DetectorGeometry.single` (one amp, no pre/overscan,
    bias 0) with ``simulate=False`` and ``image_bias_adu=0``, and its pixels pass
    through unchanged; ``simulate=False`` with pre/overscan is refused.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

from nocturna.core.errors import ConfigError, InvalidOperationError, InvalidValueError
from nocturna.images.header import Card

log = logging.getLogger(__name__)

ADU_MAX = 65535
_MAX_STRING = 68
_KEYS = ("name", "columns", "rows", "amplifiers", "prescan_columns", "overscan_columns",
         "prescan_rows", "overscan_rows", "bias_adu", "read_noise_e", "gain_e_per_adu",
         "amp_names")


# --- small value types --------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A FITS image section, 1-based and inclusive; x2 < x1 (or y2 < y1) is reversed."""

    x1: int
    x2: int
    y1: int
    y2: int

    def __str__(self) -> str:
        return f"[{self.x1}:{self.x2},{self.y1}:{self.y2}]"

    @classmethod
    def parse(cls, text: str) -> Section:
        """The section written as ``[x1:x2,y1:y2]``."""
        try:
            xs, ys = text.strip().removeprefix("[").removesuffix("]").split(",")
            x1, x2 = (int(v) for v in xs.split(":"))
            y1, y2 = (int(v) for v in ys.split(":"))
        except ValueError:
            raise InvalidValueError(
                f"section {text!r} is not of the form '[x1:x2,y1:y2]'") from None
        return cls(x1, x2, y1, y2)

    @property
    def ncols(self) -> int:
        return abs(self.x2 - self.x1) + 1

    @property
    def nrows(self) -> int:
        return abs(self.y2 - self.y1) + 1

    def reversed(self, x: bool, y: bool) -> Section:
        """The same pixels listed the other way along x and/or y."""
        x1, x2 = (self.x2, self.x1) if x else (self.x1, self.x2)
        y1, y2 = (self.y2, self.y1) if y else (self.y1, self.y2)
        return Section(x1, x2, y1, y2)

    def ascending(self) -> Section:
        return self.reversed(self.x2 < self.x1, self.y2 < self.y1)

    def mirrored(self, width: int, height: int, x: bool, y: bool) -> Section:
        """Coordinates in an array of ``width`` × ``height`` flipped along x and/or y."""
        x1, x2 = (width + 1 - self.x1, width + 1 - self.x2) if x else (self.x1, self.x2)
        y1, y2 = (height + 1 - self.y1, height + 1 - self.y2) if y else (self.y1, self.y2)
        return Section(x1, x2, y1, y2)

    def shifted(self, dx: int, dy: int) -> Section:
        return Section(self.x1 + dx, self.x2 + dx, self.y1 + dy, self.y2 + dy)

    def slices(self) -> tuple[slice, slice]:
        """numpy ``[rows, cols]`` slices of the pixels (in ascending order)."""
        s = self.ascending()
        return slice(s.y1 - 1, s.y2), slice(s.x1 - 1, s.x2)


@dataclass(frozen=True)
class Roi:
    """A region of interest: 1-based inclusive unbinned detector pixels (azcam's order)."""

    first_col: int
    last_col: int
    first_row: int
    last_row: int

    @property
    def ncols(self) -> int:
        return self.last_col - self.first_col + 1

    @property
    def nrows(self) -> int:
        return self.last_row - self.first_row + 1

    @property
    def section(self) -> Section:
        return Section(self.first_col, self.last_col, self.first_row, self.last_row)


@dataclass(frozen=True)
class ScanSizes:
    """Serial (columns) and parallel (rows) prescan and overscan, in binned pixels."""

    prescan_columns: int = 0
    overscan_columns: int = 0
    prescan_rows: int = 0
    overscan_rows: int = 0

    @property
    def any(self) -> bool:
        return any((self.prescan_columns, self.overscan_columns, self.prescan_rows,
                    self.overscan_rows))


@dataclass(frozen=True)
class Amplifier:
    """One amplifier: its place in the grid, read direction, area and electronics."""

    number: int  # 1-based, row-major from the bottom-left
    name: str
    grid_x: int  # 0-based position in the amplifier grid
    grid_y: int
    flip_x: bool  # read right-to-left
    flip_y: bool  # read top-to-bottom
    area: Section  # its imaging pixels on the detector, unbinned, ascending
    bias_adu: float
    read_noise_e: float
    gain_e_per_adu: float

    @property
    def read_noise_adu(self) -> float:
        return self.read_noise_e / self.gain_e_per_adu

    @property
    def atm(self) -> tuple[int, int]:
        """CCD → amplifier matrix diagonal (ATM1_1, ATM2_2)."""
        return (-1 if self.flip_x else 1, -1 if self.flip_y else 1)

    @property
    def atv(self) -> tuple[int, int]:
        """CCD → amplifier offsets (ATV1, ATV2): amplifier pixel 1 is the amp's corner."""
        a = self.area
        return (a.x2 + 1 if self.flip_x else 1 - a.x1, a.y2 + 1 if self.flip_y else 1 - a.y1)

    def to_amp(self, col: int, row: int) -> tuple[int, int]:
        """Amplifier coordinates of CCD pixel (col, row)."""
        (m1, m2), (v1, v2) = self.atm, self.atv
        return m1 * col + v1, m2 * row + v2


# --- the sections and cards of one amplifier in one array ------------------------------


@dataclass(frozen=True)
class AmpSections:
    """Where one amplifier's data lie in an array (raw or assembled), and its cards.

    ``flip_x``/``flip_y`` say whether the array's data run against the detector's axes
    (true for a flipped amp's raw array, false in the assembled image).
    """

    amp: Amplifier
    datasec: Section
    biassec: Section | None
    ccdsec: Section
    ampsec: Section
    detsec: Section
    flip_x: bool
    flip_y: bool
    col_bin: int
    row_bin: int
    detsize: Section
    scan: ScanSizes

    @property
    def ltm(self) -> tuple[float, float]:
        """CCD → image matrix diagonal (LTM1_1, LTM2_2)."""
        return ((-1.0 if self.flip_x else 1.0) / self.col_bin,
                (-1.0 if self.flip_y else 1.0) / self.row_bin)

    @property
    def ltv(self) -> tuple[float, float]:
        """CCD → image offsets (LTV1, LTV2): the centre of the first binned data pixel
        (image DATASEC x1, y1) is the centre of the unbinned CCD pixels it sums."""
        m1, m2 = self.ltm
        cx = self.ccdsec.x1 + math.copysign((self.col_bin - 1) / 2, m1)
        cy = self.ccdsec.y1 + math.copysign((self.row_bin - 1) / 2, m2)
        return self.datasec.x1 - m1 * cx, self.datasec.y1 - m2 * cy

    def to_ccd(self, x: float, y: float) -> tuple[float, float]:
        """CCD coordinates of image point (x, y) (inverse of LTM/LTV)."""
        (m1, m2), (v1, v2) = self.ltm, self.ltv
        return (x - v1) / m1, (y - v2) / m2

    def section_cards(self, suffix: str = "") -> list[Card]:
        """The section keywords (with ``suffix`` appended: DATASEC1...) and AMPNAME."""
        cards = [Card(f"AMPNAME{suffix}", self.amp.name, "amplifier name"),
                 Card(f"DATASEC{suffix}", str(self.datasec), "data section")]
        if self.biassec is not None:
            cards.append(Card(f"BIASSEC{suffix}", str(self.biassec),
                              "bias section (serial overscan)"))
        cards += [Card(f"CCDSEC{suffix}", str(self.ccdsec), "CCD section (unbinned)"),
                  Card(f"AMPSEC{suffix}", str(self.ampsec), "amplifier section (unbinned)"),
                  Card(f"DETSEC{suffix}", str(self.detsec), "detector section (unbinned)")]
        return cards

    def cards(self) -> list[Card]:
        """Every keyword of this amplifier's data (the MEF extension / single-amp set)."""
        (ltm1, ltm2), (ltv1, ltv2) = self.ltm, self.ltv
        (atm1, atm2), (atv1, atv2) = self.amp.atm, self.amp.atv
        cards = [Card("IMAGEID", self.amp.number, "amplifier number"),
                 Card("DETSIZE", str(self.detsize), "detector size (unbinned)"),
                 Card("CCDSIZE", str(self.detsize), "CCD size (unbinned)"),
                 Card("CCDSUM", f"{self.col_bin} {self.row_bin}", "CCD pixel summing"),
                 *self.section_cards(),
                 Card("TRIMSEC", str(self.datasec), "trim section"),
                 Card("PRESCAN1", self.scan.prescan_columns, "prescan on axis 1"),
                 Card("OVRSCAN1", self.scan.overscan_columns, "overscan on axis 1"),
                 Card("PRESCAN2", self.scan.prescan_rows, "prescan on axis 2"),
                 Card("OVRSCAN2", self.scan.overscan_rows, "overscan on axis 2"),
                 Card("LTM1_1", ltm1, "CCD to image transformation"),
                 Card("LTM2_2", ltm2, "CCD to image transformation"),
                 Card("LTV1", ltv1, "CCD to image transformation"),
                 Card("LTV2", ltv2, "CCD to image transformation"),
                 Card("ATM1_1", atm1, "CCD to amplifier transformation"),
                 Card("ATM2_2", atm2, "CCD to amplifier transformation"),
                 Card("ATV1", atv1, "CCD to amplifier transformation"),
                 Card("ATV2", atv2, "CCD to amplifier transformation"),
                 Card("DTM1_1", 1, "CCD to detector transformation"),
                 Card("DTM2_2", 1, "CCD to detector transformation"),
                 Card("DTV1", 0, "CCD to detector transformation"),
                 Card("DTV2", 0, "CCD to detector transformation"),
                 Card("GAIN", self.amp.gain_e_per_adu, "[e-/ADU] amplifier gain"),
                 Card("RDNOISE", self.amp.read_noise_e, "[e-] amplifier read noise")]
        return cards

    def mirrored(self, width: int, height: int) -> AmpSections:
        """These sections once the ``width`` × ``height`` array is flipped back to the
        detector's orientation (a no-op for an amp that is not flipped)."""
        fx, fy = self.flip_x, self.flip_y
        if not (fx or fy):
            return self
        bias = self.biassec
        return AmpSections(
            amp=self.amp, datasec=self.datasec.mirrored(width, height, fx, fy).ascending(),
            biassec=None if bias is None else bias.mirrored(width, height, fx, fy).ascending(),
            ccdsec=self.ccdsec.reversed(fx, fy), ampsec=self.ampsec.reversed(fx, fy),
            detsec=self.detsec.reversed(fx, fy), flip_x=False, flip_y=False,
            col_bin=self.col_bin, row_bin=self.row_bin, detsize=self.detsize, scan=self.scan)

    def shifted(self, dx: int, dy: int) -> AmpSections:
        """These sections in a larger array where this one starts at offset (dx, dy)."""
        bias = self.biassec
        return AmpSections(
            amp=self.amp, datasec=self.datasec.shifted(dx, dy),
            biassec=None if bias is None else bias.shifted(dx, dy), ccdsec=self.ccdsec,
            ampsec=self.ampsec, detsec=self.detsec, flip_x=self.flip_x, flip_y=self.flip_y,
            col_bin=self.col_bin, row_bin=self.row_bin, detsize=self.detsize, scan=self.scan)


@dataclass(frozen=True)
class AmpLayout:
    """One amplifier in one readout: its raw array's shape, sections, and where its data
    come from in the camera's (binned ROI) image."""

    sections: AmpSections  # in raw (readout-order) coordinates
    shape: tuple[int, int]  # raw array (rows, columns)
    image_rows: slice
    image_cols: slice

    @property
    def amp(self) -> Amplifier:
        return self.sections.amp


@dataclass(frozen=True)
class ReadoutLayout:
    """Everything about a readout except the pixels: which amps, shapes, sections."""

    geometry: DetectorGeometry
    roi: Roi
    col_bin: int
    row_bin: int
    amps: tuple[AmpLayout, ...]

    @property
    def image_shape(self) -> tuple[int, int]:
        """Shape (rows, columns) of the camera image this readout takes: the binned ROI."""
        return self.roi.nrows // self.row_bin, self.roi.ncols // self.col_bin

    @property
    def raw_shapes(self) -> list[tuple[int, int]]:
        return [a.shape for a in self.amps]

    def tiles(self) -> tuple[tuple[int, int], list[tuple[int, int]]]:
        """The assembled shape (rows, cols) and each amp's (row, col) offset in it."""
        cols: dict[int, int] = {}
        rows: dict[int, int] = {}
        for a in self.amps:
            cols[a.amp.grid_x] = a.shape[1]
            rows[a.amp.grid_y] = a.shape[0]
        x0 = {gx: sum(cols[g] for g in cols if g < gx) for gx in cols}
        y0 = {gy: sum(rows[g] for g in rows if g < gy) for gy in rows}
        offsets = [(y0[a.amp.grid_y], x0[a.amp.grid_x]) for a in self.amps]
        return (sum(rows.values()), sum(cols.values())), offsets

    @property
    def assembled_shape(self) -> tuple[int, int]:
        return self.tiles()[0]

    def assembled_sections(self) -> tuple[AmpSections, ...]:
        """Each amp's sections in the assembled image."""
        _, offsets = self.tiles()
        return tuple(a.sections.mirrored(a.shape[1], a.shape[0]).shifted(dx, dy)
                     for a, (dy, dx) in zip(self.amps, offsets, strict=True))

    def primary_cards(self) -> list[Card]:
        """Keywords shared by every amplifier (for the primary header)."""
        g = self.geometry
        return [Card("DETNAME", g.name, "detector name"),
                Card("DETSIZE", str(g.detsize), "detector size (unbinned)"),
                Card("NCCDS", 1, "number of CCDs"),
                Card("NAMPS", len(self.amps), "number of amplifiers read"),
                Card("CCDSUM", f"{self.col_bin} {self.row_bin}", "CCD pixel summing"),
                Card("CCDBIN1", self.col_bin, "binning factor along axis 1"),
                Card("CCDBIN2", self.row_bin, "binning factor along axis 2")]


@dataclass(frozen=True, eq=False)
class Assembled:
    """A readout tiled in detector layout, and every amp's sections in it."""

    data: np.ndarray
    sections: tuple[AmpSections, ...]


@dataclass(frozen=True, eq=False)
class Readout:
    """The raw arrays of the amplifiers read (``uint16``, readout order) and their layout."""

    layout: ReadoutLayout
    arrays: tuple[np.ndarray, ...]

    @property
    def amps(self) -> tuple[AmpLayout, ...]:
        return self.layout.amps

    @property
    def size(self) -> tuple[int, int]:
        """(columns, rows) of the assembled image (the size azcam reports)."""
        rows, cols = self.layout.assembled_shape
        return cols, rows

    @property
    def data_offset(self) -> tuple[int, int] | None:
        """(columns, rows) before the camera image's first pixel in the file's array when
        one shift relates them (one amplifier, read as it lies); None otherwise (several
        amps with overscans between them, or a flipped raw array)."""
        if len(self.amps) != 1:
            return None
        sections = self.amps[0].sections
        if sections.flip_x or sections.flip_y:
            return None
        return sections.datasec.x1 - 1, sections.datasec.y1 - 1

    def assembled(self) -> Assembled:
        """The raw arrays flipped back to detector orientation and tiled as the amps lie
        (prescans on the detector's outer edges, overscans where amps meet)."""
        shape, offsets = self.layout.tiles()
        data = np.empty(shape, dtype=np.uint16)
        for a, raw, (dy, dx) in zip(self.amps, self.arrays, offsets, strict=True):
            view = raw[::-1 if a.amp.flip_y else 1, ::-1 if a.amp.flip_x else 1]
            data[dy : dy + raw.shape[0], dx : dx + raw.shape[1]] = view
        return Assembled(data, self.layout.assembled_sections())


# --- config checking ---------------------------------------------------------------


class _Checker:
    """Collects every problem of a detector mapping, each naming its key."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self.problems: list[str] = []

    def bad(self, key: str, value: object, expected: str) -> None:
        self.problems.append(f"detector.{key} = {value!r}: expected {expected}")

    def integer(self, key: str, default: int | None, low: int) -> int | None:
        value = self.config.get(key, default)
        if value is None:
            self.bad(key, value, f"an integer >= {low} (required)")
            return None
        if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
            self.bad(key, value, f"an integer >= {low}")
            return None
        return int(value)

    def per_amp(self, key: str, default: float, namps: int | None, low: float,
                high: float | None, low_open: bool = False) -> tuple[float, ...] | None:
        value = self.config.get(key, default)
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        span = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}" if high else "")
        expected = f"a number {span}, or a list of one per amplifier"
        good = []
        for item in items:
            ok = (not isinstance(item, bool) and isinstance(item, Real)
                  and math.isfinite(item) and (item > low if low_open else item >= low)
                  and (high is None or item <= high))
            if not ok:
                self.bad(key, value, expected)
                return None
            good.append(float(item))
        if isinstance(value, (list, tuple)):
            if namps is not None and len(good) != namps:
                self.bad(key, value, f"a list of {namps} values (one per amplifier)")
                return None
            return tuple(good)
        return None if namps is None else tuple(good * namps)


def _text_ok(value: object) -> bool:
    return (isinstance(value, str) and bool(value.strip()) and value.isascii()
            and value.isprintable() and len(value) <= _MAX_STRING)


# --- the geometry --------------------------------------------------------------------


@dataclass(frozen=True)
class DetectorGeometry:
    """A detector's amplifier layout; :meth:`readout` lays a camera image out as raw data."""

    name: str
    columns: int
    rows: int
    amps_x: int
    amps_y: int
    scan: ScanSizes
    amplifiers: tuple[Amplifier, ...]

    # construction

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DetectorGeometry:
        """The geometry of a ``detector:`` mapping (see the module notes for its keys).

        Raises :class:`ConfigError` (an :class:`InvalidValueError`) listing every bad key
        with its value and what was expected.
        """
        if not isinstance(config, Mapping):
            raise InvalidValueError(f"detector: expected a mapping, got {config!r}")
        check = _Checker(config)
        for key in config:
            if key not in _KEYS:
                check.bad(str(key), config[key], f"a known key (one of {', '.join(_KEYS)})")
        name = config.get("name", "detector")
        if not _text_ok(name):
            check.bad("name", name, f"a non-empty printable ASCII string of <= {_MAX_STRING}"
                      " characters")
        columns = check.integer("columns", None, 1)
        rows = check.integer("rows", None, 1)
        grid = config.get("amplifiers", [1, 1])
        nx = ny = None
        if (not isinstance(grid, (list, tuple)) or len(grid) != 2
                or any(isinstance(n, bool) or not isinstance(n, Integral) or n < 1
                       for n in grid)):
            check.bad("amplifiers", grid, "[nx, ny]: two integers >= 1")
        else:
            nx, ny = int(grid[0]), int(grid[1])
            if columns is not None and columns % nx:
                check.bad("amplifiers", grid, f"nx dividing columns = {columns} evenly")
                nx = None
            if rows is not None and rows % ny:
                check.bad("amplifiers", grid, f"ny dividing rows = {rows} evenly")
                ny = None
        scan = [check.integer(key, 0, 0) for key in
                ("prescan_columns", "overscan_columns", "prescan_rows", "overscan_rows")]
        namps = nx * ny if nx is not None and ny is not None else None
        bias = check.per_amp("bias_adu", 0.0, namps, 0.0, float(ADU_MAX))
        noise = check.per_amp("read_noise_e", 0.0, namps, 0.0, None)
        gain = check.per_amp("gain_e_per_adu", 1.0, namps, 0.0, None, low_open=True)
        names = config.get("amp_names")
        if names is not None:
            valid = (isinstance(names, (list, tuple)) and all(_text_ok(n) for n in names)
                     and len(set(names)) == len(names))
            if not valid or (namps is not None and len(names) != namps):
                count = f"{namps} " if namps is not None else ""
                check.bad("amp_names", names, f"null or a list of {count}distinct non-empty "
                          f"printable ASCII names of <= {_MAX_STRING} characters")
        if check.problems:
            raise ConfigError(check.problems)
        assert columns and rows and nx and ny and bias and noise and gain  # for type checkers
        return cls.build(name=name, columns=columns, rows=rows, amps_x=nx, amps_y=ny,
                         scan=ScanSizes(*(int(s or 0) for s in scan)), bias_adu=bias,
                         read_noise_e=noise, gain_e_per_adu=gain,
                         amp_names=None if names is None else [str(n) for n in names])

    @classmethod
    def build(cls, *, name: str, columns: int, rows: int, amps_x: int, amps_y: int,
              scan: ScanSizes, bias_adu: Sequence[float], read_noise_e: Sequence[float],
              gain_e_per_adu: Sequence[float],
              amp_names: Sequence[str] | None = None) -> DetectorGeometry:
        """A geometry from checked values (per-amp sequences in amp order)."""
        ac, ar = columns // amps_x, rows // amps_y
        amps = []
        for index in range(amps_x * amps_y):
            gy, gx = divmod(index, amps_x)
            area = Section(gx * ac + 1, (gx + 1) * ac, gy * ar + 1, (gy + 1) * ar)
            amps.append(Amplifier(
                number=index + 1,
                name=amp_names[index] if amp_names is not None else f"A{index + 1}",
                grid_x=gx, grid_y=gy, flip_x=2 * gx + 1 > amps_x, flip_y=2 * gy + 1 > amps_y,
                area=area, bias_adu=float(bias_adu[index]),
                read_noise_e=float(read_noise_e[index]),
                gain_e_per_adu=float(gain_e_per_adu[index])))
        return cls(name=name, columns=columns, rows=rows, amps_x=amps_x, amps_y=amps_y,
                   scan=scan, amplifiers=tuple(amps))

    @classmethod
    def single(cls, columns: int, rows: int, *, name: str = "camera", bias_adu: float = 0.0,
               read_noise_e: float = 0.0, gain_e_per_adu: float = 1.0) -> DetectorGeometry:
        """The default for a camera of this size: one amplifier, no pre/overscan."""
        return cls.from_config({"name": name, "columns": columns, "rows": rows,
                                "bias_adu": bias_adu, "read_noise_e": read_noise_e,
                                "gain_e_per_adu": gain_e_per_adu})

    def to_config(self) -> dict[str, Any]:
        """The ``detector:`` mapping of this geometry (:meth:`from_config` inverts it)."""
        amps = self.amplifiers
        return {"name": self.name, "columns": self.columns, "rows": self.rows,
                "amplifiers": [self.amps_x, self.amps_y],
                "prescan_columns": self.scan.prescan_columns,
                "overscan_columns": self.scan.overscan_columns,
                "prescan_rows": self.scan.prescan_rows,
                "overscan_rows": self.scan.overscan_rows,
                "bias_adu": [a.bias_adu for a in amps],
                "read_noise_e": [a.read_noise_e for a in amps],
                "gain_e_per_adu": [a.gain_e_per_adu for a in amps],
                "amp_names": [a.name for a in amps]}

    # properties

    @property
    def amp_columns(self) -> int:
        return self.columns // self.amps_x

    @property
    def amp_rows(self) -> int:
        return self.rows // self.amps_y

    @property
    def detsize(self) -> Section:
        return Section(1, self.columns, 1, self.rows)

    def full_roi(self) -> Roi:
        return Roi(1, self.columns, 1, self.rows)

    def amplifier(self, name: str) -> Amplifier:
        for amp in self.amplifiers:
            if amp.name == name:
                return amp
        raise InvalidValueError(f"amplifier {name!r} does not exist; the amplifiers are "
                                f"{', '.join(a.name for a in self.amplifiers)}")

    # ROI

    def check_roi(self, roi: Roi | None = None, col_bin: int = 1, row_bin: int = 1) -> Roi:
        """``roi`` (default: the whole detector) if it is valid with this binning."""
        roi = self.full_roi() if roi is None else roi
        for key, value in (("col_bin", col_bin), ("row_bin", row_bin)):
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise InvalidValueError(f"{key} = {value!r}: expected an integer >= 1")
        for key, value, size in (("first_col", roi.first_col, self.columns),
                                 ("last_col", roi.last_col, self.columns),
                                 ("first_row", roi.first_row, self.rows),
                                 ("last_row", roi.last_row, self.rows)):
            if isinstance(value, bool) or not isinstance(value, Integral) or not (
                    1 <= value <= size):
                raise InvalidValueError(
                    f"{key} = {value!r}: expected an integer from 1 to {size} (detector "
                    f"{self.columns} x {self.rows})")
        if roi.first_col > roi.last_col:
            raise InvalidValueError(f"first_col = {roi.first_col} is after last_col = "
                                    f"{roi.last_col}: expected first_col <= last_col")
        if roi.first_row > roi.last_row:
            raise InvalidValueError(f"first_row = {roi.first_row} is after last_row = "
                                    f"{roi.last_row}: expected first_row <= last_row")
        for amp in self.amplifiers:
            part = _overlap(roi, amp.area)
            if part is None:
                continue
            for axis, n, b in (("columns", part.ncols, col_bin), ("rows", part.nrows, row_bin)):
                if n % b:
                    key = "col_bin" if axis == "columns" else "row_bin"
                    raise InvalidValueError(
                        f"ROI {roi.section} has {n} {axis} on amplifier {amp.name}, not a "
                        f"multiple of {key} = {b}: every amplifier's part of the ROI must "
                        "be a whole number of binned pixels (see fit_roi)")
        return roi

    def fit_roi(self, roi: Roi | None = None, col_bin: int = 1, row_bin: int = 1) -> Roi:
        """The largest ROI inside ``roi`` that :meth:`check_roi` accepts with this binning:
        each outer end is moved inwards (a single amp's part loses its far end)."""
        roi = self.full_roi() if roi is None else roi
        self.check_roi(roi)  # bounds and order
        for key, value in (("col_bin", col_bin), ("row_bin", row_bin)):
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                raise InvalidValueError(f"{key} = {value!r}: expected an integer >= 1")
        c1, c2 = _fit_axis(roi.first_col, roi.last_col, self.amp_columns, col_bin, "col")
        r1, r2 = _fit_axis(roi.first_row, roi.last_row, self.amp_rows, row_bin, "row")
        return self.check_roi(Roi(c1, c2, r1, r2), col_bin, row_bin)

    # readout

    def layout(self, roi: Roi | None = None, col_bin: int = 1,
               row_bin: int = 1) -> ReadoutLayout:
        """Which amps a readout of ``roi`` at this binning reads, and how (no pixels)."""
        roi = self.check_roi(roi, col_bin, row_bin)
        s = self.scan
        amps = []
        for amp in self.amplifiers:
            part = _overlap(roi, amp.area)
            if part is None:
                continue
            nbc, nbr = part.ncols // col_bin, part.nrows // row_bin
            x0, y0 = s.prescan_columns, s.prescan_rows
            ccd = part.reversed(amp.flip_x, amp.flip_y)
            ax1, ay1 = amp.to_amp(ccd.x1, ccd.y1)
            ax2, ay2 = amp.to_amp(ccd.x2, ccd.y2)
            biassec = (Section(x0 + nbc + 1, x0 + nbc + s.overscan_columns, y0 + 1, y0 + nbr)
                       if s.overscan_columns else None)
            sections = AmpSections(
                amp=amp, datasec=Section(x0 + 1, x0 + nbc, y0 + 1, y0 + nbr), biassec=biassec,
                ccdsec=ccd, ampsec=Section(ax1, ax2, ay1, ay2), detsec=ccd,
                flip_x=amp.flip_x, flip_y=amp.flip_y, col_bin=col_bin, row_bin=row_bin,
                detsize=self.detsize, scan=s)
            c0 = (part.x1 - roi.first_col) // col_bin
            r0 = (part.y1 - roi.first_row) // row_bin
            amps.append(AmpLayout(
                sections=sections,
                shape=(y0 + nbr + s.overscan_rows, x0 + nbc + s.overscan_columns),
                image_rows=slice(r0, r0 + nbr), image_cols=slice(c0, c0 + nbc)))
        return ReadoutLayout(geometry=self, roi=roi, col_bin=col_bin, row_bin=row_bin,
                             amps=tuple(amps))

    def readout(self, image: np.ndarray, *, roi: Roi | None = None, col_bin: int = 1,
                row_bin: int = 1, image_bias_adu: float = 0.0, simulate: bool = True,
                rng: np.random.Generator | None = None) -> Readout:
        """Lay ``image`` (the binned ROI, shape (rows, cols), in ADU including the camera's
        bias ``image_bias_adu``) out as each amplifier's raw array; see the module notes."""
        layout = self.layout(roi, col_bin, row_bin)
        image = np.asarray(image)
        if image.shape != layout.image_shape or image.dtype.kind not in "uif":
            raise InvalidValueError(
                f"image: expected a numeric array of shape {layout.image_shape} (the "
                f"binned ROI {layout.roi.section} at {col_bin}x{row_bin}), got "
                f"{image.dtype} {image.shape}")
        if not simulate and self.scan.any:
            raise InvalidOperationError(
                f"detector {self.name!r} has prescan/overscan, which only a simulated "
                "readout can fill: a real camera uses a geometry without them")
        if simulate and rng is None:
            rng = np.random.default_rng()
        arrays = []
        for a in layout.amps:
            amp, sec = a.amp, a.sections
            raw = np.empty(a.shape, dtype=np.uint16)
            data = image[a.image_rows, a.image_cols]
            data = data[::-1 if amp.flip_y else 1, ::-1 if amp.flip_x else 1]
            rows, cols = sec.datasec.slices()
            raw[rows, cols] = _to_adu(data, amp.bias_adu - image_bias_adu)
            if simulate:
                assert rng is not None
                for region in (raw[:, : cols.start], raw[:, cols.stop :],
                               raw[: rows.start, cols], raw[rows.stop :, cols]):
                    if region.size:
                        noise = rng.normal(amp.bias_adu, amp.read_noise_adu, region.shape)
                        region[...] = _to_adu(noise, 0.0)
            arrays.append(raw)
        log.debug("read out %s: ROI %s, binning %dx%d, %d amplifiers", self.name,
                  layout.roi.section, col_bin, row_bin, len(arrays))
        return Readout(layout=layout, arrays=tuple(arrays))


def _overlap(roi: Roi, area: Section) -> Section | None:
    x1, x2 = max(roi.first_col, area.x1), min(roi.last_col, area.x2)
    y1, y2 = max(roi.first_row, area.y1), min(roi.last_row, area.y2)
    return Section(x1, x2, y1, y2) if x1 <= x2 and y1 <= y2 else None


def _fit_axis(first: int, last: int, amp_len: int, b: int, what: str) -> tuple[int, int]:
    """Move ``first``/``last`` inwards until every amp's part is a multiple of ``b``."""
    lo, hi = (first - 1) // amp_len, (last - 1) // amp_len
    if lo == hi:
        last = first + (last - first + 1) // b * b - 1
    else:
        if hi - lo > 1 and amp_len % b:
            raise InvalidValueError(
                f"{what}_bin = {b}: the ROI spans whole amplifiers of {amp_len} {what}s, "
                f"which {b} does not divide")
        lo_end, hi_start = (lo + 1) * amp_len, hi * amp_len + 1
        first = lo_end - (lo_end - first + 1) // b * b + 1
        last = hi_start + (last - hi_start + 1) // b * b - 1
    if first > last:
        raise InvalidValueError(
            f"{what}_bin = {b}: the ROI is too small to hold one binned pixel along {what}s")
    return first, last


def _to_adu(values: np.ndarray, offset: float) -> np.ndarray:
    """``values + offset`` rounded and clipped to 0..65535, as uint16."""
    if values.dtype == np.uint16 and offset == 0:
        return values
    if values.dtype.kind in "ui" and float(offset).is_integer():
        work = values.astype(np.int64 if values.dtype.itemsize >= 4 else np.int32)
        work += int(offset)
    else:
        work = np.rint(values.astype(np.float64) + offset)
        work[np.isnan(work)] = 0
    np.clip(work, 0, ADU_MAX, out=work)
    return work.astype(np.uint16)
