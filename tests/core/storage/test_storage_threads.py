"""One Storage shared by threads, and used from async code through a worker thread."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from nocturna.core.storage import Storage


def test_writers_in_many_threads_all_land(storage: Storage) -> None:
    def write(worker: int) -> None:
        for n in range(25):
            storage.add_telemetry("device", {"n": n}, source=f"worker{worker}")
            storage.set_current("device", {"worker": worker, "n": n})

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    assert len(storage.list_telemetry("device")) == 200
    assert len(storage.list_telemetry("device", source="worker3")) == 25


async def test_async_code_calls_storage_through_to_thread(storage: Storage) -> None:
    record = await asyncio.to_thread(storage.add_telemetry, "weather", {"safe": True})
    assert await asyncio.to_thread(storage.get_current, "weather") is None
    assert (await asyncio.to_thread(storage.list_telemetry, "weather")) == [record]
