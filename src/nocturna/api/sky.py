"""Tonight's plan (JSON and chart) and the sky chart's data, computed off the night's loop.

The API plans with a scheduler of its own (the unit's fields, the same site, overheads
and settings), so its work never touches the scheduler the night uses. The plan and
its chart are computed once per run, in a worker thread, and cached.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

PATH_STEP = timedelta(minutes=10)
"""Spacing of the alt/az points along each planned set."""


class SkyCharts:
    """The plan of the night the run started in, its chart, and where things are now."""

    def __init__(self, unit: Any, started: datetime) -> None:
        self._unit = unit
        self._started = started
        self._lock = threading.Lock()
        self._scheduler: Any = None
        self._window: Any = None
        self._blocks: list[Any] | None = None
        self._chart: bytes | None = None

    def _plan(self) -> tuple[Any, Any, list[Any]]:
        """The scheduler, the night window and the blocks (computed once)."""
        with self._lock:
            if self._blocks is None:
                from nocturna.observatory.overheads import unit_overheads
                from nocturna.scheduler import Scheduler

                model = self._unit.config.model
                self._scheduler = Scheduler.from_config(model, self._unit.scheduler.fields,
                                                        overheads=unit_overheads(model))
                self._window = self._scheduler.resolve_night(self._started)
                self._blocks = self._scheduler.plan(self._window.start) \
                    if self._scheduler.fields else []
            return self._scheduler, self._window, self._blocks

    def plan(self) -> dict[str, Any]:
        """The planned sets with their times, field, filters, position and alt/az path."""
        scheduler, window, blocks = self._plan()
        rows = {field.name: index for index, field in enumerate(scheduler.fields)}
        sets = []
        for block in blocks:
            field = block.field
            path = []
            at = block.start
            while True:
                alt, az = scheduler.altaz(at)
                row = rows[field.name]
                path.append([at, round(float(alt[row]), 3), round(float(az[row]), 3)])
                if at >= block.end:
                    break
                at = min(at + PATH_STEP, block.end)
            sets.append({"field": field.name, "start": block.start, "end": block.end,
                         "frames": block.frames, "filters": list(dict.fromkeys(
                             f for f in field.filters)), "exposures_s": list(field.exptimes_s),
                         "ra_deg": field.ra_deg, "dec_deg": field.dec_deg,
                         "priority": field.priority, "slew_s": block.slew_s,
                         "path": path})
        return {"night": {"start": window.start, "end": window.end,
                          "flat_start": window.flat_start, "flat_end": window.flat_end},
                "sets": sets}

    def chart_png(self) -> bytes:
        """The plan's chart (the same as ``nocturna plan --chart``), PNG bytes."""
        scheduler, window, blocks = self._plan()
        with self._lock:
            if self._chart is None:
                from nocturna.scheduler.chart import plot_plan

                with tempfile.TemporaryDirectory(prefix="nocturna-plan-") as folder:
                    path = plot_plan(scheduler, window, blocks, Path(folder) / "plan.png")
                    self._chart = path.read_bytes()
            return self._chart

    def sky(self, now: datetime, telescope: dict[str, Any] | None,
            done: set[str]) -> dict[str, Any]:
        """The horizon, every field (planned, done), the Moon and the telescope now."""
        from nocturna.scheduler.horizon import Horizon

        scheduler, _, blocks = self._plan()
        horizon = Horizon.from_site(self._unit.config.model.site)
        azimuths = np.arange(0.0, 360.5, 2.0)
        limits = horizon.min_altitude(azimuths)
        alt, az = scheduler.altaz(now) if scheduler.fields else ([], [])
        planned = {block.field.name for block in blocks}
        fields = [{"name": field.name, "alt_deg": round(float(alt[i]), 3),
                   "az_deg": round(float(az[i]), 3), "planned": field.name in planned,
                   "done": field.name in done}
                  for i, field in enumerate(scheduler.fields)]
        return {"time": now,
                "horizon": [[float(a), round(float(h), 3)] for a, h in zip(azimuths, limits,
                                                                          strict=True)],
                "fields": fields, "moon": moon_altaz(self._unit.location, now),
                "telescope": telescope}


def moon_altaz(location: Any, now: datetime) -> dict[str, float]:
    """Where the Moon is at ``now``, seen from ``location``."""
    from astropy.coordinates import AltAz, get_body
    from astropy.time import Time

    when = Time(now)
    moon = get_body("moon", when, location).transform_to(AltAz(obstime=when, location=location))
    return {"alt_deg": round(float(moon.alt.deg), 3), "az_deg": round(float(moon.az.deg), 3)}
