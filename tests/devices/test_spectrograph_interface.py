"""The Spectrograph interface: name resolution, stage limits, status, setup, guards."""

from __future__ import annotations

import math

import pytest

from nocturna.core.clock import SimClock
from nocturna.core.errors import InvalidValueError, NotConnectedError
from nocturna.core.events import EventBus
from nocturna.devices.base import Device
from nocturna.devices.sim.spectrograph import SimSpectrograph
from nocturna.devices.spectrograph import (
    Spectrograph,
    SpectrographStatus,
    check_stage_position,
    resolve_slot,
)

NAMES = ["empty", "RG610", "OG550", "BG40"]


def status(**moving):
    values = dict(filter_position=0, filter_name="empty", grating_position=0,
                  grating_name="empty", stage_position_mm=67.0, stage_target_mm=67.0,
                  filter_moving=False, grating_moving=False, stage_moving=False)
    values.update(moving)
    return SpectrographStatus(**values)


@pytest.mark.parametrize(("wanted", "slot"), [
    ("empty", 0), ("rg610", 1), ("OG550", 2), ("bg40", 3), (0, 0), (3, 3),
])
def test_resolve_slot_by_name_case_insensitively_or_by_index(wanted, slot):
    assert resolve_slot(NAMES, wanted, "filter") == slot


def test_resolve_slot_wants_whole_names():
    with pytest.raises(InvalidValueError, match="no filter named 'RG'"):
        resolve_slot(NAMES, "RG", "filter")


@pytest.mark.parametrize("wanted", ["V", 4, -1, "", None, 1.0, False])
def test_resolve_slot_refusals_list_the_available_slots(wanted):
    with pytest.raises(InvalidValueError, match="grating") as refused:
        resolve_slot(NAMES, wanted, "grating")
    assert "0=empty, 1=RG610, 2=OG550, 3=BG40" in str(refused.value)


@pytest.mark.parametrize("position", [0, 0.0, 37.5, 75])
def test_stage_positions_within_the_limits_are_floats(position):
    checked = check_stage_position(position, 0.0, 75.0)
    assert checked == float(position) and isinstance(checked, float)


@pytest.mark.parametrize("position", [-1e-9, 75.000001, math.nan, math.inf, "3", None, True])
def test_stage_positions_outside_the_limits_name_them(position):
    with pytest.raises(InvalidValueError, match=r"limits \[0, 75\] mm"):
        check_stage_position(position, 0.0, 75.0)


@pytest.mark.parametrize(("moving", "expected"), [
    ({}, False),
    ({"filter_moving": True, "filter_position": -1, "filter_name": None}, True),
    ({"grating_moving": True, "grating_position": -1, "grating_name": None}, True),
    ({"stage_moving": True, "stage_target_mm": 10.0}, True),
])
def test_status_is_moving_when_any_mechanism_moves(moving, expected):
    snapshot = status(**moving)
    assert snapshot.is_moving is expected
    assert snapshot.as_dict()["is_moving"] is expected


def test_status_is_moving_is_derived_not_given():
    with pytest.raises(TypeError):
        SpectrographStatus(0, "empty", 0, "empty", 67.0, 67.0, False, False, False, True)


def test_interface_is_a_device_kind_with_abstract_members():
    assert issubclass(Spectrograph, Device) and Spectrograph.kind == "spectrograph"
    assert {"info", "state", "move_filter", "move_grating", "move_stage", "halt"} \
        <= Spectrograph.__abstractmethods__
    with pytest.raises(TypeError):
        Spectrograph("spec")  # type: ignore[abstract]


async def make():
    clock = SimClock("2026-12-15T08:00:00Z", speed=0)
    spectrograph = SimSpectrograph("spec", clock=clock, events=EventBus())
    await spectrograph.connect()
    return spectrograph, clock


async def test_setup_checks_everything_before_moving_anything():
    spectrograph, clock = await make()
    with pytest.raises(InvalidValueError, match=r"limits \[0, 75\] mm"):
        await spectrograph.setup(filter="RG610", grating="holo4_003", stage_mm=99.0)
    with pytest.raises(InvalidValueError, match="no grating named 'holo'"):
        await spectrograph.setup(filter="RG610", grating="holo", stage_mm=50.0)
    clock.advance(30)
    state = await spectrograph.state()
    assert not state.is_moving and state.filter_position == 0
    assert state.grating_position == 0 and state.stage_position_mm == 67.0


async def test_setup_without_waiting_starts_every_move():
    spectrograph, clock = await make()
    state = await spectrograph.setup(filter="BG40", grating=1, stage_mm=62.0, wait=False)
    assert state.filter_moving and state.grating_moving and state.stage_moving
    assert state.stage_target_mm == 62.0
    clock.advance(1.0)  # every move here takes 1 s
    state = await spectrograph.state()
    assert not state.is_moving
    assert (state.filter_name, state.grating_name, state.stage_position_mm) == \
        ("BG40", "holo4_003", 62.0)


async def test_disconnected_commands_are_refused_by_the_interface_guard():
    spectrograph = SimSpectrograph("spec", clock=SimClock("2026-12-15T08:00:00Z", speed=0),
                                   events=EventBus())
    with pytest.raises(NotConnectedError, match="spectrograph 'spec' is not connected"):
        await spectrograph.move_stage(10.0)
    status_dict = await spectrograph.status()
    assert status_dict["kind"] == "spectrograph" and "state" not in status_dict
