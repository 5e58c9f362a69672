"""Exposures: one row per image file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import astropy.units as u
import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import ExposureRecord, Storage

T0 = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)


def _exposure(storage: Storage, image_id: str, **changes: Any) -> ExposureRecord:
    fields: dict[str, Any] = {
        "camera": "cam0",
        "image_type": "object",
        "exposure_time_s": 30.0,
        "start_time": T0,
        "path": f"/data/images/{image_id}.fits",
    }
    return storage.add_exposure(image_id, **(fields | changes))


def test_exposure_round_trips(storage: Storage) -> None:
    observation = storage.add_observation("M42")
    added = storage.add_exposure(
        "cam0-20261215-0001",
        camera="cam0",
        image_type="flat",
        exposure_time_s=2.5,
        start_time=T0,
        path=Path("/data/images/flat.fits"),
        observation_id=observation.id,
        size_bytes=16_789_440,
        checksum="hcHAjZH7hbH7hbH7",
        header={"FILTER": "R", "EXPTIME": 2.5, "GAIN": 1.2},
        created_at=T0 + timedelta(seconds=5),
    )
    assert (
        storage.get_exposure("cam0-20261215-0001")
        == added
        == ExposureRecord(
            id=added.id,
            image_id="cam0-20261215-0001",
            observation_id=observation.id,
            camera="cam0",
            image_type="flat",
            exposure_time_s=2.5,
            start_time=T0,
            path="/data/images/flat.fits",
            size_bytes=16_789_440,
            checksum="hcHAjZH7hbH7hbH7",
            header={"FILTER": "R", "EXPTIME": 2.5, "GAIN": 1.2},
            created_at=T0 + timedelta(seconds=5),
        )
    )


def test_unknown_image_id_gets_none(storage: Storage) -> None:
    assert storage.get_exposure("nope") is None


def test_duplicate_image_id_is_refused(storage: Storage) -> None:
    _exposure(storage, "img-1")
    with pytest.raises(InvalidValueError, match="image id 'img-1' already exists"):
        _exposure(storage, "img-1", camera="cam1")


def test_duplicate_image_id_leaves_the_first_row(storage: Storage) -> None:
    first = _exposure(storage, "img-1")
    with pytest.raises(InvalidValueError):
        _exposure(storage, "img-1", camera="cam1")
    assert storage.list_exposures() == [first]


def test_exposure_of_an_unknown_observation_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="unknown observation id 77"):
        _exposure(storage, "img-1", observation_id=77)


def test_exposure_without_a_camera_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="camera name must be a non-empty string"):
        _exposure(storage, "img-1", camera="")


def test_exposure_without_an_image_id_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="image id must be a non-empty string"):
        _exposure(storage, None)  # type: ignore[arg-type]


def test_exposure_time_may_be_a_quantity(storage: Storage) -> None:
    assert _exposure(storage, "img-1", exposure_time_s=2 * u.min).exposure_time_s == 120.0


def test_exposure_time_in_a_unit_other_than_time_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match=r"exposure time 2\.0 m is not a time"):
        _exposure(storage, "img-1", exposure_time_s=2 * u.m)


def test_negative_exposure_time_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="exposure time must be a number of seconds"):
        _exposure(storage, "img-1", exposure_time_s=-1)


def test_list_exposures_of_one_observation_newest_first(storage: Storage) -> None:
    observation = storage.add_observation("M42")
    _exposure(storage, "other")
    for minute in range(3):
        _exposure(
            storage,
            f"m42-{minute}",
            observation_id=observation.id,
            start_time=T0 + timedelta(minutes=minute),
        )
    listed = storage.list_exposures(observation_id=observation.id)
    assert [row.image_id for row in listed] == ["m42-2", "m42-1", "m42-0"]


def test_list_exposures_by_image_type(storage: Storage) -> None:
    _exposure(storage, "bias-1", image_type="zero", exposure_time_s=0)
    _exposure(storage, "sci-1")
    assert [row.image_id for row in storage.list_exposures(image_type="zero")] == ["bias-1"]
