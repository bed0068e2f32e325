"""ProcessedRepository on real SQLite files: ids applied exactly once (delivery rule 2)."""

from __future__ import annotations

import pathlib
from datetime import timedelta

import pytest

from kiosk.core.clock import FakeClock
from kiosk.store import MessagesRepository, ProcessedEntry, ProcessedRepository, open_database
from kiosk.store.connection import Connection
from kiosk.store.transaction import transaction


@pytest.fixture
def processed(db: Connection, clock: FakeClock) -> ProcessedRepository:
    return ProcessedRepository(db, now=clock.now)


def test_an_id_never_seen(processed: ProcessedRepository) -> None:
    assert processed.first_result("command", "cmd-1") is None
    assert processed.pending("command") == []


def test_recording_twice_keeps_the_first_result(
    processed: ProcessedRepository, clock: FakeClock
) -> None:
    assert processed.record("command", "cmd-1", '{"ok":true}') is True
    clock.advance(5 * 60)
    assert processed.record("command", "cmd-1", '{"ok":false}') is False
    assert processed.record("command", "cmd-1") is False
    assert processed.first_result("command", "cmd-1") == ProcessedEntry(
        "command", "cmd-1", '{"ok":true}', "2024-05-01T08:00:00Z"
    )


def test_a_pending_id_gets_its_result_once(
    processed: ProcessedRepository, clock: FakeClock
) -> None:
    assert processed.record("command", "cmd-1") is True
    assert processed.first_result("command", "cmd-1") == ProcessedEntry(
        "command", "cmd-1", None, "2024-05-01T08:00:00Z"
    )
    clock.advance(3)
    assert processed.set_result("command", "cmd-1", '{"ok":true}') is True
    assert processed.set_result("command", "cmd-1", '{"ok":false}') is False
    entry = processed.first_result("command", "cmd-1")
    assert entry is not None
    assert entry.result == '{"ok":true}'
    assert entry.processed_at == "2024-05-01T08:00:00Z"  # when it was received


def test_set_result_records_an_id_not_recorded_yet(processed: ProcessedRepository) -> None:
    assert processed.set_result("command", "cmd-9", '{"ok":false,"error":"expired"}') is True
    assert processed.record("command", "cmd-9") is False
    entry = processed.first_result("command", "cmd-9")
    assert entry is not None and entry.result == '{"ok":false,"error":"expired"}'


def test_pending_lists_ids_without_a_result_oldest_first(
    processed: ProcessedRepository, clock: FakeClock
) -> None:
    processed.record("command", "c-3")
    # The wall clock stepped back: order is still arrival.
    clock.set(clock.now() - timedelta(hours=1))
    processed.record("command", "c-1")
    processed.record("command", "c-2", '{"ok":true}')
    processed.record("message", "m-1")
    processed.record("command", "c-0")

    assert processed.pending("command") == ["c-3", "c-1", "c-0"]
    assert processed.pending("message") == ["m-1"]
    assert processed.pending("message_status") == []
    processed.set_result("command", "c-1", '{"ok":true}')
    assert processed.pending("command") == ["c-3", "c-0"]


def test_kinds_are_separate(processed: ProcessedRepository) -> None:
    assert processed.record("message", "x-1") is True
    assert processed.record("command", "x-1", "r") is True
    assert processed.record("message_status", "x-1") is True
    message = processed.first_result("message", "x-1")
    assert message is not None and message.result is None


def test_unknown_kinds_and_empty_ids_are_refused(processed: ProcessedRepository) -> None:
    with pytest.raises(ValueError, match="kind"):
        processed.record("message-status", "x")
    with pytest.raises(ValueError, match="kind"):
        processed.pending("commands")
    with pytest.raises(ValueError, match="id"):
        processed.first_result("command", "")


def test_a_rolled_back_transaction_leaves_neither_message_nor_id(
    db: Connection, processed: ProcessedRepository
) -> None:
    messages = MessagesRepository(db)
    with pytest.raises(RuntimeError), transaction(db):
        assert messages.add_incoming(
            "m-1",
            "i-100",
            "c-1",
            "Luis",
            "2024-05-01T07:00:00Z",
            "Hola",
            [("p-1", "image/png", b"\x89PNG")],
        )
        assert processed.record("message", "m-1") is True
        raise RuntimeError("power cut before commit")
    assert messages.get("m-1") is None
    assert messages.photos("m-1") == []
    assert processed.first_result("message", "m-1") is None

    # Delivered again, it is applied: nothing of the first attempt is in the way.
    with transaction(db):
        assert messages.add_incoming(
            "m-1", "i-100", "c-1", "Luis", "2024-05-01T07:00:00Z", "Hola", []
        )
        assert processed.record("message", "m-1") is True
    assert messages.get("m-1") is not None
    assert processed.first_result("message", "m-1") is not None


def test_recording_inside_a_transaction_is_seen_only_after_commit(
    db: Connection, path: pathlib.Path, processed: ProcessedRepository
) -> None:
    other = open_database(path)
    try:
        with transaction(db):
            processed.record("command", "cmd-1")
            assert ProcessedRepository(other).first_result("command", "cmd-1") is None
        assert ProcessedRepository(other).first_result("command", "cmd-1") is not None
    finally:
        other.close()


def test_ids_survive_close_and_reopen(path: pathlib.Path) -> None:
    db = open_database(path)
    ProcessedRepository(db).record("command", "cmd-1", '{"ok":true}')
    ProcessedRepository(db).record("command", "cmd-2")
    db.close()

    db = open_database(path)
    try:
        processed = ProcessedRepository(db)
        assert processed.record("command", "cmd-1") is False
        entry = processed.first_result("command", "cmd-1")
        assert entry is not None and entry.result == '{"ok":true}'
        assert processed.pending("command") == ["cmd-2"]
    finally:
        db.close()
