"""DAYOBS: one observing day for a whole night, whatever the UTC date does."""

from __future__ import annotations

from datetime import UTC, date, datetime

from nocturna.core.dayobs import day_obs, observing_day


def test_a_hawaii_night_is_one_observing_day_across_the_utc_date_change():
    evening = datetime(2026, 12, 7, 4, 30, tzinfo=UTC)  # 18:30 on the 6th in Hawaii
    morning = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # 05:30 on the 7th
    assert day_obs(evening, "Pacific/Honolulu") == day_obs(morning, "Pacific/Honolulu") \
        == 20261206
    assert observing_day(morning, "Pacific/Honolulu") == date(2026, 12, 6)


def test_without_a_zone_the_observing_day_is_utc_minus_12_hours():
    assert day_obs(datetime(2026, 12, 7, 11, 59)) == 20261206
    assert day_obs(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)) == 20261207
