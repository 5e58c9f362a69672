"""Instrument sequences: frames, headers, exposure and group ids, setup, checkpoints."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from instrument_helpers import DAY_OBS, NIGHT, header_of, make_rig

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.errors import InvalidOperationError, InvalidValueError, StorageError
from nocturna.core.events import get_event_bus
from nocturna.core.storage import Storage
from nocturna.images.fits import read_fits
from nocturna.instrument.exposure_ids import (
    RESERVE_AHEAD,
    observing_day,
    split_exposure_id,
)

pytestmark = pytest.mark.virtual_time


@pytest.fixture(autouse=True)
async def clock():
    with use_clock(VirtualClock(NIGHT)) as clock:
        yield clock


@pytest.fixture
async def rig(tmp_path: Path):
    rig = await make_rig(tmp_path)
    yield rig
    rig.storage.close()


SEQUENCES = [
    ("take_bias", (2,), {}, "BIAS"),
    ("take_darks", (1.0, 2), {}, "DARK"),
    ("take_flats", (0.5, 2), {}, "FLAT"),
    ("take_object", (1.0, 2), {}, "OBJECT"),
    ("take_engtest", (1.0, 2), {}, "ENGTEST"),
    ("take_focus", (1.0, 2), {}, "FOCUS"),
    ("take_cwfs", (1.0, 2), {}, "CWFS"),
    ("take_acq", (), {"n": 2}, "ACQ"),
    ("take_stuttered", (0.5, 3, 10), {"n": 2}, "STUTTERED"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "imagetyp"), SEQUENCES)
async def test_every_sequence_writes_and_records_its_frames(rig, method, args, kwargs,
                                                            imagetyp) -> None:
    ids = await getattr(rig.instrument, method)(*args, **kwargs)
    assert len(ids) == 2
    for exposure_id in ids:
        header = header_of(rig, exposure_id)
        assert header["IMAGETYP"] == imagetyp
        assert header["EXPID"] == exposure_id
        record = rig.storage.get_exposure(f"cam0_{exposure_id}")
        assert record.image_type == imagetyp
        assert Path(record.path).is_file()
        assert Path(record.path).parent.name == str(DAY_OBS)


async def test_exposure_ids_are_day_obs_and_a_sequence_number(rig) -> None:
    ids = await rig.instrument.take_bias(3)
    assert ids == [DAY_OBS * 100_000 + n for n in (1, 2, 3)]
    assert [split_exposure_id(i) for i in ids] == [(DAY_OBS, 1), (DAY_OBS, 2), (DAY_OBS, 3)]
    header = header_of(rig, ids[0])
    assert (header["DAYOBS"], header["SEQNUM"]) == (str(DAY_OBS), 1)


async def test_observing_day_rolls_over_at_local_noon() -> None:
    hst = "US/Hawaii"  # UTC-10
    assert str(observing_day(datetime(2026, 12, 15, 21, 59, tzinfo=UTC), hst)) == "2026-12-14"
    assert str(observing_day(datetime(2026, 12, 15, 22, 0, tzinfo=UTC), hst)) == "2026-12-15"


async def test_exposure_ids_continue_across_a_restart(tmp_path) -> None:
    first = await make_rig(tmp_path)
    before = await first.instrument.take_bias(2)
    first.storage.close()
    second = await make_rig(tmp_path, storage=Storage.open(data_dir=tmp_path / "data"))
    after = await second.instrument.take_bias(1)
    second.storage.close()
    assert after == [before[-1] + 1]


async def test_a_sequence_reserves_its_numbers_ahead_and_uses_them_all(rig) -> None:
    reserved: list[int] = []

    async def checkpoint(message: str) -> None:
        reserved.append(rig.storage.last_exposure_number("cam0", DAY_OBS))

    ids = await rig.instrument.take_bias(RESERVE_AHEAD + 2, checkpoint=checkpoint)
    assert ids == [DAY_OBS * 100_000 + n for n in range(1, RESERVE_AHEAD + 3)]
    # before frame 1 nothing; then a block of RESERVE_AHEAD; then the last two
    assert reserved == [0, *[RESERVE_AHEAD] * RESERVE_AHEAD, RESERVE_AHEAD + 2]
    assert rig.storage.last_exposure_number("cam0", DAY_OBS) == RESERVE_AHEAD + 2


async def test_numbers_reserved_ahead_are_never_shared(rig, tmp_path) -> None:
    other = Storage.open(data_dir=tmp_path / "data")  # another process on the same database
    taken_by_other: list[int] = []

    async def checkpoint(message: str) -> None:
        if message.startswith("bias 2 "):
            taken_by_other.extend(other.reserve_exposure_numbers("cam0", DAY_OBS))

    try:
        ids = await rig.instrument.take_bias(RESERVE_AHEAD + 3, checkpoint=checkpoint)
    finally:
        other.close()
    numbers = [split_exposure_id(i)[1] for i in ids]
    assert taken_by_other == [RESERVE_AHEAD + 1]
    assert numbers == [*range(1, RESERVE_AHEAD + 1), *range(RESERVE_AHEAD + 2,
                                                            RESERVE_AHEAD + 5)]


async def test_a_stopped_sequence_drops_the_numbers_it_did_not_use(rig) -> None:
    async def checkpoint(message: str) -> None:
        if message.startswith("bias 3 "):
            raise RuntimeError("operator stop")

    with pytest.raises(RuntimeError, match="operator stop"):
        await rig.instrument.take_bias(25, checkpoint=checkpoint)
    (next_id,) = await rig.instrument.take_bias(1)
    assert split_exposure_id(next_id)[1] == RESERVE_AHEAD + 1  # a gap, never a repeat


async def test_frames_of_one_call_share_a_generated_group_id(rig, clock) -> None:
    before = clock.now()
    first = await rig.instrument.take_darks(0.1, 2)
    second = await rig.instrument.take_darks(0.1, 1)
    groups = [header_of(rig, i)["GROUPID"] for i in (*first, *second)]
    assert groups[0] == groups[1] != groups[2]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", groups[0])
    tai = datetime.fromisoformat(groups[0]).replace(tzinfo=UTC)
    assert timedelta(seconds=37) <= tai - before <= timedelta(seconds=37) + (clock.now() - before)


async def test_given_group_id_and_reasons_go_into_every_header(rig) -> None:
    ids = await rig.instrument.take_object(0.5, 2, group_id="night-42", reason="test",
                                           program="survey", note="clear sky",
                                           test_type="LINEARITY")
    for exposure_id in ids:
        header = header_of(rig, exposure_id)
        assert (header["GROUPID"], header["REASON"], header["PROGRAM"], header["NOTE"],
                header["TESTTYPE"]) == ("night-42", "test", "survey", "clear sky", "LINEARITY")


async def test_unset_reasons_are_written_empty(rig) -> None:
    (exposure_id,) = await rig.instrument.take_bias(1)
    header = header_of(rig, exposure_id)
    assert [header[k] for k in ("REASON", "PROGRAM", "NOTE", "TESTTYPE")] == ["", "", "", ""]


async def test_filter_moves_before_the_first_frame(rig) -> None:
    with get_event_bus().subscribe("*") as events:
        ids = await rig.instrument.take_object(0.5, 2, filter="R")
        topics = [e.topic for e in events.drain()]
    assert [header_of(rig, i)["FILTER"] for i in ids] == ["R", "R"]
    assert topics.index("filterwheel.move.finished") < topics.index("instrument.progress")


async def test_filter_change_applies_the_focus_offset(rig) -> None:
    before = (await rig.focuser.state()).position
    await rig.instrument.setup_instrument(filter="Ha")  # L (0) → Ha (40 steps)
    assert (await rig.focuser.state()).position == before + 40


async def test_unknown_setup_keyword_is_refused_before_anything_moves(rig) -> None:
    with pytest.raises(InvalidValueError, match=r"unknown setup keyword.*filtre.*filter"):
        await rig.instrument.take_object(1.0, 1, filtre="R")
    with pytest.raises(InvalidValueError, match=r"no filter named 'Z'"):
        await rig.instrument.take_object(1.0, 1, filter="Z")
    assert (await rig.wheel.state()).name == "L"
    assert rig.storage.list_exposures() == []
    assert rig.storage.last_exposure_number("cam0", DAY_OBS) == 0


@pytest.mark.parametrize(("call", "message"), [
    (lambda i: i.take_bias(0), r"n must be an integer >= 1"),
    (lambda i: i.take_darks(-1, 1), r"exposure time must be a number"),
    (lambda i: i.take_imgtype("BIAS", 2.0, 1), r"bias frame has no exposure time"),
    (lambda i: i.take_imgtype("SELFIE", 1.0, 1), r"unknown image type 'SELFIE'"),
    (lambda i: i.take_object(1.0, 1, n_snaps=0), r"n_snaps must be an integer"),
    (lambda i: i.take_imgtype("STUTTERED", 1.0, 1), r"need n_shift and row_shift"),
    (lambda i: i.take_object(1.0, 1, note="ünïcode"), r"printable ASCII"),
    (lambda i: i.take_object(1.0, 1, grating="holo"), r"has no spectrograph"),
])
async def test_bad_requests_are_refused_with_the_reason(rig, call, message) -> None:
    with pytest.raises(InvalidValueError, match=message):
        await call(rig.instrument)
    assert rig.storage.list_exposures() == []


async def test_checkpoint_cancels_and_keeps_the_frames_taken(rig) -> None:
    messages: list[str] = []

    async def checkpoint(message: str) -> None:
        messages.append(message)
        if len(messages) == 3:
            raise RuntimeError("operator stop")

    with get_event_bus().subscribe("instrument.sequence") as events:
        with pytest.raises(RuntimeError, match="operator stop"):
            await rig.instrument.take_darks(0.5, 5, checkpoint=checkpoint)
        phases = [e.data["phase"] for e in events.drain()]
    assert messages[0].startswith("dark 1 of 5")
    records = rig.storage.list_exposures()
    assert len(records) == 2
    assert all(Path(r.path).is_file() for r in records)
    assert phases == ["started", "failed"]


async def test_cancelling_the_task_aborts_the_exposure_and_keeps_earlier_frames(
        rig, clock) -> None:
    task = asyncio.ensure_future(rig.instrument.take_darks(100.0, 3))
    while len(rig.storage.list_exposures()) < 1:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(rig.storage.list_exposures()) == 1
    assert (await rig.camera.state()).camera_state.name == "IDLE"


async def test_snaps_are_visits_of_several_frames(rig) -> None:
    ids = await rig.instrument.take_object(0.2, 2, n_snaps=2)
    cards = [(header_of(rig, i)["VISIT"], header_of(rig, i)["SNAP"],
              header_of(rig, i)["NSNAPS"]) for i in ids]
    assert cards == [(1, 1, 2), (1, 2, 2), (2, 1, 2), (2, 2, 2)]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_more_than_two_snaps_warns(rig) -> None:
    records = _Records()
    logger = logging.getLogger("nocturna.instrument.instrument")
    logger.addHandler(records)
    try:
        ids = await rig.instrument.take_object(0.1, 1, n_snaps=3)
    finally:
        logger.removeHandler(records)
    assert len(ids) == 3
    assert any("3 snaps per visit" in m for m in records.messages)


async def test_progress_events_follow_each_frame(rig) -> None:
    with get_event_bus().subscribe("instrument.progress") as events:
        await rig.instrument.take_bias(2)
        await asyncio.sleep(0)
        seen = [(e.data["index"], e.data["phase"]) for e in events.drain()]
    assert seen[:2] == [(1, "exposing"), (1, "reading")]
    for index in (1, 2):
        phases = [p for i, p in seen if i == index]
        assert phases == ["exposing", "reading", "written"]


async def test_a_second_sequence_while_one_runs_is_refused(rig) -> None:
    task = asyncio.ensure_future(rig.instrument.take_darks(50.0, 1))
    await asyncio.sleep(0.002)
    with pytest.raises(InvalidOperationError, match="already running"):
        await rig.instrument.take_bias(1)
    await task


async def test_a_frame_that_cannot_be_written_stops_the_sequence(rig, tmp_path) -> None:
    blocker = tmp_path / "data" / "images"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    with pytest.raises((OSError, StorageError)):
        await rig.instrument.take_bias(3)
    assert rig.storage.list_exposures() == []


async def test_azcam_expose_takes_one_frame_with_a_title(rig) -> None:
    exposure_id = await rig.instrument.expose(0, "zero", "bias check")
    header = header_of(rig, exposure_id)
    assert (header["IMAGETYP"], header["OBJECT"], header["EXPTIME"]) == ("ZERO", "bias check",
                                                                         0.0)
    flat = header_of(rig, await rig.instrument.expose(0.2, "flat"))
    assert flat["IMAGETYP"] == "FLAT"
    with pytest.raises(InvalidValueError, match="unknown image type 'comp2'"):
        await rig.instrument.expose(1.0, "comp2")


async def test_dark_frames_keep_the_shutter_closed(rig) -> None:
    (dark,) = await rig.instrument.take_darks(5.0, 1)
    (light,) = await rig.instrument.take_object(5.0, 1)
    dark_data = read_fits(rig.storage.get_exposure(f"cam0_{dark}").path)[0]
    light_data = read_fits(rig.storage.get_exposure(f"cam0_{light}").path)[0]
    assert np.median(light_data) > np.median(dark_data)


async def test_stuttered_frames_record_the_shifts(rig) -> None:
    (exposure_id,) = await rig.instrument.take_stuttered(0.5, 4, 12)
    header = header_of(rig, exposure_id)
    assert (header["NSHIFT"], header["ROWSHIFT"], header["EXPTIME"]) == (4, 12, 2.0)


async def test_spectrograph_setup_before_the_first_frame(tmp_path) -> None:
    rig = await make_rig(tmp_path, spectrograph=True)
    available = await rig.instrument.get_available_setup()
    assert available[1] == ["empty", "holo4_003", "ronchi170lpmm"]
    assert available[2] == (0.0, 75.0)
    ids = await rig.instrument.take_object(0.5, 1, filter="R", grating="holo4_003",
                                           linear_stage=30.0)
    header = header_of(rig, ids[0])
    assert (header["FILTER"], header["GRATING"], header["LINSPOS"]) == ("R", "holo4_003", 30.0)
    assert await rig.instrument.get_setup() == ("R", "holo4_003", 30.0)
    with pytest.raises(InvalidValueError, match=r"outside 0..75 mm"):
        await rig.instrument.take_object(0.5, 1, filter="G", linear_stage=80)
    assert (await rig.wheel.state()).name == "R"
    rig.storage.close()


async def test_spectrograph_filter_when_there_is_no_wheel(tmp_path) -> None:
    rig = await make_rig(tmp_path, spectrograph=True, wheel=False)
    filters, _, _ = await rig.instrument.get_available_setup()
    assert filters == ["empty", "RG610", "OG550", "BG40"]
    (exposure_id,) = await rig.instrument.take_object(0.5, 1, filter="RG610")
    assert header_of(rig, exposure_id)["FILTER"] == "RG610"
    rig.storage.close()
