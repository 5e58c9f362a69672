"""What comes back is what went in: times, Quantities, astropy Times; default times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import astropy.units as u
import pytest
from astropy.time import Time

from nocturna.core.clock import SimClock
from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import Storage

T0 = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)


def test_quantities_and_times_round_trip_in_json(storage: Storage) -> None:
    data = {
        "temperature": -3.5 * u.deg_C,
        "wind": [2.0, 4.5] * u.m / u.s,
        "measured": Time("2026-12-15T03:59:30.250", scale="utc"),
        "sent": T0,
        "nested": {"altitude": 42 * u.deg},
    }
    storage.add_telemetry("weather", data, time=T0)
    (back,) = storage.list_telemetry("weather")
    assert back.data["temperature"] == -3.5 * u.deg_C
    assert list(back.data["wind"]) == list([2.0, 4.5] * u.m / u.s)
    assert back.data["measured"] == Time("2026-12-15T03:59:30.250", scale="utc")
    assert back.data["sent"] == T0
    assert back.data["nested"]["altitude"] == 42 * u.deg


def test_quantity_round_trips_in_a_fits_header(storage: Storage) -> None:
    record = storage.add_exposure(
        "img-1",
        camera="cam0",
        image_type="object",
        exposure_time_s=1,
        start_time=T0,
        path="/x.fits",
        header={"CCD-TEMP": -20 * u.deg_C},
    )
    assert storage.get_exposure(record.image_id).header == {"CCD-TEMP": -20 * u.deg_C}


def test_times_come_back_aware_in_utc(storage: Storage) -> None:
    hawaii = timezone(timedelta(hours=-10))
    storage.add_transition("ready", "scheduling", time=datetime(2026, 12, 14, 18, 0, tzinfo=hawaii))
    (back,) = storage.list_transitions()
    assert back.time == T0
    assert back.time.utcoffset() == timedelta(0)
    assert back.time.tzinfo is UTC


def test_naive_times_are_taken_as_utc(storage: Storage) -> None:
    storage.add_transition("ready", "scheduling", time=datetime(2026, 12, 15, 4, 0))
    assert storage.list_transitions()[0].time == T0


def test_astropy_time_is_accepted_as_a_time(storage: Storage) -> None:
    record = storage.add_telemetry("weather", {}, time=Time("2026-12-15T04:00:00", scale="tai"))
    assert record.time == T0 - timedelta(seconds=37)


def test_sub_second_times_are_kept(storage: Storage) -> None:
    when = T0 + timedelta(microseconds=123456)
    assert storage.add_telemetry("weather", {}, time=when).time == when


def test_default_times_come_from_the_nocturna_clock(storage: Storage, sim_clock: SimClock) -> None:
    observation = storage.add_observation("M42")
    exposure = storage.add_exposure(
        "img-1", camera="cam0", image_type="dark", exposure_time_s=1, start_time=T0, path="/x"
    )
    reading = storage.add_telemetry("weather", {"safe": True}, current=True)
    transition = storage.add_transition(None, "sleeping")
    current = storage.get_current("weather")
    assert current is not None
    stamps = [observation.created_at, exposure.created_at, reading.time, transition.time]
    assert [*stamps, current.time] == [sim_clock.now()] * 5 == [T0] * 5


def test_default_time_follows_the_clock_as_it_advances(
    storage: Storage, sim_clock: SimClock
) -> None:
    storage.add_telemetry("weather", {"n": 1})
    sim_clock.advance(90)
    latest = storage.list_telemetry("weather", limit=1)[0]
    assert storage.add_telemetry("weather", {"n": 2}).time == latest.time + timedelta(seconds=90)


def test_value_json_cannot_hold_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="weather data cannot be stored as JSON"):
        storage.add_telemetry("weather", {"reading": object()})


def test_nan_is_refused_on_every_backend(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="header cannot be stored as JSON: Out of range"):
        storage.add_exposure(
            "img-1",
            camera="cam0",
            image_type="object",
            exposure_time_s=1,
            start_time=T0,
            path="/x.fits",
            header={"AIRMASS": float("nan")},
        )


def test_refused_value_leaves_nothing_behind(storage: Storage) -> None:
    with pytest.raises(InvalidValueError):
        storage.add_telemetry("weather", {"reading": object()}, current=True)
    assert (storage.list_telemetry(), storage.get_all_current()) == ([], {})
