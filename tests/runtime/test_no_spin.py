"""A cycle of states that takes no time does not spin: a field whose next frame was
refused is set aside for a while, and the machine itself waits a check interval after
too many transitions at one instant."""

from __future__ import annotations

from datetime import timedelta

from nocturna.states.machine import SPIN_LIMIT, StateMachine
from nocturna.states.scheduling import on_enter as scheduling
from nocturna.states.table import StateSpec, state_table_from_data
from unit_helpers import close_unit, make_unit, on_virtual_time, unit_config


def test_a_field_set_aside_is_not_chosen_again_at_once(tmp_path):
    config = unit_config(tmp_path)

    async def night() -> tuple[str, str]:
        unit = make_unit(config)
        try:
            now = unit.clock.now()
            for fld in unit.scheduler.fields:
                unit.set_aside[fld.name] = now
            next_state, reason = await scheduling(unit)
            waited = (unit.clock.now() - now).total_seconds()
            return next_state, f"{reason} after {waited:g} s"
        finally:
            await close_unit(unit)

    next_state, reason = on_virtual_time(night)
    assert next_state == "scheduling"
    assert "nothing observable" in reason and "after 600 s" in reason


def test_states_that_take_no_time_are_slowed_to_one_step_per_check_interval(tmp_path,
                                                                            monkeypatch):
    table = state_table_from_data({
        "initial": "sleeping", "on_unsafe": "parking",
        "states": {name: {"handler": name} for name in ("sleeping", "ready", "parking",
                                                        "parked")},
        "transitions": {"sleeping": ["ready"], "ready": ["sleeping", "parking"],
                        "parking": ["parked"], "parked": ["sleeping"]}})

    async def instant(unit):
        return {"sleeping": "ready", "ready": "sleeping"}.get(unit.status.state, "sleeping")

    monkeypatch.setattr(StateSpec, "on_enter", lambda spec: instant)
    config = unit_config(tmp_path)

    async def spin() -> tuple[int, float, float]:
        unit = make_unit(config)
        try:
            start = unit.clock.now()
            machine = StateMachine(unit, table, until=start + timedelta(minutes=2))
            await machine.run()
            records = unit.storage.list_transitions()
            return (len(records), (unit.clock.now() - start).total_seconds(),
                    machine.interval_s)
        finally:
            await close_unit(unit)

    count, elapsed, interval = on_virtual_time(spin)
    assert elapsed >= 120
    assert count <= (120 / interval + 2) * (SPIN_LIMIT + 1)
