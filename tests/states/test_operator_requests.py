"""What operators ask of the unit, as the states read it: holds, targets of opportunity
in priority order, and a change waking whatever waits."""

from __future__ import annotations

import asyncio

import pytest

from nocturna.core.clock import VirtualClock, use_clock
from nocturna.observatory.operator import PARK, PAUSE, OperatorRequests
from nocturna.scheduler import Field, Observation
from nocturna.states.table import load_state_table


def target(name: str, priority: float, frames: int = 2) -> Observation:
    return Observation(Field(name, 10.0, 20.0, priority=priority, min_nexp=frames,
                             exp_set_size=frames))


def test_targets_of_opportunity_go_by_priority_then_arrival_and_finished_ones_drop():
    requests = OperatorRequests()
    low, high, other = target("low", 1.0), target("high", 5.0), target("other", 5.0)
    assert [requests.add_target(t) for t in (low, high, other)] == [0, 0, 1]
    assert [t.name for t in requests.targets] == ["high", "other", "low"]
    for _ in range(2):
        high.record_exposure()
    assert requests.next_target() is other and requests.targets[0] is other


def test_a_set_is_preempted_by_a_hold_or_by_another_target_never_by_itself():
    requests = OperatorRequests()
    planned, too = target("M42", 1.0), target("SN", 9.0)
    assert requests.preempts(planned) is None
    requests.add_target(too)
    assert "SN goes first" in requests.preempts(planned)
    assert requests.preempts(too) is None
    requests.hold, requests.held_by = PAUSE, "bob"
    assert requests.preempts(too) == "paused by bob" and requests.stops_work
    requests.hold = PARK
    assert requests.holds_closed and "parked by bob" in requests.preempts(too)


@pytest.mark.virtual_time
async def test_a_change_wakes_a_waiting_state_at_once():
    clock = VirtualClock("2026-12-15T10:00:00Z")
    requests = OperatorRequests()
    with use_clock(clock):
        waiting = asyncio.ensure_future(requests.wait(clock, 600.0))
        await clock.sleep(5.0)
        requests.changed()
        await waiting
        assert (clock.now() - clock.start).total_seconds() == 5.0


def test_every_working_state_can_pause_and_a_pause_can_resume_or_park():
    table = load_state_table()
    working = [name for name, spec in table.states.items() if spec.checks
               and name != "paused"]
    assert working and all(table.allowed(name, "paused") for name in working)
    assert set(table.transitions["paused"]) == {"ready", "parking", "paused"}
