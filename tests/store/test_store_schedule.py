"""ScheduleRepository on a real SQLite file."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from sqlcipher3 import dbapi2 as sqlite3

from kiosk.core.clock import FakeClock
from kiosk.store import ScheduleRepository, open_database
from kiosk.store.connection import Connection
from kiosk.store.database import connect
from kiosk.store.transaction import transaction
from tests.store.opened import OpenedSchedule


def visit(visit_id: str, starts_at: str, **overrides: Any) -> dict[str, Any]:
    row = {
        "visit_id": visit_id,
        "starts_at": starts_at,
        "ends_at": starts_at.replace(":00:00Z", ":30:00Z"),
        "kind": "remote",
        "status": "scheduled",
        "inmate_id": "i-100",
        "inmate_name": "Ana Díaz",
        "visitor_name": "Luis Díaz",
        "confirmation_code_verifier": None,
        "peer_kiosk_id": None,
        "visitor_first_visit": 0,
        "visitor_captures": None,
        "station_kiosk_id": None,
        "station_name": None,
    }
    row.update(overrides)
    return row


A = visit("a", "2024-05-01T12:00:00Z", kind="onsite", confirmation_code_verifier="scrypt$x")
B = visit("b", "2024-05-01T09:00:00Z", peer_kiosk_id="lobby-01")
C = visit("c", "2024-05-02T09:00:00Z", status="cancelled")


@pytest.fixture
def repo(db: Connection, clock: FakeClock) -> ScheduleRepository:
    return OpenedSchedule(db, now=clock.now)


def snapshot_row(db: Connection) -> tuple[Any, ...] | None:
    return db.execute(
        "SELECT version, payload, applied_at FROM snapshots WHERE kind = 'schedule'"
    ).fetchone()


def test_empty_before_the_first_snapshot(repo: ScheduleRepository) -> None:
    assert repo.version() is None
    assert repo.visits() == []


def test_replace_stores_visits_in_start_order_and_the_snapshot(
    repo: ScheduleRepository, db: Connection
) -> None:
    assert repo.replace(3, [A, C, B], '{"version":3}') is True
    assert repo.version() == 3
    assert repo.visits() == [B, A, C]
    assert snapshot_row(db) == (3, '{"version":3}', "2024-05-01T08:00:00Z")


def test_replace_is_whole(repo: ScheduleRepository) -> None:
    repo.replace(1, [A, B, C], "v1")
    b_moved = {**B, "starts_at": "2024-05-03T09:00:00Z", "ends_at": "2024-05-03T09:30:00Z"}
    d = visit("d", "2024-05-01T15:00:00Z")

    assert repo.replace(2, [b_moved, d], "v2") is True
    assert repo.visits() == [d, b_moved]  # a and c, absent from the snapshot, are gone
    assert repo.version() == 2


def test_an_empty_snapshot_clears_the_schedule(repo: ScheduleRepository) -> None:
    repo.replace(1, [A, B], "v1")
    assert repo.replace(2, [], "v2") is True
    assert repo.visits() == []
    assert repo.version() == 2


def test_a_lower_version_is_ignored_and_changes_nothing(
    repo: ScheduleRepository, db: Connection, clock: FakeClock
) -> None:
    repo.replace(5, [A, B], "v5")
    before = snapshot_row(db)
    clock.advance(1 * 60)

    assert repo.replace(4, [C], "v4") is False
    assert repo.version() == 5
    assert repo.visits() == [B, A]
    assert snapshot_row(db) == before


def test_an_equal_version_is_applied_again(
    repo: ScheduleRepository, db: Connection, clock: FakeClock
) -> None:
    repo.replace(5, [A, B], "first")
    clock.advance(1 * 60)
    a_changed = {**A, "visitor_name": "Someone Else"}

    assert repo.replace(5, [a_changed], "again") is True
    assert repo.visits() == [a_changed]
    assert snapshot_row(db) == (5, "again", "2024-05-01T08:01:00Z")


def test_a_failing_replace_keeps_the_old_schedule(repo: ScheduleRepository, db: Connection) -> None:
    repo.replace(1, [A, B], "v1")
    before = snapshot_row(db)

    # Two rows for one visit: the insert fails after the old rows were deleted.
    with pytest.raises(sqlite3.IntegrityError):
        repo.replace(2, [C, C], "v2")
    with pytest.raises(ValueError, match="lacks"):
        repo.replace(2, [C, {**A, "ends_at": None}], "v2")
    with pytest.raises(ValueError, match="unknown"):
        repo.replace(2, [{**C, "inmate_display_name": "typo"}], "v2")

    assert repo.visits() == [B, A]
    assert snapshot_row(db) == before
    assert not db.in_transaction


def test_replace_inside_a_rolled_back_transaction_is_undone(
    repo: ScheduleRepository, db: Connection
) -> None:
    repo.replace(1, [A], "v1")
    with pytest.raises(RuntimeError), transaction(db):
        assert repo.replace(2, [B], "v2") is True
        assert repo.visits() == [B]
        raise RuntimeError("the enclosing unit of work failed")
    assert repo.version() == 1
    assert repo.visits() == [A]


def test_a_failing_replace_inside_a_transaction_undoes_only_itself(
    repo: ScheduleRepository, db: Connection
) -> None:
    repo.replace(1, [A], "v1")
    with transaction(db):
        repo.replace(2, [B], "v2")
        with pytest.raises(sqlite3.IntegrityError):
            repo.replace(3, [C, C], "v3")
    assert repo.version() == 2
    assert repo.visits() == [B]


def test_the_schedule_survives_close_and_reopen(path: pathlib.Path, clock: FakeClock) -> None:
    db = open_database(path)
    ScheduleRepository(db, now=clock.now).replace(7, [A, B, C], "v7")
    db.close()

    # A separate plain connection sees it committed, not only the one that wrote it.
    plain = connect(path)
    try:
        assert plain.execute("SELECT count(*) FROM visits").fetchone()[0] == 3
    finally:
        plain.close()

    db = open_database(path)
    try:
        repo = OpenedSchedule(db)
        assert repo.version() == 7
        assert repo.visits() == [B, A, C]
    finally:
        db.close()


def test_two_kiosks_in_one_process_keep_their_own_schedules(tmp_path: pathlib.Path) -> None:
    first = open_database(tmp_path / "one" / "kiosk.db")
    second = open_database(tmp_path / "two" / "kiosk.db")
    try:
        ScheduleRepository(first).replace(9, [A], "one")
        ScheduleRepository(second).replace(2, [B, C], "two")
        assert OpenedSchedule(first).visits() == [A]
        assert ScheduleRepository(first).version() == 9
        assert OpenedSchedule(second).visits() == [B, C]
        assert ScheduleRepository(second).version() == 2
    finally:
        first.close()
        second.close()
