"""Exposure sequence numbers: per stream and observing day, never handed out twice."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect

from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.core.storage import MIGRATIONS, Storage


def test_numbers_start_at_one_each_observing_day(storage: Storage) -> None:
    assert storage.reserve_exposure_numbers("cam0", 20261120) == range(1, 2)
    assert storage.reserve_exposure_numbers("cam0", 20261120, 3) == range(2, 5)
    assert storage.reserve_exposure_numbers("cam0", 20261121) == range(1, 2)


def test_streams_count_separately(storage: Storage) -> None:
    storage.reserve_exposure_numbers("cam0", 20261120, 5)
    assert storage.reserve_exposure_numbers("spec", 20261120) == range(1, 2)
    assert storage.last_exposure_number("cam0", 20261120) == 5
    assert storage.last_exposure_number("cam0", 20261119) == 0


def test_numbers_continue_after_reopening(place) -> None:
    with place.open() as storage:
        storage.reserve_exposure_numbers("cam0", 20261120, 7)
    with place.open() as storage:
        assert storage.reserve_exposure_numbers("cam0", 20261120) == range(8, 9)


def test_running_out_of_numbers_reserves_nothing(storage: Storage) -> None:
    storage.reserve_exposure_numbers("cam0", 20261120, 9, limit=10)
    with pytest.raises(StorageError, match=r"no exposure numbers left.*20261120.*at most 10"):
        storage.reserve_exposure_numbers("cam0", 20261120, 2, limit=10)
    assert storage.last_exposure_number("cam0", 20261120) == 9
    assert storage.reserve_exposure_numbers("cam0", 20261120, 1, limit=10) == range(10, 11)


@pytest.mark.parametrize("count", [0, -1, 1.5, True, "2"])
def test_bad_counts_are_refused(storage: Storage, count: object) -> None:
    with pytest.raises(InvalidValueError, match="count of exposure numbers"):
        storage.reserve_exposure_numbers("cam0", 20261120, count)  # type: ignore[arg-type]


def test_threads_never_get_the_same_number(place) -> None:
    with place.open() as storage:
        got: list[int] = []
        lock = threading.Lock()

        def reserve() -> None:
            for _ in range(20):
                numbers = storage.reserve_exposure_numbers("cam0", 20261120)
                with lock:
                    got.extend(numbers)

        threads = [threading.Thread(target=reserve) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(got) == list(range(1, 81))


def test_version_1_database_gains_the_sequence_table(place) -> None:
    with place.open(MIGRATIONS[:1]) as storage:
        storage.add_observation("M42")
        assert not inspect(storage.engine).has_table("exposure_sequences")
    with place.open() as storage:
        assert [o.name for o in storage.list_observations()] == ["M42"]
        assert storage.reserve_exposure_numbers("cam0", 20261120) == range(1, 2)
