"""plan(): a whole night, blocks that do not overlap, slews counted, never below the horizon."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import AltAz, SkyCoord, get_body
from astropy.time import Time

from nocturna.core.astro import site_location
from nocturna.observatory.overheads import unit_overheads
from nocturna.scheduler import Field, Observation, Scheduler, demo_fields_path, load_fields

OBSTRUCTIONS = [[[60, 60], [60, 130]], [[50, 340], [50, 25]], [[40, 200], [55, 230], [40, 260]]]
NIGHT = datetime(2026, 12, 14).date()


@pytest.fixture(scope="module")
def obstructed(make_config):  # type: ignore[no-untyped-def]
    config = make_config({"site.horizon.obstructions": OBSTRUCTIONS})
    scheduler = Scheduler(config.site, load_fields(demo_fields_path()),
                          config=config.scheduler)
    return scheduler, scheduler.plan(NIGHT)


def _altaz(site, field: Field, start: datetime, end: datetime, step_s: float = 20.0):  # type: ignore[no-untyped-def]
    """Independent check with astropy: altitude and azimuth through a block."""
    seconds = np.append(np.arange(0.0, (end - start).total_seconds(), step_s),
                        (end - start).total_seconds())
    times = Time(start) + seconds * u.s
    frame = AltAz(obstime=times, location=site_location(site))
    altaz = SkyCoord(field.ra_deg * u.deg, field.dec_deg * u.deg).transform_to(frame)
    return altaz.alt.deg, altaz.az.deg, times


def test_the_plan_fills_the_night_without_overlaps(obstructed):
    scheduler, blocks = obstructed
    window = scheduler.night_of(NIGHT)
    assert len(blocks) >= 15
    assert blocks[0].slew_start >= window.start and blocks[-1].end <= window.end
    for before, after in itertools.pairwise(blocks):
        assert after.slew_start >= before.end - timedelta(microseconds=2)
        assert after.start > before.end
        # sets on one field make one block, unless an autofocus run came between
        assert after.field != before.field or after.focus_s > 0


def test_slews_are_accounted_between_blocks(obstructed):
    scheduler, blocks = obstructed
    rate = scheduler.config.slew_rate.to_value("deg / s")
    settle = scheduler.config.settle_time.to_value("s")
    assert blocks[0].slew_s >= settle
    for before, after in itertools.pairwise(blocks):
        d_ra = abs((after.field.ra_deg - before.field.ra_deg + 180) % 360 - 180)
        d_dec = abs(after.field.dec_deg - before.field.dec_deg)
        assert after.slew_s == pytest.approx(max(d_ra, d_dec) / rate + settle, abs=0.5)
        assert (after.start - before.end).total_seconds() >= after.slew_s - 1e-3


def test_blocks_take_whole_sets_with_their_overheads(obstructed):
    scheduler, blocks = obstructed
    frame_s = scheduler.overheads.frame_s
    taken: dict[str, int] = {}
    for block in blocks:
        name = block.field.name
        observation = Observation(block.field, taken.get(name, 0))
        assert observation.set_finished  # a block starts at the start of a set…
        first = observation.exposures_taken
        expected = sum(block.field.frame_exptime_s(i) + frame_s
                       for i in range(first, first + block.frames))
        assert block.duration_s == pytest.approx(expected, abs=1e-3)
        taken[name] = first + block.frames
        assert Observation(block.field, taken[name]).set_finished  # …and ends at an end
        assert taken[name] <= block.field.total_frames
        assert block.score > 0


def test_the_plan_counts_pointing_and_autofocus_as_the_night_does(make_config):
    config = make_config()
    scheduler = Scheduler.from_config(config, load_fields(demo_fields_path()),
                                      overheads=unit_overheads(config))
    overheads = scheduler.overheads
    assert overheads.pointing_s > 0 and overheads.focus_start_s > overheads.focus_s > 0
    blocks = scheduler.plan(NIGHT)
    window = scheduler.night_of(NIGHT)
    first = blocks[0]
    assert first.focus_s == overheads.focus_start_s  # the night's first focus, at dark
    assert (first.start - window.start).total_seconds() >= first.setup_s - 1e-3
    for before, after in itertools.pairwise(blocks):
        assert after.pointing_s == overheads.pointing_s  # a slew, then a correction
        if after.field == before.field:
            assert after.focus_s == overheads.focus_s
    focus_times = [b.start.timestamp() for b in blocks if b.focus_s > 0]
    longest_set_s = max(b.duration_s for b in blocks)
    assert len(focus_times) >= window.duration.total_seconds() // overheads.focus_interval_s
    for earlier, later in itertools.pairwise(focus_times):  # due, then at the next set
        assert overheads.focus_interval_s <= later - earlier
        assert later - earlier <= overheads.focus_interval_s + longest_set_s + 600


def test_every_block_stays_above_the_horizon_and_away_from_the_moon(obstructed):
    scheduler, blocks = obstructed
    site = scheduler.site
    for block in blocks:
        alt, az, times = _altaz(site, block.field, block.start, block.end)
        above = scheduler.horizon.is_above(alt, az)
        assert above.all(), (f"{block.field.name} below the horizon at "
                             f"{times[~above][0].iso}: alt {alt[~above][0]:.2f}°, "
                             f"az {az[~above][0]:.1f}°")
        moon = get_body("moon", times[::10], site_location(site))
        target = SkyCoord(block.field.ra_deg * u.deg, block.field.dec_deg * u.deg)
        assert (moon.separation(target, origin_mismatch="ignore").deg >= 20).all()


def test_the_obstructions_change_the_plan(obstructed, make_config):
    scheduler, _blocks = obstructed
    config = make_config()
    free = Scheduler(config.site, scheduler.fields, config=config.scheduler).plan(NIGHT)
    below = []
    for block in free:
        alt, az, _ = _altaz(scheduler.site, block.field, block.start, block.end, 120.0)
        if not scheduler.horizon.is_above(alt, az).all():
            below.append(block.field.name)
    assert below, "the test obstructions should matter to the unobstructed plan"


def test_start_and_end_clip_the_plan(obstructed):
    scheduler, _ = obstructed
    start = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    end = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
    blocks = scheduler.plan(NIGHT, start=start, end=end)
    assert blocks and blocks[0].slew_start >= start and blocks[-1].end <= end


def test_a_plan_made_mid_night_takes_recorded_frames_into_account(make_config):
    config = make_config()
    scheduler = Scheduler(config.site, load_fields(demo_fields_path()),
                          config=config.scheduler)
    first = scheduler.plan(NIGHT)
    done, partial = first[0].field, first[1].field
    scheduler.record_visit(done.name, first[0].end, done.total_frames)
    scheduler.record_visit(partial.name, first[1].end, partial.exp_set_size)
    again = {b.field.name: b for b in scheduler.plan(NIGHT, start=first[1].end)}
    assert done.name not in again
    if partial.name in again:
        assert again[partial.name].frames == partial.total_frames - partial.exp_set_size


def test_a_thousand_random_fields_plan_without_overlap(make_config):
    config = make_config()
    rng = np.random.default_rng(3)
    fields = [Field(f"r{i}", float(rng.uniform(0, 360)),
                    float(np.degrees(np.arcsin(rng.uniform(-0.5, 1)))),
                    priority=float(rng.integers(1, 6)), min_nexp=10, exp_set_size=5)
              for i in range(1000)]
    scheduler = Scheduler(config.site, fields, config=config.scheduler)
    blocks = scheduler.plan(datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    window = scheduler.night_of(NIGHT)
    assert len(blocks) > 40
    assert blocks[0].slew_start >= window.start and blocks[-1].end <= window.end
    gaps = [(b.slew_start - a.end).total_seconds() for a, b in itertools.pairwise(blocks)]
    assert min(gaps) > -1e-5 and max(gaps) < 1e-3  # enough fields: no idle time
