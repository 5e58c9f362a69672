"""SimSpectrograph: two wheels and a linear stage moving independently on the clock."""

from __future__ import annotations

import math

import pytest
from sim_device_helpers import device_kwargs, frozen_clock, run_advancing, topics

from nocturna.core.config.models import DeviceConfig
from nocturna.core.errors import (
    ConfigError,
    DeviceTimeoutError,
    InvalidValueError,
    NotConnectedError,
)
from nocturna.devices.sim.spectrograph import SimSpectrograph


async def make_spectrograph(**options):
    clock = frozen_clock()
    spectrograph = SimSpectrograph("spec", **options, **device_kwargs(clock))
    await spectrograph.connect()
    return spectrograph, clock


async def assert_at_rest(spectrograph, *, filter_position=0, grating_position=0,
                         stage_mm=67.0):
    state = await spectrograph.state()
    assert not state.is_moving
    assert state.filter_position == filter_position
    assert state.grating_position == grating_position
    assert state.stage_position_mm == stage_mm and state.stage_target_mm == stage_mm
    return state


# ------------------------------------------------------------------ info and state
async def test_info_lists_the_latiss_like_defaults():
    spectrograph, _ = await make_spectrograph()
    info = await spectrograph.info()
    assert info.filters == ["empty", "RG610", "OG550", "BG40"]
    assert info.gratings == ["empty", "holo4_003", "ronchi170lpmm"]
    assert (info.stage_min_mm, info.stage_max_mm) == (0.0, 75.0)
    assert info.filter_focus_offsets == [0, 0, 0, 0]
    assert info.grating_focus_offsets == [0, 0, 0]


async def test_starts_clear_at_rest_with_the_stage_at_67_mm():
    spectrograph, _ = await make_spectrograph()
    state = await assert_at_rest(spectrograph)
    assert state.filter_name == "empty" and state.grating_name == "empty"
    assert not (state.filter_moving or state.grating_moving or state.stage_moving)


# ------------------------------------------------------------------ wheels
async def test_filter_reads_minus_one_while_turning_and_takes_a_second_per_slot():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_filter("OG550")  # two slots: 2 s
    clock.advance(1.5)
    moving = await spectrograph.state()
    assert moving.filter_position == -1 and moving.filter_name is None
    assert moving.filter_moving and moving.is_moving
    assert not moving.grating_moving and not moving.stage_moving
    assert moving.grating_position == 0 and moving.stage_position_mm == 67.0
    clock.advance(0.5)
    arrived = await spectrograph.state()
    assert arrived.filter_position == 2 and arrived.filter_name == "OG550"
    assert not arrived.is_moving


async def test_wheels_turn_the_shorter_way_round():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_filter("BG40")  # slot 0 → 3 of 4: one slot backwards
    await spectrograph.move_grating(2)  # slot 0 → 2 of 3: one slot backwards
    clock.advance(0.5)
    assert (await spectrograph.state()).is_moving
    clock.advance(0.5)
    state = await spectrograph.state()
    assert (state.filter_name, state.grating_name) == ("BG40", "ronchi170lpmm")
    assert not state.is_moving


async def test_grating_names_resolve_case_insensitively_and_by_index():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_grating("HOLO4_003")
    clock.advance(0.5)
    state = await spectrograph.state()
    assert state.grating_position == -1 and state.grating_name is None
    clock.advance(0.5)
    state = await spectrograph.state()
    assert state.grating_position == 1 and state.grating_name == "holo4_003"
    await spectrograph.move_grating(0)
    clock.advance(1.0)
    assert (await spectrograph.state()).grating_name == "empty"


async def test_filter_change_of_mind_while_turning_starts_from_where_the_wheel_is():
    spectrograph, clock = await make_spectrograph(filters=["a", "b", "c", "d", "e", "f"])
    await spectrograph.move_filter("d")  # three slots: 3 s
    clock.advance(1.0)  # at slot 1
    await spectrograph.move_filter("c")  # one more slot: 1 s
    clock.advance(0.5)
    assert (await spectrograph.state()).filter_position == -1
    clock.advance(0.5)
    assert (await spectrograph.state()).filter_name == "c"


