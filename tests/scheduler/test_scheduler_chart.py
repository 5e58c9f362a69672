"""The plan chart's local-time axis: the site's zone, else the longitude's offset."""

from __future__ import annotations


def test_the_charts_local_time_is_the_sites_zone_else_the_longitudes(config):
    from types import SimpleNamespace

    from nocturna.scheduler.chart import local_zone

    zone, label = local_zone(config.site)
    assert label == "US/Hawaii" and zone.utcoffset(None) is None  # a real zone, with rules
    bare = SimpleNamespace(timezone=None, longitude=config.site.longitude)
    zone, label = local_zone(bare)
    assert label == "UTC-10 from the longitude"  # -155.58° / 15 = -10.4 h
    assert zone.utcoffset(None).total_seconds() == -10 * 3600
