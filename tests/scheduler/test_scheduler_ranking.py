"""best(): the same choice as astroplan's constraint scores, reasons, visits, run-time fields."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import AltAz, NonRotationTransformationWarning, SkyCoord, get_body
from astropy.time import Time

from nocturna.core.astro import site_location
from nocturna.core.errors import InvalidValueError
from nocturna.scheduler import Field, Scheduler, demo_fields_path, load_fields

TIMES = [datetime(2026, 12, 15, h, m, tzinfo=UTC) for h, m in ((5, 15), (5, 45), (6, 15),
                                                               (6, 45))]


def _short(name: str, ra: float, dec: float) -> Field:
    """One 1-s frame: the duration constraint (astroplan has none) never bites."""
    return Field(name, ra, dec, exptimes_s=(1.0,), min_nexp=1, exp_set_size=1)


@pytest.fixture(scope="module")
def comparison(make_config, site):  # type: ignore[no-untyped-def]
    """Random fields below "bait" fields placed 12° above the Moon: the highest field is
    always a bait, and the Moon constraint must rule it out."""
    from astroplan import AltitudeConstraint, FixedTarget, MoonSeparationConstraint, Observer

    location = site_location(site)
    times = Time(TIMES)
    moon = get_body("moon", times, location).transform_to(AltAz(obstime=times,
                                                                location=location))
    baits = []
    for k in range(len(TIMES)):
        above = SkyCoord(alt=moon.alt[k] + 12 * u.deg, az=moon.az[k],
                         frame=AltAz(obstime=times[k], location=location)).icrs
        baits.append((float(above.ra.deg), float(above.dec.deg)))
    rng = np.random.default_rng(7)
    ra = rng.uniform(0.0, 360.0, 400)
    dec = np.degrees(np.arcsin(rng.uniform(-0.6, 1.0, 400)))
    frame = AltAz(obstime=times[None, :], location=location)
    alt = SkyCoord(ra * u.deg, dec * u.deg)[:, None].transform_to(frame).alt.deg
    bait_alt = SkyCoord([b[0] for b in baits] * u.deg, [b[1] for b in baits] * u.deg
                        )[:, None].transform_to(frame).alt.deg.max(axis=0)
    keep = np.flatnonzero(np.all(alt < bait_alt - 1.0, axis=1))
    fields = [_short(f"bait{k}", *b) for k, b in enumerate(baits)]
    fields += [_short(f"r{i}", float(ra[i]), float(dec[i])) for i in keep]
    config = make_config({"scheduler.weights": {"altitude": 1, "moon": 0, "priority": 0,
                                                "visited": 0}})
    scheduler = Scheduler(site, fields, config=config.scheduler)
    observer = Observer(location=location)
    targets = [FixedTarget(SkyCoord(f.ra_deg * u.deg, f.dec_deg * u.deg), name=f.name)
               for f in fields]
    altitude = AltitudeConstraint(30 * u.deg, 90 * u.deg, boolean_constraint=False)
    moon_far = MoonSeparationConstraint(min=20 * u.deg)
    scores = {}
    with warnings.catch_warnings():  # astroplan separates in the Moon's GCRS frame
        warnings.simplefilter("ignore", NonRotationTransformationWarning)
        for t in TIMES:
            alt_score = np.asarray(altitude(observer, targets, times=Time([t]))).reshape(-1)
            moon_ok = np.asarray(moon_far(observer, targets, times=Time([t]))).reshape(-1)
            scores[t] = (alt_score, moon_ok)
    return scheduler, fields, scores


@pytest.mark.parametrize("at", TIMES, ids=[f"{t:%H%M}" for t in TIMES])
def test_best_field_is_astroplans_best_and_the_moon_matters(comparison, at):
    scheduler, fields, scores = comparison
    alt_score, moon_ok = scores[at]
    astroplan_best = fields[int(np.argmax(alt_score * moon_ok))].name
    highest = fields[int(np.argmax(alt_score))].name
    ours = scheduler.best(at, limit=3)
    assert highest.startswith("bait") and not moon_ok[int(np.argmax(alt_score))]
    assert ours[0].name == astroplan_best != highest
    assert ours[0].score > ours[1].score


def test_altitude_scores_and_moon_failures_agree_with_astroplan(comparison):
    scheduler, _fields, scores = comparison
    for at in TIMES:
        alt_score, moon_ok = scores[at]
        _, instant = scheduler.evaluate(at)
        assert np.abs(instant.scores["altitude"] - alt_score).max() < 1e-5  # 1″ = 4.6e-6
        assert np.array_equal(instant.moon_ok, moon_ok.astype(bool))


@pytest.fixture
def demo(make_config, site):  # type: ignore[no-untyped-def]
    config = make_config()
    return Scheduler(site, load_fields(demo_fields_path()), config=config.scheduler)


def test_fields_that_fail_come_last_with_their_reasons(demo):
    ranked = demo.best(datetime(2026, 12, 15, 8, 0, tzinfo=UTC))
    scores = [r.score for r in ranked]
    assert scores == sorted(scores, reverse=True) and len(ranked) == len(demo.fields)
    good = [r for r in ranked if r.score > 0]
    bad = [r for r in ranked if r.score == 0]
    assert good and bad
    assert all(not r.failures for r in good) and all(r.failures for r in bad)
    assert all(set(r.reasons) == {"altitude", "moon", "priority", "visited"} for r in ranked)
    low = next(r for r in bad if r.alt_deg < 30)
    assert "below the horizon" in low.failures[0]


def test_in_daylight_every_field_fails_for_lack_of_darkness(demo):
    ranked = demo.best(datetime(2026, 12, 15, 1, 0, tzinfo=UTC), limit=3)
    assert len(ranked) == 3
    assert all(r.score == 0 and r.failures[0].startswith("not dark") for r in ranked)


def test_a_field_that_sets_before_its_observation_ends_fails(make_config, site):
    config = make_config()
    at = datetime(2026, 12, 15, 6, 0, tzinfo=UTC)
    probe = Scheduler(site, [_short("probe", 0.0, 0.0)], config=config.scheduler)
    alt, _ = probe.altaz(at)
    # a field 1° above the default horizon, setting (north-west, far from the Moon)
    setting = SkyCoord(alt=31 * u.deg, az=300 * u.deg, frame=AltAz(
        obstime=Time(at), location=site_location(site))).icrs
    short = _short("short", float(setting.ra.deg), float(setting.dec.deg))
    long = Field("long", float(setting.ra.deg), float(setting.dec.deg), exptimes_s=(300,),
                 min_nexp=10, exp_set_size=5)
    scheduler = Scheduler(site, [short, long], config=config.scheduler)
    ranked = {r.name: r for r in scheduler.best(at)}
    assert ranked["short"].score > 0
    assert ranked["long"].score == 0
    assert "not observable long enough" in ranked["long"].failures[0]
    assert alt.shape == (1,)


def test_visits_lower_the_score_and_a_finished_field_fails(demo):
    at = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    before = {r.name: r for r in demo.best(at)}
    name = next(n for n, r in before.items() if r.score > 0)
    field = demo.field(name)
    demo.record_visit(name, at - timedelta(minutes=30), field.exp_set_size)
    after = {r.name: r for r in demo.best(at)}
    assert after[name].reasons["visited"] == pytest.approx(
        1 - field.exp_set_size / field.total_frames)
    assert after[name].score < before[name].score
    continuing = {r.name: r for r in demo.best(at, current=name)}
    assert continuing[name].reasons["visited"] == 1.0 and continuing[name].slew_s == 0.0
    demo.record_visit(name, at - timedelta(minutes=10), field.total_frames)
    finished = {r.name: r for r in demo.best(at)}
    assert finished[name].score == 0
    assert "already visited" in finished[name].failures[0]
    assert demo.frames_taken(name, at) == field.exp_set_size + field.total_frames
    tomorrow = demo.best(at + timedelta(days=1))
    assert next(r for r in tomorrow if r.name == name).reasons["visited"] == 1.0


def test_record_visit_refuses_negative_frames(demo):
    with pytest.raises(InvalidValueError, match="frames"):
        demo.record_visit("M42", datetime(2026, 12, 15, 8, 0, tzinfo=UTC), -1)


def test_fields_are_added_and_removed_at_run_time(demo):
    at = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
    demo.best(at)
    window = demo.night_window(at)
    tables = demo.tables(window)
    until_before = tables.until.copy()
    new = Field("zenith-ish", 120.0, 20.0, priority=5)
    demo.add_field(new)
    assert demo.tables(window) is tables  # the night is not recomputed...
    assert tables.until.shape[1] == until_before.shape[1] + 1
    assert np.array_equal(tables.until[:, :-1], until_before)  # ...nor the other fields
    ranked = {r.name: r for r in demo.best(at)}
    alt, _ = demo.altaz(at)
    assert ranked["zenith-ish"].alt_deg == pytest.approx(alt[-1], abs=1e-5)
    fresh = Scheduler(demo.site, [*demo.fields], config=demo.config)
    assert {r.name: round(r.score, 9) for r in fresh.best(at)} == {
        n: round(r.score, 9) for n, r in ranked.items()}
    with pytest.raises(InvalidValueError, match="already exists"):
        demo.add_field(new)
    removed = demo.remove_field("M42")
    assert removed.name == "M42" and "M42" not in {f.name for f in demo.fields}
    assert tables.until.shape[1] == until_before.shape[1]
    assert "M42" not in {r.name for r in demo.best(at)}
    with pytest.raises(InvalidValueError, match="no field named 'M42'"):
        demo.remove_field("M42")


def test_limit_returns_the_top_of_the_full_ranking(demo):
    at = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
    full = demo.best(at)
    assert [r.name for r in demo.best(at, limit=4)] == [r.name for r in full[:4]]
    assert [r.name for r in demo.best(at, limit=len(full) - 1)] == [r.name for r in full[:-1]]
    with pytest.raises(InvalidValueError):
        demo.best(at, limit=0)