async def test_selecting_the_current_slot_does_not_move():
    spectrograph, _ = await make_spectrograph(filter_position=1)
    subscription = spectrograph.events.subscribe("spectrograph.*")
    await spectrograph.move_filter("rg610")
    await spectrograph.move_grating("empty")
    await spectrograph.move_stage(67.0)
    await assert_at_rest(spectrograph, filter_position=1)
    assert topics(subscription) == []


# ------------------------------------------------------------------ linear stage
async def test_stage_moves_at_five_mm_per_second():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_stage(57.0)  # 10 mm: 2 s
    clock.advance(1.0)
    middle = await spectrograph.state()
    assert middle.stage_moving and middle.is_moving
    assert middle.stage_position_mm == pytest.approx(62.0)
    assert middle.stage_target_mm == 57.0
    assert middle.filter_position == 0 and middle.grating_position == 0
    clock.advance(1.0)
    done = await spectrograph.state()
    assert not done.stage_moving and done.stage_position_mm == 57.0
    assert done.stage_target_mm == 57.0


async def test_stage_retargets_from_where_it_is():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_stage(47.0)  # 20 mm: 4 s
    clock.advance(1.0)  # at 62 mm
    await spectrograph.move_stage(72.0)  # 10 mm from 62: 2 s
    clock.advance(1.5)
    state = await spectrograph.state()
    assert state.stage_moving and state.stage_position_mm == pytest.approx(69.5)
    assert state.stage_target_mm == 72.0
    clock.advance(0.5)
    state = await spectrograph.state()
    assert not state.stage_moving and state.stage_position_mm == 72.0


async def test_stage_reaches_both_limits():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_stage(75)
    clock.advance(0.5)  # 8 mm at 5 mm/s is 1.6 s
    assert (await spectrograph.state()).stage_moving
    clock.advance(1.5)
    assert (await spectrograph.state()).stage_position_mm == 75.0
    await spectrograph.move_stage(0)
    clock.advance(15)
    state = await spectrograph.state()
    assert state.stage_position_mm == 0.0 and not state.stage_moving


# ------------------------------------------------------------------ together
async def test_mechanisms_move_independently_and_at_the_same_time():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_filter("OG550")  # 2 s
    await spectrograph.move_grating("holo4_003")  # 1 s
    await spectrograph.move_stage(64.5)  # 2.5 mm: 0.5 s
    clock.advance(0.5)
    state = await spectrograph.state()
    assert state.filter_moving and state.grating_moving and not state.stage_moving
    assert state.stage_position_mm == 64.5
    clock.advance(0.5)
    state = await spectrograph.state()
    assert state.filter_moving and not state.grating_moving
    assert state.grating_name == "holo4_003" and state.is_moving
    clock.advance(1.0)
    await assert_at_rest(spectrograph, filter_position=2, grating_position=1, stage_mm=64.5)


async def test_wait_idle_returns_when_the_slowest_mechanism_stops():
    spectrograph, clock = await make_spectrograph()
    start = clock.timestamp()
    await spectrograph.move_filter(1)  # 1 s
    await spectrograph.move_stage(52.0)  # 15 mm: 3 s
    state = await run_advancing(clock, spectrograph.wait_idle(), step_s=0.1)
    assert not state.is_moving and state.stage_position_mm == 52.0
    assert state.filter_name == "RG610"
    assert 3.0 <= clock.timestamp() - start <= 3.2


async def test_wait_idle_times_out_in_clock_seconds():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_stage(0.0)  # 67 mm: 13.4 s
    with pytest.raises(DeviceTimeoutError, match="within 5 s"):
        await run_advancing(clock, spectrograph.wait_idle(timeout_s=5), step_s=0.1)


async def test_halt_stops_the_stage_and_drops_wheels_into_the_nearest_slot():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_filter("OG550")  # 2 s
    await spectrograph.move_grating("holo4_003")  # 1 s
    await spectrograph.move_stage(47.0)  # 4 s
    clock.advance(1.25)  # filter at 1.25, grating arrived, stage at 60.75
    await spectrograph.halt()
    state = await spectrograph.state()
    assert not state.is_moving
    assert state.filter_position == 1 and state.filter_name == "RG610"
    assert state.grating_position == 1
    assert state.stage_position_mm == pytest.approx(60.75)
    assert state.stage_target_mm == state.stage_position_mm
    clock.advance(60)
    assert await spectrograph.state() == state


