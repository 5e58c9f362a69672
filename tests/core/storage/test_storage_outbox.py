"""The network outbox: messages kept until the broker acknowledges them, oldest first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nocturna.core.errors import StorageError
from nocturna.core.storage import Storage


def test_unsent_messages_come_back_oldest_first_until_marked_sent(storage: Storage, sim_clock):
    first = storage.add_outbox("a" * 32, "nocturna/u1/transition", '{"n": 1}')
    second = storage.add_outbox("b" * 32, "nocturna/u1/frame", '{"n": 2}')
    third = storage.add_outbox("c" * 32, "nocturna/u1/transition", '{"n": 3}')
    assert [r.message_id for r in storage.list_outbox_unsent()] == ["a" * 32, "b" * 32, "c" * 32]
    assert [r.id for r in storage.list_outbox_unsent(limit=2)] == [first.id, second.id]
    assert storage.mark_outbox_sent([first.id, third.id]) == 2
    assert storage.mark_outbox_sent([first.id]) == 0  # already sent: its time stays
    assert [r.payload for r in storage.list_outbox_unsent()] == ['{"n": 2}']
    sent = {r.message_id: r.sent_at for r in storage.list_outbox()}
    assert sent["a" * 32] == sim_clock.now() and sent["b" * 32] is None


def test_a_retained_status_replaces_the_unsent_one_only(storage: Storage, sim_clock):
    old = storage.add_outbox("1" * 32, "nocturna/u1/status", "old", retain=True)
    storage.mark_outbox_sent([old.id])
    storage.add_outbox("2" * 32, "nocturna/u1/status", "newer", retain=True,
                       replace_unsent=True)
    storage.add_outbox("3" * 32, "nocturna/u1/frame", "frame")
    storage.add_outbox("4" * 32, "nocturna/u1/status", "newest", retain=True,
                       replace_unsent=True)
    assert [(r.payload, r.retain) for r in storage.list_outbox_unsent()] == [
        ("frame", False), ("newest", True)]
    assert [r.payload for r in storage.list_outbox()] == ["old", "frame", "newest"]


def test_a_message_id_is_kept_once(storage: Storage, sim_clock):
    storage.add_outbox("d" * 32, "nocturna/u1/frame", "{}")
    with pytest.raises(StorageError):
        storage.add_outbox("d" * 32, "nocturna/u1/frame", "{}")
    assert len(storage.list_outbox()) == 1


def test_pruning_forgets_only_messages_sent_before_the_limit(storage: Storage, sim_clock):
    now = sim_clock.now()
    rows = [storage.add_outbox(f"{i:032x}", "nocturna/u1/frame", "{}") for i in range(3)]
    storage.mark_outbox_sent([rows[0].id], time=now - timedelta(days=8))
    storage.mark_outbox_sent([rows[1].id], time=now - timedelta(days=6))
    assert storage.prune_outbox(now - timedelta(days=7)) == 1
    assert [r.id for r in storage.list_outbox()] == [rows[1].id, rows[2].id]
