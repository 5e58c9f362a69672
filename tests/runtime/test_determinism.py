"""Virtual time: the same night with the same seed gives the same transitions and frames,
whatever the machine is doing meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime

from nocturna.core.storage import Storage
from nocturna.runtime.runner import run
from unit_helpers import unit_config

START = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)


def night(root, seed: int) -> tuple[list[tuple], list[tuple]]:
    """The transitions and frames of a two-hour simulated night."""
    root.mkdir()
    config = unit_config(root)
    summary = run(config, simulate=True, start=START, until=UNTIL, seed=seed,
                  signals=False).summary
    assert summary.parked and summary.closed
    with Storage.open(data_dir=config.data_dir) as storage:
        transitions = [(t.time, t.from_state, t.to_state, t.reason)
                       for t in reversed(storage.list_transitions())]
        frames = [(r.image_id, r.start_time, r.exposure_time_s, r.header.get("OBJECT"))
                  for r in sorted(storage.list_exposures(), key=lambda r: r.image_id)]
    return transitions, frames


def test_the_same_seed_gives_the_same_night(tmp_path):
    first = night(tmp_path / "first", seed=3)
    second = night(tmp_path / "second", seed=3)
    assert len(first[1]) > 5
    assert first[0] == second[0]
    assert first[1] == second[1]


def test_the_night_takes_simulated_not_wall_time(tmp_path):
    transitions, frames = night(tmp_path / "night", seed=1)
    span = (transitions[-1][0] - transitions[0][0]).total_seconds()
    assert span >= 2 * 3600 - 60  # two simulated hours went by
    assert sum(f[2] for f in frames if f[3]) > 3600  # more than an hour of exposures
