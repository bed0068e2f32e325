"""SnapshotRepository on real SQLite files: retained snapshots (delivery rule 3)."""

from __future__ import annotations

import pathlib

import pytest

from kiosk.core.clock import FakeClock
from kiosk.store import ScheduleRepository, Snapshot, SnapshotRepository, open_database
from kiosk.store.connection import Connection
from kiosk.store.transaction import transaction


@pytest.fixture
def snapshots(db: Connection, clock: FakeClock) -> SnapshotRepository:
    return SnapshotRepository(db, now=clock.now)


def test_nothing_before_the_first_snapshot(snapshots: SnapshotRepository) -> None:
    for kind in ("config", "schedule", "residents", "notice"):
        assert snapshots.get(kind) is None


def test_replace_stores_the_snapshot(snapshots: SnapshotRepository) -> None:
    assert snapshots.replace("config", '{"kiosk_name":"B-01"}', None) is True
    assert snapshots.get("config") == Snapshot(
        "config", '{"kiosk_name":"B-01"}', None, "2024-05-01T08:00:00Z"
    )
    assert snapshots.get("notice") is None


def test_a_lower_version_is_ignored_and_changes_nothing(
    snapshots: SnapshotRepository, clock: FakeClock
) -> None:
    snapshots.replace("schedule", "v5", 5)
    before = snapshots.get("schedule")
    clock.advance(1 * 60)

    assert snapshots.replace("schedule", "v4", 4) is False
    assert snapshots.get("schedule") == before


def test_a_higher_or_equal_version_replaces(
    snapshots: SnapshotRepository, clock: FakeClock
) -> None:
    snapshots.replace("residents", "v5", 5)
    clock.advance(1 * 60)
    assert snapshots.replace("residents", "v5 again", 5) is True
    assert snapshots.get("residents") == Snapshot(
        "residents", "v5 again", 5, "2024-05-01T08:01:00Z"
    )
    assert snapshots.replace("residents", "v6", 6) is True
    snapshot = snapshots.get("residents")
    assert snapshot is not None and (snapshot.payload, snapshot.version) == ("v6", 6)


def test_no_version_always_replaces(snapshots: SnapshotRepository) -> None:
    assert snapshots.replace("notice", "first", None) is True
    assert snapshots.replace("notice", "second", None) is True
    assert snapshots.replace("notice", "versioned", 3) is True
    assert snapshots.replace("notice", "unversioned again", None) is True
    snapshot = snapshots.get("notice")
    assert snapshot is not None
    assert (snapshot.payload, snapshot.version) == ("unversioned again", None)


def test_kinds_are_separate(snapshots: SnapshotRepository) -> None:
    snapshots.replace("schedule", "schedule v9", 9)
    assert snapshots.replace("residents", "residents v1", 1) is True
    schedule = snapshots.get("schedule")
    assert schedule is not None and schedule.payload == "schedule v9"


def test_bad_arguments_are_refused(snapshots: SnapshotRepository) -> None:
    with pytest.raises(ValueError, match="kind"):
        snapshots.replace("visits", "x", 1)
    with pytest.raises(ValueError, match="kind"):
        snapshots.get("Config")
    with pytest.raises(TypeError):
        snapshots.replace("schedule", "x", True)
    with pytest.raises(TypeError):
        snapshots.replace("schedule", "x", "7")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        snapshots.replace("config", b"{}", None)  # type: ignore[arg-type]
    assert snapshots.get("schedule") is None


def test_replace_inside_a_rolled_back_transaction_is_undone(
    db: Connection, snapshots: SnapshotRepository
) -> None:
    snapshots.replace("config", "old", None)
    with pytest.raises(RuntimeError), transaction(db):
        assert snapshots.replace("config", "new", None) is True
        raise RuntimeError("applying the config failed")
    snapshot = snapshots.get("config")
    assert snapshot is not None and snapshot.payload == "old"


def test_sees_what_the_schedule_repository_applied(
    db: Connection, snapshots: SnapshotRepository
) -> None:
    ScheduleRepository(db).replace(4, [], '{"version":4,"visits":[]}')
    snapshot = snapshots.get("schedule")
    assert snapshot is not None
    assert (snapshot.payload, snapshot.version) == ('{"version":4,"visits":[]}', 4)
    assert snapshots.replace("schedule", "older", 3) is False


def test_snapshots_survive_close_and_reopen(path: pathlib.Path, clock: FakeClock) -> None:
    db = open_database(path)
    SnapshotRepository(db, now=clock.now).replace("notice", '{"text":"Count time"}', None)
    db.close()
    db = open_database(path)
    try:
        assert SnapshotRepository(db).get("notice") == Snapshot(
            "notice", '{"text":"Count time"}', None, "2024-05-01T08:00:00Z"
        )
    finally:
        db.close()
