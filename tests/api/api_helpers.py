"""A simulated night run in-process on virtual time (paced), serving the API from its own
thread and loop, as ``nocturna run`` does; and tokens for its viewer and operator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop

from nocturna.api.auth import hash_token
from nocturna.api.server import ApiServer
from nocturna.core.virtualtime import VirtualTimeLoop
from unit_helpers import MIDNIGHT, unit_config

EVENT_LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "uvloop": uvloop.new_event_loop, "asyncio": asyncio.new_event_loop}
"""The loops the API's thread is tested on: uvloop's (what ``nocturna run`` uses) and
asyncio's."""

OPERATOR = "operator-secret-token"
VIEWER = "viewer-secret-token"
TOKENS = [{"name": "ops", "role": "operator", "hash": hash_token(OPERATOR)},
          {"name": "watcher", "role": "viewer", "hash": hash_token(VIEWER)}]
AS_OPERATOR = {"Authorization": f"Bearer {OPERATOR}"}
AS_VIEWER = {"Authorization": f"Bearer {VIEWER}"}

SPEED = 60.0
"""Virtual seconds per real second: frames every few real seconds, the night lasting."""
WAIT_S = 120.0
"""Longest wait (real seconds) for something the night will do."""


class RunningNight:
    """A simulated night (from ``start``, for ``hours``) with its API on a free port."""

    def __init__(self, tmp_path: Path, new_loop: Callable[[], asyncio.AbstractEventLoop], *,
                 start: str = MIDNIGHT, hours: float = 4.0, speed: float = SPEED,
                 **api: Any) -> None:
        self.config = unit_config(tmp_path, api={"tokens": TOKENS, **api})
        self.start_time = datetime.fromisoformat(start.replace("Z", "+00:00"))
        self.until = self.start_time + timedelta(hours=hours)
        self.speed = speed
        self.server = ApiServer(self.config.model.api, port=0, new_loop=new_loop)
        self.unit: Any = None
        self.summary: Any = None
        self.failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: Any = None
        self._serving = threading.Event()
        self._thread = threading.Thread(target=self._run, name="night", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    def _run(self) -> None:
        from nocturna.runtime.night import run_night
        from nocturna.states.machine import StopRequest

        async def main() -> Any:
            self._loop = asyncio.get_running_loop()
            self._stop = StopRequest()
            return await run_night(
                self.config, simulate=True, start=self.start_time, until=self.until,
                speed=self.speed, on_unit=self._attach_unit, on_control=self._serve,
                stop=self._stop)

        try:
            with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
                self.summary = runner.run(main())
        except BaseException as exc:
            self.failure = exc
        finally:
            self._serving.set()

    def _attach_unit(self, unit: Any) -> None:
        self.unit = unit

    def _serve(self, control: Any) -> None:
        self.server.attach(self.unit, control)
        self._serving.set()

    def __enter__(self) -> RunningNight:
        self._thread.start()
        self._serving.wait(WAIT_S)
        if self.failure is not None or self.server.link is None:
            self.server.stop()
            raise RuntimeError(f"the night did not start serving: {self.failure}")
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stop.request, "the test is over")
        self._thread.join(WAIT_S)
        self.server.stop()

    def ended(self) -> bool:
        return not self._thread.is_alive()


def until(check: Callable[[], Any], what: str, wait_s: float = WAIT_S,
          every_s: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something true; its value (fails naming
    ``what`` after ``wait_s`` real seconds)."""
    deadline = time.monotonic() + wait_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {wait_s:.0f} s")
        time.sleep(every_s)


def status(client: httpx.Client) -> dict[str, Any]:
    answer = client.get("/api/status", headers=AS_VIEWER)
    assert answer.status_code == 200, answer.text
    return answer.json()