# ------------------------------------------------------------------ refusals
async def test_unknown_filter_is_refused_naming_the_filters_and_nothing_moves():
    spectrograph, clock = await make_spectrograph()
    subscription = spectrograph.events.subscribe("spectrograph.*")
    with pytest.raises(InvalidValueError, match="no filter named 'V'") as refused:
        await spectrograph.move_filter("V")
    for name in ("empty", "RG610", "OG550", "BG40"):
        assert name in str(refused.value)
    clock.advance(10)
    await assert_at_rest(spectrograph)
    assert topics(subscription) == []


async def test_unknown_grating_is_refused_naming_the_gratings_and_nothing_moves():
    spectrograph, clock = await make_spectrograph()
    with pytest.raises(InvalidValueError, match="no grating named 'holo9'") as refused:
        await spectrograph.move_grating("holo9")
    for name in ("empty", "holo4_003", "ronchi170lpmm"):
        assert name in str(refused.value)
    clock.advance(10)
    await assert_at_rest(spectrograph)


@pytest.mark.parametrize(("member", "value", "pattern"), [
    ("move_filter", 4, r"filter position 4 is not in 0\.\.3"),
    ("move_filter", -1, r"filter position -1 is not in 0\.\.3"),
    ("move_grating", 3, r"grating position 3 is not in 0\.\.2"),
    ("move_filter", "", "filter must be a name or a position"),
    ("move_grating", None, "grating must be a name or a position"),
    ("move_grating", True, "grating must be a name or a position"),
])
async def test_bad_slots_are_refused(member, value, pattern):
    spectrograph, clock = await make_spectrograph()
    with pytest.raises(InvalidValueError, match=pattern):
        await getattr(spectrograph, member)(value)
    clock.advance(10)
    await assert_at_rest(spectrograph)


@pytest.mark.parametrize("position", [-0.1, 75.01, 1000, math.nan, math.inf, -math.inf,
                                      "50", None, True])
async def test_stage_positions_outside_the_limits_are_refused_naming_them(position):
    spectrograph, clock = await make_spectrograph()
    with pytest.raises(InvalidValueError, match=r"not within the limits \[0, 75\] mm"):
        await spectrograph.move_stage(position)
    clock.advance(30)
    await assert_at_rest(spectrograph)


async def test_a_refused_command_does_not_disturb_a_move_under_way():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_stage(57.0)  # 2 s
    clock.advance(1.0)
    with pytest.raises(InvalidValueError):
        await spectrograph.move_stage(80.0)
    clock.advance(1.0)
    state = await spectrograph.state()
    assert state.stage_position_mm == 57.0 and not state.stage_moving


@pytest.mark.parametrize("call", [
    lambda s: s.state(),
    lambda s: s.info(),
    lambda s: s.move_filter(1),
    lambda s: s.move_grating(1),
    lambda s: s.move_stage(10.0),
    lambda s: s.halt(),
], ids=["state", "info", "move_filter", "move_grating", "move_stage", "halt"])
async def test_members_while_disconnected_raise_not_connected(call):
    spectrograph = SimSpectrograph("spec", **device_kwargs(frozen_clock()))
    with pytest.raises(NotConnectedError):
        await call(spectrograph)


# ------------------------------------------------------------------ events
async def test_moves_publish_start_and_end_events():
    spectrograph, clock = await make_spectrograph()
    subscription = spectrograph.events.subscribe("spectrograph.*")
    await spectrograph.move_filter("RG610")
    await spectrograph.move_stage(62.0)
    clock.advance(0.5)
    await spectrograph.state()
    clock.advance(0.5)
    await spectrograph.state()
    events = subscription.drain()
    assert [e.topic for e in events] == [
        "spectrograph.filter.move.started", "spectrograph.stage.move.started",
        "spectrograph.filter.move.finished", "spectrograph.stage.move.finished",
    ]
    assert all(e.source == "spec" for e in events)
    assert events[0].data["name"] == "RG610" and events[0].data["duration_s"] == 1.0
    assert events[1].data["position_mm"] == 62.0 and events[1].data["duration_s"] == 1.0
    assert events[2].data["position"] == 1 and events[2].data["name"] == "RG610"
    assert events[3].data["position_mm"] == 62.0


