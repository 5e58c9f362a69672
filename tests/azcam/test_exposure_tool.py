"""azcam's exposure tool on a simulated instrument: files, names, records, headers, the
step-wise exposure, background exposures, abort, pause, sequences, test images, ROI,
format, comparison lamps, sendimage and display."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from nocturna.azcam.detector import DetectorGeometry
from nocturna.azcam.dispatch import CommandTable
from nocturna.azcam.filenames import FileNames
from nocturna.azcam.filetypes import read_bin
from nocturna.azcam.protocol import parse_request
from nocturna.azcam.tools.exposure import ExposureFlag, ExposureTool
from nocturna.core.atomic import temporary_files
from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    NotImplementedByDeviceError,
    OperationCancelledError,
)
from nocturna.core.storage import Storage
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.types import CameraState
from nocturna.instrument.frame import FrameContext
from nocturna.instrument.instrument import Instrument

NIGHT = "2026-12-15T10:00Z"
DAY_OBS = 20261214
MODEL = SimCameraModel(width=128, height=96, readout_s=0.5, readout_overhead_s=0.0,
                       noise_seed=3, hot_pixel_fraction=0.0)
DETECTOR = {"name": "sim-test", "columns": 128, "rows": 96, "amplifiers": [2, 2],
            "prescan_columns": 4, "overscan_columns": 8, "overscan_rows": 4,
            "bias_adu": [1000, 1100, 1200, 1300], "read_noise_e": 4.0,
            "gain_e_per_adu": 2.0}


pytestmark = pytest.mark.virtual_time  # time moves only when nothing can run


@pytest.fixture(autouse=True)
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


class FakeSender:
    enabled = True

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def send_image(self, localfile: Any, remotefile: str | None = None,
                         **kwargs: Any) -> None:
        self.calls.append({"localfile": Path(localfile), "bytes": Path(localfile).read_bytes(),
                           "remotefile": remotefile, **kwargs})


class FakeDisplay:
    def __init__(self) -> None:
        self.shown: list[tuple[Path, bytes]] = []

    async def show(self, path: Any) -> None:
        self.shown.append((Path(path), Path(path).read_bytes()))


class FakeLamps:
    """A lamp tool that records when (clock seconds) and around what each lamp switched."""

    def __init__(self, camera: SimCamera, names: tuple[str, ...] = ("HeAr", "Ne")) -> None:
        self.camera = camera
        self.names = names
        self.on: set[str] = set()
        self.events: list[tuple[str, str, float, CameraState]] = []

    def is_comp(self, imagetype: str) -> bool:
        return imagetype.lower() == "comp" or imagetype.lower() in \
            (n.lower() for n in self.names)

    def get_all_comps(self) -> list[str]:
        return list(self.names)

    @contextlib.asynccontextmanager
    async def lamps_lit(self, imagetype: str | None = None):
        name = next(n for n in self.names if n.lower() == (imagetype or "").lower())
        await self._switch(name, "on")
        try:
            yield [name]
        finally:
            await self._switch(name, "off")

    async def _switch(self, name: str, what: str) -> None:
        (self.on.add if what == "on" else self.on.discard)(name)
        state = (await self.camera.state()).camera_state
        self.events.append((name, what, self.camera.clock.timestamp(), state))


class CardSource:
    def __init__(self, cards: dict[str, Any] | Exception) -> None:
        self.cards = cards

    async def header_cards(self) -> dict[str, Any]:
        if isinstance(self.cards, Exception):
            raise self.cards
        return self.cards


@dataclass
class Rig:
    tool: ExposureTool
    camera: SimCamera
    instrument: Instrument
    storage: Storage
    folder: Path


async def make_rig(tmp_path: Path, *, detector: dict[str, Any] | None = None,
                   filetype: str = "FITS", image_format: str = "fits", **kwargs: Any) -> Rig:
    site = Config.load(environ={}).model.site
    camera = SimCamera("cam0", model=MODEL)  # no site: a fast, starless sky
    await camera.connect()
    storage = Storage.open(data_dir=tmp_path / "data")
    instrument = Instrument(camera, storage=storage, data_dir=tmp_path / "data",
                            context=FrameContext(camera=camera, site=site),
                            timezone=site.timezone, image_format=image_format)
    folder = tmp_path / "images"
    tool = ExposureTool(instrument, DetectorGeometry.from_config(detector or DETECTOR),
                        filenames=FileNames(folder, "night."), filetype=filetype,
                        simulate=True, rng=np.random.default_rng(1), **kwargs)
    return Rig(tool, camera, instrument, storage, folder)


@pytest.fixture
async def rig(tmp_path):
    rig = await make_rig(tmp_path)
    yield rig
    rig.storage.close()


def rows(rig: Rig) -> list[Any]:
    return rig.storage.list_exposures()


def images(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- files, names, records, headers ---------------------------------------------------


@pytest.mark.parametrize("filetype", ["FITS", "MEF", "BIN"])
async def test_expose_writes_the_file_type_at_the_named_path(tmp_path, filetype):
    rig = await make_rig(tmp_path, filetype=filetype)
    try:
        await rig.tool.expose(1.0, "object", "M 31")
        extension = "bin" if filetype == "BIN" else "fits"
        path = rig.folder / f"night.0001.{extension}"
        assert images(rig.folder) == [path.name]
        assert rig.tool.get_sequence_number() == 2
        assert rig.tool.get_filename() == (rig.folder / f"night.0002.{extension}").as_posix()
        (row,) = rows(rig)
        assert Path(row.path) == path and row.image_type == "OBJECT"
        assert row.image_id == f"cam0_{DAY_OBS}00001" and row.exposure_time_s == 1.0
        assert row.size_bytes == path.stat().st_size
        assert row.header["OBJECT"] == "M 31" and row.header["FILENAME"] == path.name
        if filetype == "BIN":
            # The assembled image: 2 x (48 + 4) rows, 2 x (4 + 64 + 8) columns, each amp's
            # data at its own bias (no sky without a site: bias + dark + noise).
            data = read_bin(path.read_bytes(), 152, 104)
            medians = [np.median(data[rows, cols]) for rows, cols in
                       ((slice(0, 48), slice(4, 68)), (slice(0, 48), slice(84, 148)),
                        (slice(56, 104), slice(4, 68)), (slice(56, 104), slice(84, 148)))]
            assert medians == pytest.approx([1000, 1100, 1200, 1300], abs=5)
            return
        with fits.open(path, checksum=True) as hdus:
            primary = hdus[0].header
            assert primary["IMAGETYP"] == "OBJECT" and primary["OBJECT"] == "M 31"
            assert primary["EXPTIME"] == 1.0 and primary["EXPREQ"] == 1.0
            assert primary["EXPID"] == DAY_OBS * 100_000 + 1
            assert primary["DETSIZE"] == "[1:128,1:96]" and primary["NAMPS"] == 4
            assert primary["CCDSUM"] == "1 1" and "DATE-OBS" in primary
            if filetype == "MEF":
                assert len(hdus) == 5
                assert [hdu.header["EXTNAME"] for hdu in hdus[1:]] == ["A1", "A2", "A3", "A4"]
                assert hdus[1].data.shape == (52, 76)
                assert hdus[1].header["BIASSEC"] == "[69:76,1:48]"
            else:
                assert hdus[0].data.shape == (104, 152)
                assert primary["DATASEC1"] == "[5:68,1:48]"
    finally:
        rig.storage.close()


@pytest.mark.parametrize("filetype", ["FITS", "MEF"])
async def test_fits_fz_images_are_rice_compressed_pixel_identical_and_recorded(tmp_path,
                                                                               filetype):
    written = {}
    for image_format in ("fits", "fits.fz"):
        rig = await make_rig(tmp_path / image_format, filetype=filetype,
                             image_format=image_format)
        try:
            await rig.tool.expose(1.0, "dark", "")
            (row,) = rows(rig)
        finally:
            rig.storage.close()
        path = Path(row.path)
        assert path.name == f"night.0001.{image_format}"
        assert row.size_bytes == path.stat().st_size
        with fits.open(path, checksum=True) as hdus:
            images = [hdu.data.copy() for hdu in hdus if hdu.data is not None]
            kinds = {type(hdu).__name__ for hdu in hdus[1:]}
        written[image_format] = (images, kinds, row.size_bytes)
    plain, packed = written["fits"], written["fits.fz"]
    assert len(plain[0]) == len(packed[0]) == (1 if filetype == "FITS" else 4)
    for a, b in zip(plain[0], packed[0], strict=True):
        assert b.dtype == np.uint16 and np.array_equal(a, b)
    assert packed[1] == {"CompImageHDU"} and packed[2] < plain[2]


async def test_sequence_numbers_increment_and_existing_files_are_not_overwritten(rig):
    await rig.tool.expose(0.5, "flat", "dome")
    await rig.tool.expose(0.5, "flat", "")
    assert images(rig.folder) == ["night.0001.fits", "night.0002.fits"]
    with fits.open(rig.folder / "night.0002.fits") as hdus:
        assert hdus[0].header["OBJECT"] == "dome"  # "" keeps the title (azcam)
    rig.tool.set_sequence_number(2)
    before = (rig.folder / "night.0002.fits").read_bytes()
    with pytest.raises(InvalidOperationError, match=r"night\.0002\.fits.*already exists"):
        await rig.tool.expose(0.5, "flat", "again")
    assert len(rows(rig)) == 2 and (rig.folder / "night.0002.fits").read_bytes() == before
    assert rig.tool.get_exposureflag() == [0, "NONE"]
    assert (await rig.camera.state()).camera_state == CameraState.IDLE  # never started
    rig.tool.set_overwrite(True)
    await rig.tool.expose(0.5, "flat", "again")
    with fits.open(rig.folder / "night.0002.fits") as hdus:
        assert hdus[0].header["OBJECT"] == "again"
    assert rig.tool.get_sequence_number() == 3 and len(rows(rig)) == 3


async def test_zero_is_zero_seconds_with_the_shutter_closed_and_keeps_the_time(rig):
    seen = []
    rig.instrument.frame_observers.append(seen.append)
    await rig.tool.expose(5.0, "zero", "bias")
    await rig.tool.expose(-1, "dark", "")
    zero, dark = seen
    assert (zero.duration_s, zero.light) == (0.0, False)
    assert (dark.duration_s, dark.light) == (5.0, False)
    assert rig.tool.get_exposuretime() == 5.0
    with fits.open(rig.folder / "night.0001.fits") as hdus:
        assert hdus[0].header["IMAGETYP"] == "ZERO" and hdus[0].header["EXPTIME"] == 0.0
    with fits.open(rig.folder / "night.0002.fits") as hdus:
        assert hdus[0].header["IMAGETYP"] == "DARK" and hdus[0].header["EXPTIME"] == 5.0


async def test_the_header_has_every_tools_cards_and_drops_bad_ones(tmp_path, caplog,
                                                                    monkeypatch):
    # a CLI test earlier in the run may have set up nocturna's logger without propagation
    monkeypatch.setattr(logging.getLogger("nocturna"), "propagate", True)
    sources = (CardSource({"CAMTEMP": (-110.5, "[C] detector"), "DEWTEMP": (float("nan"),
                           "[C] dewar"), "BAD KEY": (1, "x"), "TELFOCUS": (np.int64(5),
                                                                            "focus")}),
               CardSource(RuntimeError("telescope not answering")))
    rig = await make_rig(tmp_path, header_sources=sources)
    try:
        await rig.tool.expose(0.2, "object", "NGC 1")
        with fits.open(rig.folder / "night.0001.fits") as hdus:
            header = hdus[0].header
            assert header["CAMTEMP"] == -110.5 and header["TELFOCUS"] == 5
            assert "DEWTEMP" not in header and "BAD KEY" not in header
            assert header["OBSERVAT"] and header["SITELAT"]  # the instrument's site
            assert header["GROUPID"] and header["IMAGEID"]
        assert "telescope not answering" in caplog.text
    finally:
        rig.storage.close()


async def test_unknown_image_types_and_bad_values_are_refused(rig):
    with pytest.raises(InvalidValueError, match=r"imagetype 'sky'.*zero, object, flat, dark"):
        await rig.tool.expose(1.0, "sky")
    with pytest.raises(InvalidValueError, match="stuttered"):
        await rig.tool.expose(1.0, "stuttered")
    with pytest.raises(InvalidValueError, match="exposure_time"):
        rig.tool.set_exposuretime(-2)
    with pytest.raises(InvalidValueError, match="filetype 'jpg'"):
        rig.tool.set_filetype("jpg")
    rig.tool.set_filetype("2")
    assert rig.tool.get_filetype() == "BIN"
    rig.tool.set_image_type("FLAT")
    assert rig.tool.get_image_type() == "flat"
    assert rig.tool.get_image_types() == ["zero", "object", "flat", "dark"]
    assert images(rig.folder) == [] and rows(rig) == []


# --- step by step ------------------------------------------------------------------


async def test_step_by_step_and_out_of_order(rig):
    with pytest.raises(InvalidOperationError, match="call begin"):
        await rig.tool.integrate()
    await rig.tool.begin(0.5, "object", "steps")
    assert rig.tool.get_exposureflag() == [1, "EXPOSING"]
    with pytest.raises(InvalidOperationError, match=r"out of order, integrate\(\) is the next"):
        await rig.tool.readout()
    with pytest.raises(InvalidOperationError, match="exposure is in progress"):
        await rig.tool.begin(0.5, "object", "")
    with pytest.raises(InvalidOperationError, match="exposure is in progress"):
        await rig.tool.expose(0.5, "object", "")
    await rig.tool.integrate()
    assert rig.tool.get_exposureflag() == [5, "READ"]
    with pytest.raises(InvalidOperationError, match=r"readout\(\) is the next"):
        await rig.tool.end()
    await rig.tool.readout()
    assert images(rig.folder) == []
    await rig.tool.end()
    assert images(rig.folder) == ["night.0001.fits"] and len(rows(rig)) == 1
    assert rig.tool.get_exposureflag() == [0, "NONE"]
    with pytest.raises(InvalidOperationError, match="call begin"):
        await rig.tool.end()


async def test_abort_between_steps_frees_everything(rig):
    await rig.tool.begin(30.0, "object", "")
    await rig.tool.abort()
    assert rig.tool.get_exposureflag() == [2, "ABORT"]
    assert (await rig.camera.state()).camera_state == CameraState.IDLE
    with pytest.raises(InvalidOperationError, match="call begin"):
        await rig.tool.integrate()
    await rig.tool.expose(0.2, "object", "")  # the next exposure clears the flag
    assert rig.tool.get_exposureflag() == [0, "NONE"]
    assert images(rig.folder) == ["night.0001.fits"]


# --- background exposure, status, abort, pause ---------------------------------------


async def test_expose1_returns_at_once_and_status_follows_the_exposure(tmp_path):
    rig = await make_rig(tmp_path)
    try:
        await rig.tool.expose1(10.0, "object", "bg")
        status = await rig.tool.get_status()
        assert status["state"] == "exposing" and status["time_remaining"] == 10.0
        assert status["exposure_id"] == DAY_OBS * 100_000 + 1
        assert status["filename"].endswith("night.0001.fits")
        await asyncio.sleep(4.0)
        status = await rig.tool.get_status()
        assert status["time_remaining"] == pytest.approx(6.0)
        assert status["progress"] == pytest.approx(40.0)
        assert status["exposurelabel"] == "6.0 sec remaining"
        assert rig.tool.get_exposuretime_remaining() == pytest.approx(6.0)
        await asyncio.sleep(5.0)
        assert (await rig.tool.get_status())["time_remaining"] == pytest.approx(1.0)
        with pytest.raises(InvalidOperationError, match="in progress"):
            await rig.tool.expose1(1.0, "object", "")
        await rig.tool._task
        status = await rig.tool.get_status()
        assert status["state"] == "idle" and status["image_count"] == 1
        assert status["last_filename"].endswith("night.0001.fits")
        assert status["filename"].endswith("night.0002.fits")
    finally:
        rig.storage.close()


async def test_abort_mid_exposure_writes_nothing(tmp_path):
    rig = await make_rig(tmp_path)
    try:
        await rig.tool.expose1(10.0, "object", "")
        await asyncio.sleep(3.0)
        await rig.tool.abort()
        await rig.tool._task
        assert rig.tool.get_exposureflag() == [2, "ABORT"]
        assert (await rig.tool.get_status())["state"] == "aborted"
        assert (await rig.camera.state()).camera_state == CameraState.IDLE
        await asyncio.sleep(30.0)
        assert images(rig.folder) == [] and rows(rig) == []
        assert rig.tool.get_sequence_number() == 1
        assert not rig.instrument.busy
        # A blocking expose aborted from elsewhere raises.
        running = asyncio.ensure_future(rig.tool.expose(10.0, "object", ""))
        await asyncio.sleep(2.0)
        await rig.tool.abort()
        with pytest.raises(OperationCancelledError):
            await running
        assert images(rig.folder) == [] and rows(rig) == []
    finally:
        rig.storage.close()


async def test_pause_and_resume_extend_the_exposure(tmp_path, clock):
    rig = await make_rig(tmp_path)
    try:
        with pytest.raises(InvalidOperationError, match="no exposure is integrating"):
            await rig.tool.pause()
        t0 = clock.timestamp()
        await rig.tool.expose1(10.0, "object", "paused")
        await asyncio.sleep(3.0)
        await rig.tool.pause()
        assert rig.tool.get_exposureflag() == [6, "PAUSED"]
        assert (await rig.camera.state()).paused
        with pytest.raises(InvalidOperationError, match="already paused"):
            await rig.tool.pause()
        await asyncio.sleep(5.0)
        status = await rig.tool.get_status()
        assert status["state"] == "paused" and status["time_remaining"] == pytest.approx(7.0)
        await rig.tool.resume()
        assert rig.tool.get_exposureflag() == [1, "EXPOSING"]
        with pytest.raises(InvalidOperationError, match="no exposure is paused"):
            await rig.tool.resume()
        await rig.tool._task
        assert clock.timestamp() - t0 >= 15.0
        with fits.open(rig.folder / "night.0001.fits") as hdus:
            header = hdus[0].header
            assert header["EXPTIME"] == 10.0
            assert header["DARKTIME"] == pytest.approx(15.0)
            assert header["PAUSED"] == pytest.approx(5.0)
    finally:
        rig.storage.close()


async def test_a_camera_that_cannot_pause_says_so(rig, monkeypatch):
    async def no_pause() -> None:
        raise NotImplementedByDeviceError("camera 'cam0' cannot pause an exposure")

    monkeypatch.setattr(rig.camera, "pause_exposure", no_pause)
    await rig.tool.begin(30.0, "object", "")
    with pytest.raises(NotImplementedByDeviceError, match="cannot pause"):
        await rig.tool.pause()
    assert rig.tool.get_exposureflag() == [1, "EXPOSING"]
    await rig.tool.abort()


# --- sequences and test images ------------------------------------------------------


async def test_sequence_writes_every_file_with_one_group_and_the_flush_flag(rig):
    rig.tool.set_exposuretime(0.3)
    rig.tool.set_image_type("dark")
    rig.tool.set_image_title("darks")
    await rig.tool.sequence(3, 1, 0.5)
    names = images(rig.folder)
    assert names == ["night.0001.fits", "night.0002.fits", "night.0003.fits"]
    headers = []
    for name in names:
        with fits.open(rig.folder / name) as hdus:
            headers.append(hdus[0].header)
    assert {h["IMAGETYP"] for h in headers} == {"DARK"}
    assert [h["FLUSHARR"] for h in headers] == [1, 2, 2]
    assert [h["EXPID"] for h in headers] == [DAY_OBS * 100_000 + n for n in (1, 2, 3)]
    assert len(rows(rig)) == 3
    with pytest.raises(InvalidValueError, match="flush_array_flag"):
        await rig.tool.sequence(2, 5, 0)


async def test_abort_stops_a_background_sequence(tmp_path):
    rig = await make_rig(tmp_path)
    try:
        rig.tool.set_exposuretime(2.0)
        await rig.tool.sequence1(5, -1, -1)
        with pytest.raises(InvalidOperationError, match="background"):
            await rig.tool.expose(1.0, "object", "")
        for _ in range(200):  # until the second exposure is integrating
            await asyncio.sleep(0.1)
            if rig.tool.image_count == 1 and rig.tool._shot is not None:
                break
        await rig.tool.abort()
        await rig.tool._task
        assert images(rig.folder) == ["night.0001.fits"] and len(rows(rig)) == 1
        assert (await rig.tool.get_status())["state"] == "aborted"
    finally:
        rig.storage.close()


async def test_a_test_image_is_sent_and_shown_but_not_kept(tmp_path):
    sender, display = FakeSender(), FakeDisplay()
    rig = await make_rig(tmp_path, sendimage=sender, display=display)
    try:
        rig.tool.set_test_image(True)
        assert rig.tool.get_filename() == (rig.folder / "test.fits").as_posix()
        await rig.tool.expose(0.2, "object", "focus check")
        assert images(rig.folder) == [] and rows(rig) == []
        assert list(temporary_files(rig.folder)) == []
        assert rig.tool.get_sequence_number() == 1
        (call,) = sender.calls
        assert call["remotefile"] == "test.fits" and call["overwrite"] is True
        (shown,) = display.shown
        assert shown[1] == call["bytes"] and shown[1][:6] == b"SIMPLE"
        assert not call["localfile"].exists()
        rig.tool.set_test_image(False)
        await rig.tool.expose(0.2, "object", "kept")
        assert images(rig.folder) == ["night.0001.fits"]
    finally:
        rig.storage.close()


async def test_sendimage_and_display_get_the_file_and_its_description(tmp_path):
    sender, display = FakeSender(), FakeDisplay()
    rig = await make_rig(tmp_path, sendimage=sender, display=display, filetype="BIN")
    try:
        await rig.tool.expose(0.2, "flat", "")
        path = rig.folder / "night.0001.bin"
        (call,) = sender.calls
        assert call["localfile"] == path and call["remotefile"] == "night.0001.bin"
        assert call["bytes"] == path.read_bytes()
        assert (call["filetype"], call["size_x"], call["size_y"]) == (2, 152, 104)
        assert call["overwrite"] is False and call["display"] is True
        assert display.shown == []  # a BIN file has no header for a viewer
        rig.tool.set_filetype("FITS")
        await rig.tool.expose(0.2, "flat", "")
        fits_path = rig.folder / "night.0002.fits"
        assert display.shown == [(fits_path, fits_path.read_bytes())]
    finally:
        rig.storage.close()


async def test_a_failed_send_keeps_the_image_and_reports_the_error(tmp_path):
    class Refusing(FakeSender):
        async def send_image(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("connection refused")

    rig = await make_rig(tmp_path, sendimage=Refusing())
    try:
        with pytest.raises(OSError, match="connection refused"):
            await rig.tool.expose(0.2, "object", "")
        assert images(rig.folder) == ["night.0001.fits"] and len(rows(rig)) == 1
        assert rig.tool.get_exposureflag() == [11, "ERROR"]
        assert "connection refused" in (await rig.tool.get_status())["message"]
    finally:
        rig.storage.close()


# --- ROI and format -----------------------------------------------------------------


async def test_set_roi_reads_exactly_that_region(tmp_path):
    rig = await make_rig(tmp_path, filetype="MEF")
    try:
        await rig.tool.set_roi(1, 64, 1, 48, 2, 2)  # amplifier A1 only, binned 2x2
        assert rig.tool.get_roi() == [1, 64, 1, 48, 2, 2]
        await rig.tool.expose(0.2, "object", "")
        state = await rig.camera.state()
        assert (state.bin_x, state.start_x, state.start_y, state.num_x, state.num_y) == \
            (2, 0, 0, 32, 24)
        with fits.open(rig.folder / "night.0001.fits", checksum=True) as hdus:
            assert len(hdus) == 2 and hdus[1].header["EXTNAME"] == "A1"
            assert hdus[1].data.shape == (24 + 4, 4 + 32 + 8)
            assert hdus[1].header["DATASEC"] == "[5:36,1:24]"
            assert hdus[1].header["CCDSEC"] == "[1:64,1:48]"
            assert hdus[0].header["CCDSUM"] == "2 2"
        await rig.tool.set_roi(65, 128, -1, -1, 1, 1)  # -1 keeps the rows
        assert rig.tool.get_roi() == [65, 128, 1, 48, 1, 1]
        with pytest.raises(InvalidValueError, match="first_col = 2"):
            await rig.tool.set_roi(2, 5, 1, 48, 2, 2)
        with pytest.raises(InvalidValueError, match="at most 4x4"):
            await rig.tool.set_roi(1, 128, 1, 96, 8, 8)
        with pytest.raises(InvalidValueError, match="last_col"):
            await rig.tool.set_roi(1, 129, 1, 96, 1, 1)
        assert rig.tool.get_roi() == [65, 128, 1, 48, 1, 1]
        rig.tool.roi_reset()
        assert rig.tool.get_roi() == [1, 128, 1, 96, 1, 1]
    finally:
        rig.storage.close()


async def test_set_format_changes_the_overscan(tmp_path):
    rig = await make_rig(tmp_path, filetype="MEF")
    try:
        assert rig.tool.get_format() == [128, 4, 4, 8, 96, 0, 0, 4, 0]
        rig.tool.set_format(ns_overscan=16, np_overscan=0)
        assert rig.tool.get_format() == [128, 4, 4, 16, 96, 0, 0, 0, 0]
        await rig.tool.expose(0.2, "flat", "")
        with fits.open(rig.folder / "night.0001.fits") as hdus:
            ext = hdus[1]
            assert ext.data.shape == (48, 4 + 64 + 16)
            assert ext.header["BIASSEC"] == "[69:84,1:48]"
            assert abs(np.mean(ext.data[:, 68:]) - 1000) < 2  # amp A1's bias in overscan
        for kwargs, message in (({"ns_total": 100}, "ns_total = 100"),
                                ({"ns_underscan": 6}, "ns_underscan = 6"),
                                ({"np_frametransfer": 10}, "np_frametransfer"),
                                ({"ns_overscan": 65}, "ns_overscan = 65")):
            with pytest.raises(InvalidValueError, match=message):
                rig.tool.set_format(**kwargs)
        assert rig.tool.get_format() == [128, 4, 4, 16, 96, 0, 0, 0, 0]
    finally:
        rig.storage.close()


# --- comparison lamps ---------------------------------------------------------------


async def test_a_comparison_lights_its_lamp_only_during_the_exposure(tmp_path):
    rig = await make_rig(tmp_path)
    lamps = FakeLamps(rig.camera)
    rig.tool.instrument_tool = lamps
    try:
        assert rig.tool.get_image_types() == ["zero", "object", "flat", "dark", "HeAr", "Ne"]
        await rig.tool.expose(2.0, "HeAr", "arc")
        (on, off) = lamps.events
        assert on[:2] == ("HeAr", "on") and on[3] == CameraState.IDLE  # before the start
        assert off[:2] == ("HeAr", "off") and off[3] != CameraState.EXPOSING
        assert off[2] - on[2] == pytest.approx(2.0, abs=0.015)
        assert lamps.on == set()
        with fits.open(rig.folder / "night.0001.fits") as hdus:
            header = hdus[0].header
            assert header["IMAGETYP"] == "COMP" and header["COMPLAMP"] == "HeAr"
            assert header["LAMPS"] == "HeAr"
        assert rows(rig)[0].image_type == "COMP"
    finally:
        rig.storage.close()


async def test_lamps_go_off_when_a_comparison_is_aborted(tmp_path):
    rig = await make_rig(tmp_path)
    lamps = FakeLamps(rig.camera)
    rig.tool.instrument_tool = lamps
    try:
        await rig.tool.begin(30.0, "Ne", "")
        assert lamps.on == {"Ne"}
        await rig.tool.abort()
        assert lamps.on == set() and images(rig.folder) == []
    finally:
        rig.storage.close()


# --- the instrument around it -------------------------------------------------------


async def test_instrument_sequences_and_the_exposure_tool_exclude_each_other(rig):
    await rig.tool.begin(30.0, "object", "")
    with pytest.raises(InvalidOperationError, match="already running"):
        await rig.instrument.take_bias(1)
    await rig.tool.abort()
    rig.instrument._busy = True  # as during take_imgtype
    with pytest.raises(InvalidOperationError, match="running a sequence"):
        await rig.tool.expose(0.1, "object", "")
    rig.instrument._busy = False

    def closed(what: str) -> None:
        raise InvalidOperationError(f"instrument is DISABLED: {what} refused")

    rig.instrument.gate = closed
    with pytest.raises(InvalidOperationError, match="DISABLED: azcam exposure refused"):
        await rig.tool.expose(0.1, "object", "")
    assert images(rig.folder) == []


async def test_parameters_use_azcam_names(rig):
    parameters = {p.name: p for p in rig.tool.parameters()}
    parameters["imageroot"].set("run.")
    parameters["imagesequencenumber"].set("7")
    parameters["imagefiletype"].set("1")
    parameters["sendimage"].set("0")
    assert rig.tool.get_filename().endswith("run.0007.fits")
    assert parameters["imagefiletype"].get() == 1 and rig.tool.get_filetype() == "MEF"
    assert parameters["exposureflag"].get() == 0 and parameters["imagesizex"].get() == 128
    assert rig.tool.send_image is False


async def test_exposure_flags_are_azcams():  # async: the autouse clock needs the loop
    assert {flag.name: int(flag) for flag in ExposureFlag} == {
        "NONE": 0, "EXPOSING": 1, "ABORT": 2, "PAUSE": 3, "RESUME": 4, "READ": 5,
        "PAUSED": 6, "READOUT": 7, "SETUP": 8, "WRITING": 9, "GUIDEERROR": 10, "ERROR": 11}


async def test_azcam_commands_reach_the_tool(rig):
    table = CommandTable({"exposure": rig.tool})

    async def run(line: str) -> Any:
        return await table.execute(parse_request(line))

    await run('exposure.set_roi 1 128 1 96 2 2')
    await run("exposure.set_filetype MEF")
    await run('exposure.expose 0.2 flat "twilight flat"')
    assert images(rig.folder) == ["night.0001.fits"]
    assert await run("exposure.check_image_ready") is True
    assert await run("exposure.check_image_ready") is False
    await run("exposure.expose1 exposure_time=0.2 image_type=dark image_title=d")
    await asyncio.wait_for(rig.tool._task, 10)
    assert await run("exposure.get_exposureflag") == [0, "NONE"]
    await run("exposure.test 0.1 1")
    assert images(rig.folder) == ["night.0001.fits", "night.0002.fits"]
    assert await run("exposure.get_image_type") == "dark"
    assert await run("exposure.get_test_image") is False
    with fits.open(rig.folder / "night.0001.fits") as hdus:
        assert hdus[0].header["OBJECT"] == "twilight flat" and hdus[0].header["NAMPS"] == 4
        assert hdus[1].data.shape == (24 + 4, 4 + 32 + 8)
    await run("exposure.begin 30 object x")
    await run("exposure.reset")
    assert await run("exposure.get_exposureflag") == [0, "NONE"]
    assert (await run("exposure.get_status"))["state"] == "idle"


@pytest.mark.parametrize(("amplifiers", "wcs"), [([1, 1], True), ([2, 2], False)])
async def test_the_wcs_follows_the_prescan_and_is_dropped_for_several_amps(
        tmp_path, amplifiers, wcs):
    from nocturna.devices.sim.mount import SimMount
    from nocturna.instrument.frame import gather_description

    rig = await make_rig(tmp_path, detector={**DETECTOR, "amplifiers": amplifiers,
                                             "bias_adu": 1000})
    mount = SimMount(latitude_deg=19.54, longitude_deg=-155.58, elevation_m=3400)
    await mount.connect()
    await mount.unpark()
    await mount.set_tracking(True)
    rig.instrument.context.mount = mount
    seen = []
    rig.instrument.frame_observers.append(seen.append)
    try:
        await rig.tool.expose(0.2, "object", "")
        with fits.open(rig.folder / "night.0001.fits") as hdus:
            header = hdus[0].header
        if not wcs:
            assert "CRPIX1" not in header and "CTYPE1" not in header
            return
        plain = (await gather_description(seen[0], rig.instrument.context)).header()
        assert header["CRPIX1"] == pytest.approx(plain["CRPIX1"] + 4)  # 4 prescan columns
        assert header["CRPIX2"] == pytest.approx(plain["CRPIX2"])
        assert header["CTYPE1"] == plain["CTYPE1"]
    finally:
        rig.storage.close()
