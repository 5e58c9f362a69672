"""A simulated unit for the observatory and state tests: small camera, temporary data."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ruamel.yaml import YAML

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.core.config import Config
from nocturna.core.storage import Storage
from nocturna.core.virtualtime import VirtualTimeLoop
from nocturna.devices.factory import build_devices
from nocturna.observatory.build import build_observatory
from nocturna.observatory.unit import Observatory

EVENING = "2026-12-15T04:00:00Z"  # 18:00 in Hawaii, Sun at about -2.5°
MIDNIGHT = "2026-12-15T10:00:00Z"

SMALL_CAMERA = {"name": "cam0", "driver": "sim", "primary": True, "filterwheel": "fw0",
                "focuser": "foc0", "focal_length_mm": 85, "aperture_mm": 60,
                "width": 512, "height": 512, "readout_s": 1.0}
"""The demo camera's pixels and optics on a 512 × 512 sensor (16 × fewer pixels)."""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


PERFECT_MOUNT = {"pointing_error_ra_arcsec": 0.0, "pointing_error_dec_arcsec": 0.0,
                 "pointing_scatter_arcsec": 0.0, "drift_ra_arcsec_per_min": 0.0,
                 "drift_dec_arcsec_per_min": 0.0}
"""SimMount options for a mount that points exactly where it reports (no error model)."""

FOCUSED = {"name": "foc0", "driver": "sim", "position": 30000}
"""The demo focuser at the simulated camera's best focus (the demo starts 2000 off)."""

LOOPS_OFF = {"pointing": {"enabled": False}, "autofocus": {"enabled": False},
             "tracking": {"enabled": False}}
"""The closed loops, off: the small camera's 1.4° field is below what the plate solver's
index files cover, and most tests are about something else."""


def unit_config(tmp_path: Path, **extra: Any) -> Config:
    """The default configuration with a small camera in focus and data under ``tmp_path``
    (closed loops off unless ``extra`` turns them on)."""
    data = _merge({"data_dir": str(tmp_path / "data"), "cameras": [SMALL_CAMERA],
                   "focusers": [FOCUSED], "observatory": LOOPS_OFF}, extra)
    site = tmp_path / "site.yaml"
    YAML(typ="safe", pure=True).dump(data, site)
    return Config.load(site, environ={})


def make_unit(config: Config, *, fields: Any = None, scenario: Any = None) -> Observatory:
    """A unit of simulated devices (not yet started) on the current clock."""
    devices = build_devices(config, simulate=True, scenario=scenario)
    storage = Storage.open(config.model.storage.url, data_dir=config.data_dir)
    return build_observatory(config, devices, storage, fields=[] if fields is None else fields)


async def close_unit(unit: Observatory) -> None:
    try:
        await unit.stop()
    finally:
        unit.storage.close()


T = TypeVar("T")


def on_virtual_time(work: Callable[[], Awaitable[T]], start: str = MIDNIGHT) -> T:
    """Run ``work()`` on a virtual-time loop with a virtual clock starting at ``start``:
    simulated time moves only when nothing can run, whatever the machine's load."""

    async def main() -> T:
        with use_clock(VirtualClock(start)):
            return await work()

    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main())


def dark_longitude_now(latitude_deg: float = 19.54) -> float:
    """A longitude (degrees, -180..180) where it is local midnight right now: for tests of
    units with real devices, which run on real time (the Sun is then far below the
    horizon at any latitude the tests use)."""
    from astropy.coordinates import get_sun
    from astropy.time import Time

    now = Time.now()
    sun_ra = float(get_sun(now).ra.deg)
    greenwich = float(now.sidereal_time("apparent", longitude=0.0).deg)
    return (sun_ra + 180.0 - greenwich + 180.0) % 360.0 - 180.0


def disk_check_unit(data_dir: Path, minimum_mb: float) -> Any:
    """What the safety disk check reads of a unit (and the ``unit.disk_low`` events it
    publishes, kept in ``published``)."""
    from types import SimpleNamespace

    from nocturna.observatory.unit import UnitStatus

    published: list[tuple[str, dict[str, Any]]] = []
    return SimpleNamespace(
        settings=SimpleNamespace(safety=SimpleNamespace(min_free_disk_mb=minimum_mb)),
        config=SimpleNamespace(data_dir=data_dir), status=UnitStatus(), published=published,
        publish=lambda topic, **data: published.append((topic, data)))