async def test_halt_publishes_aborted_finish_events():
    spectrograph, clock = await make_spectrograph()
    await spectrograph.move_grating(1)
    await spectrograph.move_stage(10.0)
    clock.advance(0.25)
    subscription = spectrograph.events.subscribe("spectrograph.*.move.finished")
    await spectrograph.halt()
    events = subscription.drain()
    assert [e.topic for e in events] == ["spectrograph.grating.move.finished",
                                         "spectrograph.stage.move.finished"]
    assert all(e.data["aborted"] for e in events)
    assert events[0].data["position"] == 0
    assert events[1].data["position_mm"] == pytest.approx(65.75)


# ------------------------------------------------------------------ construction
async def test_from_config_reads_options_with_units_and_ignores_the_site():
    clock = frozen_clock()
    spectrograph = SimSpectrograph.from_config(
        DeviceConfig(name="spec1", filters=["clear", "r"], gratings=["none", "blue300"],
                     filter_focus_offsets=[0, 12], grating_focus_offsets=[0, -30],
                     grating_position=1, filter_seconds_per_slot="2 s",
                     stage_limits_mm=["1 cm", 50], stage_position_mm="2 cm",
                     stage_speed_mm_per_s="1 cm/s", description="test bench"),
        clock=clock, site=object())
    await spectrograph.connect()
    assert spectrograph.description == "test bench"
    info = await spectrograph.info()
    assert info.filters == ["clear", "r"] and info.gratings == ["none", "blue300"]
    assert info.filter_focus_offsets == [0, 12] and info.grating_focus_offsets == [0, -30]
    assert (info.stage_min_mm, info.stage_max_mm) == (10.0, 50.0)
    state = await spectrograph.state()
    assert state.grating_name == "blue300" and state.stage_position_mm == 20.0
    await spectrograph.move_filter("R")  # one slot at 2 s
    await spectrograph.move_stage(40.0)  # 20 mm at 10 mm/s: 2 s
    clock.advance(1.5)
    state = await spectrograph.state()
    assert state.filter_moving and state.stage_moving
    clock.advance(0.5)
    state = await spectrograph.state()
    assert state.filter_name == "r" and state.stage_position_mm == 40.0
    with pytest.raises(InvalidValueError, match=r"\[10, 50\] mm"):
        await spectrograph.move_stage(5.0)


def test_from_config_names_every_bad_option():
    with pytest.raises(ConfigError) as refused:
        SimSpectrograph.from_config(DeviceConfig(
            name="spec1", stage_speed_mm_per_s="5 deg/s", stage_limits_mm=[75, 0],
            filters=[], grating_seconds_per_slot=0, wavelength=500))
    problems = "\n".join(refused.value.problems)
    for key in ("stage_speed_mm_per_s", "stage_limits_mm", "filters",
                "grating_seconds_per_slot", "wavelength"):
        assert f"spec1.{key}" in problems
    assert "not an option of this simulator" in problems
    assert len(refused.value.problems) == 5


@pytest.mark.parametrize(("options", "pattern"), [
    ({"filters": ["a", "A"]}, "filter names must be unique"),
    ({"gratings": []}, "grating wheel needs at least one named slot"),
    ({"filter_focus_offsets": [1, 2]}, "2 filter focus offsets for 4 filters"),
    ({"grating_position": 3}, r"grating position 3 is not in 0\.\.2"),
    ({"stage_position_mm": 80}, r"stage_position_mm 80 is not within \[0, 75\]"),
    ({"stage_limits_mm": (10, 10)}, "min < max"),
    ({"stage_limits_mm": (0, math.inf)}, "two finite numbers"),
    ({"stage_speed_mm_per_s": 0}, "stage_speed_mm_per_s must be"),
    ({"filter_seconds_per_slot": -1}, "filter seconds per slot"),
])
def test_bad_construction_is_refused(options, pattern):
    with pytest.raises(InvalidValueError, match=pattern):
        SimSpectrograph("spec", **options)
