"""The foundation self-check ``nocturna run --simulate`` performs until the night exists.

Each check exercises a real component and reports what it measured: the layered
configuration, the simulated clock, offline astronomy (counting network attempts
with an audit hook), the configuration service over real HTTP, and the database.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


class NetworkWatch:
    """Counts socket connections and DNS look-ups made while it is active."""

    _installed: ClassVar[bool] = False
    _active: ClassVar[list[NetworkWatch]] = []

    def __init__(self) -> None:
        self.attempts: list[str] = []

    @classmethod
    def _hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if cls._active and event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
            cls._active[-1].attempts.append(f"{event}{args[:2]!r}")

    def __enter__(self) -> NetworkWatch:
        if not NetworkWatch._installed:
            sys.addaudithook(NetworkWatch._hook)
            NetworkWatch._installed = True
        NetworkWatch._active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        NetworkWatch._active.remove(self)


def check_config(config: Config) -> CheckResult:
    site = config.model.site
    return CheckResult(
        "configuration", True,
        f"unit {config.model.name} at {site.name} "
        f"({site.latitude:.2f}, {site.longitude:.2f}, {site.elevation:.0f})",
    )


def check_clock(clock: SimClock) -> CheckResult:
    simulated = 120.0
    began_real, began_sim = time.perf_counter(), clock.now()
    asyncio.run(clock.sleep(simulated))
    real = time.perf_counter() - began_real
    passed = (clock.now() - began_sim).total_seconds()
    ok = passed >= simulated
    return CheckResult(
        "simulated clock", ok,
        f"{clock.now():%Y-%m-%d %H:%M:%S}Z at {clock.speed:g}x: slept {passed:.0f} s "
        f"simulated in {real:.2f} s real",
    )


def check_astronomy(config: Config, instant: datetime) -> CheckResult:
    from nocturna.core.astro import local_sidereal_time, site_location, sun_altitude

    location = site_location(config.model.site)
    later = instant + timedelta(days=182)
    with NetworkWatch() as watch:
        sun_now = sun_altitude(location, instant)
        sun_later = sun_altitude(location, later)
        lst = local_sidereal_time(location, later)
    ok = not watch.attempts
    detail = (f"Sun at {sun_now:.1f} now, {sun_later:.1f} on {later:%Y-%m-%d} "
              f"(LST {lst.to_string(unit='hourangle', sep=':', precision=0)}); "
              f"{len(watch.attempts)} network attempts")
    return CheckResult("offline astronomy", ok, detail)


def check_config_service(config: Config) -> CheckResult:
    from nocturna.configserver.client import ConfigClient
    from nocturna.configserver.runner import start_in_thread

    key = "site.horizon.default"
    with start_in_thread(config, save=False) as service:
        client = ConfigClient(service.url)
        beat = client.heartbeat()
        before = client.get(key)
        changed = client.set(key, before + 1 * before.unit)
        client.reset(key)
        after = client.get(key)
        count = 200
        began = time.perf_counter()
        for _ in range(count):
            client.get(key)
        rate = count / (time.perf_counter() - began)
        client.close()
    ok = beat.get("ok") is True and changed != before and after == before
    return CheckResult(
        "config service", ok,
        f"{service.url}: heartbeat, get {before}, set {changed}, reset {after}; {rate:.0f} get/s",
    )


def check_storage(config: Config, instant: datetime) -> CheckResult:
    from nocturna.core.storage import Storage

    with Storage.open(config.model.storage.url, data_dir=config.data_dir) as storage:
        storage.add_transition("sleeping", "ready", "self-check", time=instant)
        storage.set_current("selfcheck", {"at": instant, "ok": True})
        record = storage.get_current("selfcheck")
        ok = record is not None and record.data.get("ok") is True
        return CheckResult("storage", ok, f"{storage.url} (schema v{storage.schema_version})")


def run_selfcheck(config: Config, *, start: datetime | None, speed: float) -> list[CheckResult]:
    """Run every check on a simulated clock; a check that raises is a failed check."""
    clock = SimClock(start or datetime.now().astimezone(), speed)
    results: list[CheckResult] = []
    checks: list[tuple[str, Callable[[], CheckResult]]] = [
        ("configuration", lambda: check_config(config)),
        ("simulated clock", lambda: check_clock(clock)),
        ("offline astronomy", lambda: check_astronomy(config, clock.now())),
        ("config service", lambda: check_config_service(config)),
        ("storage", lambda: check_storage(config, clock.now())),
    ]
    with use_clock(clock):
        for name, check in checks:
            try:
                results.append(check())
            except Exception as exc:
                results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))
    return results
