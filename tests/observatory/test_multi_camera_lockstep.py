"""A second camera that stops answering holds the primary up for the grace period only:
it is left behind and the primary's sequence goes on (virtual time)."""

from __future__ import annotations

import pytest

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.devices.sim.scenario import load_scenario
from nocturna.instrument.lockstep import FOLLOWER_GRACE_S, Follower, take_in_lockstep
from unit_helpers import FOCUSED, MIDNIGHT, SMALL_CAMERA, close_unit, make_unit, unit_config

SECOND_CAMERA = {**{k: v for k, v in SMALL_CAMERA.items() if k != "filterwheel"},
                 "name": "cam1", "primary": False, "focuser": "foc1"}


@pytest.mark.virtual_time
async def test_a_frozen_second_camera_is_left_behind(tmp_path):
    config = unit_config(tmp_path, cameras=[SMALL_CAMERA, SECOND_CAMERA],
                         focusers=[FOCUSED, {**FOCUSED, "name": "foc1"}])
    # cam1 hangs from 5 s after midnight (in its first frame) for ten minutes
    scenario = load_scenario({"timezone": "US/Hawaii", "night": "2026-12-14",
                              "faults": [{"kind": "freeze", "device": "cam1",
                                          "from": "2026-12-15T10:00:05Z",
                                          "until": "2026-12-15T10:10:00Z"}]})
    with use_clock(VirtualClock(MIDNIGHT)) as clock:
        unit = make_unit(config, scenario=scenario)
        await unit.start()
        try:
            lead, follower = unit.instruments["cam0"], unit.instruments["cam1"]
            began = clock.now()
            result = await take_in_lockstep(lead, [Follower(follower)], "OBJECT", 10.0, 4,
                                            title="frozen")
            assert len(result.lead_ids) == 4
            assert "cam1" in result.follower_errors and "cam1" not in result.follower_ids
            rows = unit.storage.list_exposures(image_type="OBJECT")
            assert sorted(r.camera for r in rows) == ["cam0"] * 4
            # the primary waited one grace period for cam1, not its exposure timeout
            elapsed = (clock.now() - began).total_seconds()
            assert elapsed < 4 * 12.0 + 2 * FOLLOWER_GRACE_S
            await clock.sleep(600.0)  # the fault ends: cam1 can be disconnected
        finally:
            await close_unit(unit)
