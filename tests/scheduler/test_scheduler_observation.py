"""Observations: exposures in sets, filters rotating per set, finished on whole sets."""

from __future__ import annotations

from nocturna.scheduler import Field, Observation, PlannedExposure


def _field(**kwargs):  # type: ignore[no-untyped-def]
    values = {"name": "t", "ra_deg": 10.0, "dec_deg": 20.0, "min_nexp": 10,
              "exp_set_size": 4} | kwargs
    return Field(**values)


def test_total_frames_round_min_nexp_up_to_whole_sets():
    assert Observation(_field(min_nexp=10, exp_set_size=4)).total_frames == 12
    assert Observation(_field(min_nexp=8, exp_set_size=4)).total_frames == 8
    assert Observation(_field(min_nexp=1, exp_set_size=5)).total_frames == 5


def test_next_set_lists_a_whole_set_then_what_is_left_of_it():
    obs = Observation(_field(filters=("R", "G"), exptimes_s=(30, 60)))
    assert obs.next_set() == [PlannedExposure("R", 30.0, i) for i in range(4)]
    obs.record_exposure("a")
    assert obs.next_set() == [PlannedExposure("R", 30.0, i) for i in range(1, 4)]
    for image in "bcd":
        obs.record_exposure(image)
    assert obs.set_finished and obs.sets_taken == 1
    assert obs.next_set() == [PlannedExposure("G", 60.0, i) for i in range(4, 8)]
    assert obs.image_ids == list("abcd")


def test_sets_rotate_through_the_filters():
    obs = Observation(_field(filters=("L", "R", "G"), min_nexp=12, exp_set_size=2))
    seen = []
    while not obs.is_finished:
        planned = obs.next_set()
        seen.append(planned[0].filter)
        for _ in planned:
            obs.record_exposure()
    assert seen == ["L", "R", "G", "L", "R", "G"]


def test_finished_needs_min_nexp_and_a_whole_number_of_sets():
    obs = Observation(_field(min_nexp=10, exp_set_size=4))
    for _ in range(10):
        obs.record_exposure()
    assert not obs.is_finished and not obs.set_finished
    assert obs.remaining_frames == 2
    obs.record_exposure()
    obs.record_exposure()
    assert obs.is_finished and obs.remaining_frames == 0 and obs.next_set() == []
    assert obs.sets_taken == 3


def test_frames_beyond_the_total_finish_the_set_they_are_in():
    obs = Observation(_field(min_nexp=4, exp_set_size=4), exposures_taken=5)
    assert not obs.is_finished and obs.remaining_frames == 3
    assert [p.index for p in obs.next_set()] == [5, 6, 7]


def test_estimated_duration_counts_each_remaining_frame_and_the_overhead():
    obs = Observation(_field(filters=("R", "G"), exptimes_s=(30, 60), min_nexp=8,
                             exp_set_size=2))
    assert obs.estimated_duration_s(10) == 2 * (40 + 70 + 40 + 70)
    obs.record_exposure()
    assert obs.estimated_duration_s(10) == 40 + 2 * 70 + 2 * 40 + 2 * 70
    assert obs.estimated_duration_s() == 30 + 2 * 60 + 2 * 30 + 2 * 60


def test_reset_forgets_the_frames():
    obs = Observation(_field(), exposures_taken=7)
    obs.reset()
    assert obs.exposures_taken == 0 and obs.remaining_frames == 12
