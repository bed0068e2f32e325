"""SignInFailuresRepository on real SQLite files: a pause survives a restart."""

from __future__ import annotations

import pathlib
from datetime import UTC, datetime, timedelta, timezone

from kiosk.store import open_database
from kiosk.store.connection import Connection
from kiosk.store.sign_in_failures import FailureRecord, SignInFailuresRepository

UNTIL = datetime(2026, 11, 23, 19, 5, tzinfo=UTC)


def test_a_resident_who_never_failed_has_a_clean_record(db: Connection) -> None:
    assert SignInFailuresRepository(db).get("A1") == FailureRecord("A1", 0, 0, None)


def test_put_then_get_gives_the_same_record_back(db: Connection) -> None:
    repository = SignInFailuresRepository(db)
    repository.put(FailureRecord("A1", 3, 0, None))
    assert repository.get("A1") == FailureRecord("A1", 3, 0, None)
    repository.put(FailureRecord("A1", 0, 1, UNTIL))
    got = repository.get("A1")
    assert got == FailureRecord("A1", 0, 1, UNTIL)
    assert got.locked_until.utcoffset() == timedelta(0)  # aware: comparable with clock.now()


def test_a_time_in_another_zone_is_kept_as_the_same_instant(db: Connection) -> None:
    repository = SignInFailuresRepository(db)
    chicago = UNTIL.astimezone(timezone(timedelta(hours=-6)))
    repository.put(FailureRecord("A1", 0, 1, chicago))
    assert repository.get("A1").locked_until == UNTIL
    stored = db.execute("SELECT locked_until FROM sign_in_failures").fetchone()[0]
    assert stored == "2026-11-23T19:05:00Z"


def test_clear_forgets_one_resident_only(db: Connection) -> None:
    repository = SignInFailuresRepository(db)
    repository.put(FailureRecord("A1", 2, 1, UNTIL))
    repository.put(FailureRecord("A2", 4, 0, None))
    repository.clear("A1")
    repository.clear("nobody")
    assert repository.get("A1") == FailureRecord("A1", 0, 0, None)
    assert repository.get("A2") == FailureRecord("A2", 4, 0, None)


def test_records_survive_close_and_reopen(path: pathlib.Path) -> None:
    db = open_database(path)
    SignInFailuresRepository(db).put(FailureRecord("A1", 0, 2, UNTIL))
    db.close()
    db = open_database(path)
    try:
        assert SignInFailuresRepository(db).get("A1") == FailureRecord("A1", 0, 2, UNTIL)
    finally:
        db.close()
