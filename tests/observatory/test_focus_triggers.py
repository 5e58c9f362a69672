"""When the night focuses: at the start (coarse), every interval, on a temperature
change, never twice in a row after a failure, and not at all when it is off."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from nocturna.core.clock import SimClock, VirtualClock, use_clock
from nocturna.observatory.closedloops import FOCUS_RETRY_S, focus_due
from unit_helpers import MIDNIGHT, close_unit, make_unit, unit_config


def focus_config(tmp_path, **autofocus):
    return unit_config(tmp_path, observatory={"autofocus": {"enabled": True, **autofocus}})


async def test_the_first_focus_of_the_night_is_coarse_then_fine_when_due(tmp_path):
    with use_clock(SimClock(MIDNIGHT, speed=0.0)) as clock:
        unit = make_unit(focus_config(tmp_path, interval="2 h", temperature_change="2 K"))
        await unit.start()
        try:
            due = await focus_due(unit)
            assert due.coarse and due.reason == "start of the night"
            now_c = (await unit.instrument.context.focuser.state()).temperature_c
            unit.nightlog.last_focus = {"time": clock.now(), "temperature_c": now_c}
            assert await focus_due(unit) is None
            unit.nightlog.last_focus["temperature_c"] = now_c + 5.0
            due = await focus_due(unit)
            assert not due.coarse and due.reason.startswith("temperature")
            unit.nightlog.last_focus["temperature_c"] = None
            clock.advance(7200)
            due = await focus_due(unit)
            assert not due.coarse and due.reason == "2.0 h since the last focus"
            unit.new_night()
            assert (await focus_due(unit)).coarse
        finally:
            await close_unit(unit)


async def test_a_failed_focus_waits_before_retrying(tmp_path):
    with use_clock(SimClock(MIDNIGHT, speed=0.0)) as clock:
        unit = make_unit(focus_config(tmp_path))
        await unit.start()
        try:
            unit.nightlog.focus_failed_at = clock.now()
            assert await focus_due(unit) is None
            clock.set_time(clock.now() + timedelta(seconds=FOCUS_RETRY_S + 1))
            assert (await focus_due(unit)).coarse
        finally:
            await close_unit(unit)


async def test_no_focus_when_autofocus_is_off_or_has_no_hook(tmp_path):
    with use_clock(SimClock(MIDNIGHT, speed=0.0)):
        unit = make_unit(unit_config(tmp_path))
        await unit.start()
        try:
            assert await focus_due(unit) is None
            assert await unit.autofocus() is None
        finally:
            await close_unit(unit)
        (tmp_path / "hookless").mkdir()
        unit = make_unit(focus_config(tmp_path / "hookless"))
        unit.autofocus_hook = None
        await unit.start()
        try:
            assert await focus_due(unit) is None
        finally:
            await close_unit(unit)


@pytest.mark.virtual_time
async def test_the_unit_focuses_and_records_it(tmp_path):
    # 03:00 in Hawaii, 13:00 UTC: the UTC date is the 15th, the observing day the 14th
    with use_clock(VirtualClock("2026-12-15T13:00:00Z")):
        config = unit_config(tmp_path, observatory={"autofocus": {"enabled": True}},
                             focusers=[{"name": "foc0", "driver": "sim", "position": 27000}])
        unit = make_unit(config)
        await unit.start()
        try:
            await unit.open_up()
            await unit.mount.set_tracking(True)
            status = await unit.mount.state()
            await unit.mount.slew_and_wait(status.sidereal_time_hours, 19.5)
            result = await unit.autofocus()
            assert result.success and abs(result.best_position - 30000) <= 50
            rows = unit.storage.list_telemetry("focus")
            assert len(rows) == 1 and rows[0].data["trigger"] == "start of the night"
            assert unit.storage.get_current("focus").data["best_position"] == \
                result.best_position
            assert unit.nightlog.last_focus is not None
            assert await focus_due(unit) is None
            assert all(path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                       for path in map(Path, result.plot_paths))
            assert {Path(p).parent.name for p in result.plot_paths} == {"20261214"}
        finally:
            await close_unit(unit)
