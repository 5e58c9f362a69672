"""The region read and its layout: azcam's ROI with binning (``set_roi``) and
per-amplifier format (``set_format``), checked against the detector and the camera."""

from __future__ import annotations

import dataclasses

from nocturna.azcam.detector import DetectorGeometry, Roi, ScanSizes
from nocturna.azcam.filetypes import MAX_FITS_AMPS, FileType
from nocturna.azcam.remote import remote
from nocturna.azcam.tools.exposure.base import ExposureBase
from nocturna.azcam.values import integer
from nocturna.core.errors import InvalidOperationError, InvalidValueError

_FORMAT_KEYS = ("ns_total", "ns_predark", "ns_underscan", "ns_overscan", "np_total",
                "np_predark", "np_underscan", "np_overscan", "np_frametransfer")


def _keep(given: list[int], current: list[int], keys: tuple[str, ...]) -> list[int]:
    """``given`` with each -1 replaced by the ``current`` value (azcam's "keep")."""
    return [old if (value := integer(new, key, -1)) == -1 else value
            for new, old, key in zip(given, current, keys, strict=True)]


class ReadoutFormat(ExposureBase):
    """The ROI and format commands, and the check that a readout fits the camera."""

    geometry: DetectorGeometry
    roi: Roi
    col_bin: int
    row_bin: int
    predark: tuple[int, int]  # prescan columns, rows of the detector (azcam's predark)

    # -- region of interest
    @remote
    async def set_roi(self, first_col: int = -1, last_col: int = -1, first_row: int = -1,
                      last_row: int = -1, col_bin: int = -1, row_bin: int = -1,
                      roi_num: int = 0) -> None:
        """The region read (1-based inclusive unbinned detector pixels) and the binning
        of the next exposures; -1 keeps a value. The camera reads exactly this region."""
        _one_roi(roi_num)
        chosen = _keep([first_col, last_col, first_row, last_row, col_bin, row_bin],
                       self.get_roi(), ("first_col", "last_col", "first_row", "last_row",
                                        "col_bin", "row_bin"))
        roi = Roi(*chosen[:4])
        await self._check_frame(roi, chosen[4], chosen[5])
        self.roi, self.col_bin, self.row_bin = roi, chosen[4], chosen[5]

    async def _check_frame(self, roi: Roi, col_bin: int, row_bin: int) -> None:
        self.geometry.check_roi(roi, col_bin, row_bin)
        for key, first, binning in (("first_col", roi.first_col, col_bin),
                                    ("first_row", roi.first_row, row_bin)):
            if (first - 1) % binning:
                raise InvalidValueError(
                    f"{key} = {first}: with binning {binning} the region must start on a "
                    f"binned pixel ({key} - 1 a multiple of {binning})")
        info = await self.camera.info()
        if col_bin > info.max_bin_x or row_bin > info.max_bin_y:
            raise InvalidValueError(f"binning {col_bin}x{row_bin}: camera {self.camera.name!r}"
                                    f" bins at most {info.max_bin_x}x{info.max_bin_y}")
        if col_bin != row_bin and not info.can_asymmetric_bin:
            raise InvalidValueError(f"binning {col_bin}x{row_bin}: camera {self.camera.name!r}"
                                    " bins both axes alike")

    @remote
    def get_roi(self, roi_num: int = 0) -> list[int]:
        """``[first_col, last_col, first_row, last_row, col_bin, row_bin]``."""
        _one_roi(roi_num)
        return [self.roi.first_col, self.roi.last_col, self.roi.first_row, self.roi.last_row,
                self.col_bin, self.row_bin]

    @remote
    def roi_reset(self) -> None:
        """The whole detector at the current binning (trimmed to whole binned pixels)."""
        self.roi = self.geometry.fit_roi(None, self.col_bin, self.row_bin)

    # -- format
    @remote
    def set_format(self, ns_total: int = -1, ns_predark: int = -1, ns_underscan: int = -1,
                   ns_overscan: int = -1, np_total: int = -1, np_predark: int = -1,
                   np_underscan: int = -1, np_overscan: int = -1,
                   np_frametransfer: int = -1) -> None:
        """azcam's per-amplifier format; -1 keeps a value. The totals are the detector's
        imaging columns/rows (they cannot change); ``*_underscan`` (≤ ``*_predark``) are
        the prescan pixels read, ``*_overscan`` the overscan; no frame transfer."""
        g = self.geometry
        given = [ns_total, ns_predark, ns_underscan, ns_overscan, np_total, np_predark,
                 np_underscan, np_overscan, np_frametransfer]
        new = dict(zip(_FORMAT_KEYS, _keep(given, self.get_format(), _FORMAT_KEYS),
                       strict=True))
        if new["ns_total"] != g.columns or new["np_total"] != g.rows:
            raise InvalidValueError(
                f"ns_total = {new['ns_total']}, np_total = {new['np_total']}: detector "
                f"{g.name!r} has {g.columns} x {g.rows} imaging pixels, which cannot change")
        if new["np_frametransfer"] != 0:
            raise InvalidValueError(f"np_frametransfer = {new['np_frametransfer']}: this "
                                    "detector has no frame-transfer area (expected 0)")
        for axis, limit in (("ns", g.amp_columns), ("np", g.amp_rows)):
            predark, under, over = (new[f"{axis}_predark"], new[f"{axis}_underscan"],
                                    new[f"{axis}_overscan"])
            if under > predark:
                raise InvalidValueError(f"{axis}_underscan = {under}: cannot read more "
                                        f"prescan than {axis}_predark = {predark}")
            for key, value in ((f"{axis}_predark", predark), (f"{axis}_overscan", over)):
                if value > limit:
                    raise InvalidValueError(f"{key} = {value}: expected at most {limit} "
                                            "(one amplifier's size)")
        self.geometry = dataclasses.replace(g, scan=ScanSizes(
            new["ns_underscan"], new["ns_overscan"], new["np_underscan"],
            new["np_overscan"]))
        self.predark = (new["ns_predark"], new["np_predark"])

    @remote
    def get_format(self) -> list[int]:
        """azcam's format list: ns_total, ns_predark, ns_underscan, ns_overscan, np_total,
        np_predark, np_underscan, np_overscan, np_frametransfer."""
        g, s = self.geometry, self.geometry.scan
        return [g.columns, self.predark[0], s.prescan_columns, s.overscan_columns, g.rows,
                self.predark[1], s.prescan_rows, s.overscan_rows, 0]

    # -- before an exposure
    async def _check_readout(self, filetype: FileType) -> None:
        """The detector is the camera's size and ``filetype`` holds the amps read."""
        info = await self.camera.info()
        g = self.geometry
        if (info.width, info.height) != (g.columns, g.rows):
            raise InvalidOperationError(
                f"detector {g.name!r} is {g.columns} x {g.rows} but camera "
                f"{self.camera.name!r} is {info.width} x {info.height}: configure a "
                "geometry of the camera's size")
        if filetype is FileType.FITS and len(g.layout(
                self.roi, self.col_bin, self.row_bin).amps) > MAX_FITS_AMPS:
            raise InvalidOperationError(f"filetype FITS holds at most {MAX_FITS_AMPS} "
                                        "amplifiers; set_filetype('MEF')")


def _one_roi(roi_num: int) -> None:
    if roi_num != 0:
        raise InvalidValueError(f"roi_num must be 0 (one ROI), got {roi_num}")
