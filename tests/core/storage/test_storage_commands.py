"""Operator commands: every one recorded with who sent it, accepted or refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from nocturna.core.errors import InvalidValueError
from nocturna.core.storage import CommandRecord, Storage

T0 = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


def test_a_command_round_trips_with_who_sent_it(storage: Storage) -> None:
    added = storage.add_command("alice", "operator", "observe",
                                {"name": "SN 2026A", "ra_deg": 10.5, "count": 2},
                                accepted=True, detail="next field", address="127.0.0.1",
                                time=T0)
    assert storage.list_commands() == [added]
    assert added == CommandRecord(id=added.id, time=T0, operator="alice", role="operator",
                                  address="127.0.0.1", command="observe",
                                  args={"name": "SN 2026A", "ra_deg": 10.5, "count": 2},
                                  accepted=True, detail="next field")


def test_a_refused_command_is_kept_as_refused(storage: Storage) -> None:
    storage.add_command("local", "operator", "resume", accepted=False,
                        detail="refused: state (nothing is paused)", time=T0)
    (row,) = storage.list_commands()
    assert row.accepted is False and row.args == {} and row.address is None
    assert row.detail.startswith("refused: state")


def test_commands_in_a_range_newest_first_with_a_limit(storage: Storage) -> None:
    for minute, name in enumerate(["park", "resume", "pause", "resume"]):
        storage.add_command("bob", "operator", name, accepted=True,
                            time=T0 + timedelta(minutes=minute))
    listed = storage.list_commands(since=T0 + timedelta(minutes=1),
                                   until=T0 + timedelta(minutes=3))
    assert [row.command for row in listed] == ["pause", "resume"]
    assert [row.command for row in storage.list_commands(limit=1)] == ["resume"]


def test_a_command_without_an_operator_is_refused_and_nothing_is_written(
        storage: Storage) -> None:
    with pytest.raises(InvalidValueError, match="operator must be a non-empty string"):
        storage.add_command("", "operator", "park", accepted=True)
    assert storage.list_commands() == []


def test_the_commands_table_comes_with_migration_3(storage: Storage) -> None:
    assert storage.schema_version >= 3
    columns = {c["name"] for c in inspect(storage.engine).get_columns("commands")}
    assert columns == {"id", "time", "operator", "role", "address", "command", "args",
                       "accepted", "detail"}
