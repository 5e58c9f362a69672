"""State transitions of the unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import Storage, TransitionRecord

T0 = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)


def test_transition_round_trips(storage: Storage) -> None:
    added = storage.add_transition("ready", "scheduling", "dark enough", time=T0)
    assert storage.list_transitions() == [added]
    assert added == TransitionRecord(
        id=added.id, time=T0, from_state="ready", to_state="scheduling", reason="dark enough"
    )


def test_first_transition_has_no_from_state(storage: Storage) -> None:
    assert storage.add_transition(None, "sleeping").from_state is None


def test_transitions_in_a_range_newest_first(storage: Storage) -> None:
    states = ["sleeping", "ready", "scheduling", "slewing"]
    for minute, (old, new) in enumerate(pairwise(states)):
        storage.add_transition(old, new, time=T0 + timedelta(minutes=minute))
    listed = storage.list_transitions(since=T0 + timedelta(minutes=1))
    assert [row.to_state for row in listed] == ["slewing", "scheduling"]


def test_transition_without_a_target_state_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="to_state must be a non-empty string"):
        storage.add_transition("ready", "")
