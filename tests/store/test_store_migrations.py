"""Schema migrations and opening the database, on real SQLite files."""

from __future__ import annotations

import os
import pathlib
import sqlite3 as plain_sqlite
import subprocess
import sys
import threading
from typing import Any

import pytest
from sqlcipher3 import dbapi2 as sqlite3

from kiosk.store import StoreError, migrations, open_database, schema_version
from kiosk.store.connection import Connection
from kiosk.store.database import connect
from kiosk.store.migrations import MIGRATIONS, migrate
from kiosk.store.pepper import CODE_VERIFIER, PIN_VERIFIER
from kiosk.store.sealed_secrets import SealedSecrets

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
LATEST = len(MIGRATIONS)

# Which tables each schema version has. A new migration must extend this and SAMPLE_ROWS.
TABLES_AT = {
    0: set(),
    1: {"snapshots", "visits"},
    2: {"snapshots", "visits", "residents", "badge_lookups", "messages", "photos"},
    3: {
        "snapshots",
        "visits",
        "residents",
        "badge_lookups",
        "messages",
        "photos",
        "outbox",
        "processed",
        "events",
    },
}
# Version 4 adds an index only.
TABLES_AT[4] = TABLES_AT[3]
TABLES_AT[5] = TABLES_AT[4] | {"sign_in_failures"}
TABLES_AT[6] = TABLES_AT[5]
TABLES_AT[7] = TABLES_AT[6]
TABLES_AT[8] = TABLES_AT[7] | {"pepper"}
TABLES_AT[9] = TABLES_AT[8] | {"roster", "slots"}
# Columns added to an existing table, by the version that adds them: rows written before
# that version read them back as NULL.
COLUMNS_ADDED_AT = {
    5: {"messages": {"credits_refunded"}},
    6: {"visits": {"visitor_first_visit", "visitor_captures", "station_kiosk_id", "station_name"}},
    7: {"messages": {"photos_removed"}},  # NOT NULL DEFAULT 0: earlier rows read back 0
}

# Representative rows per table, in an order that satisfies the foreign keys.
SAMPLE_ROWS: dict[str, list[dict[str, Any]]] = {
    "snapshots": [
        {
            "kind": "config",
            "version": None,
            "payload": '{"v":1,"type":"config","kiosk_name":"B-01"}',
            "applied_at": "2024-05-01T08:00:00Z",
        },
        {
            "kind": "schedule",
            "version": 12,
            "payload": '{"v":1,"type":"schedule","version":12,"visits":[]}',
            "applied_at": "2024-05-01T08:00:01Z",
        },
    ],
    "visits": [
        {
            "visit_id": "v-1",
            "starts_at": "2024-05-01T10:00:00Z",
            "ends_at": "2024-05-01T10:30:00Z",
            "kind": "onsite",
            "status": "scheduled",
            "inmate_id": "i-100",
            "inmate_name": "Ana Díaz",
            "visitor_name": "Luis Díaz",
            "confirmation_code_verifier": "scrypt$16384$8$1$c2FsdA==$aGFzaA==",
            "peer_kiosk_id": "hu-b-01",
            "visitor_first_visit": 0,
            "visitor_captures": None,
            "station_kiosk_id": None,
            "station_name": None,
        },
        {
            "visit_id": "v-2",
            "starts_at": "2024-05-01T11:00:00Z",
            "ends_at": "2024-05-01T11:20:00Z",
            "kind": "privileged",
            "status": "cancelled",
            "inmate_id": "i-101",
            "inmate_name": "Bo Chen",
            "visitor_name": "Counsel",
            "confirmation_code_verifier": None,
            "peer_kiosk_id": None,
            "visitor_first_visit": 0,
            "visitor_captures": None,
            "station_kiosk_id": None,
            "station_name": None,
        },
    ],
    "residents": [
        {
            "inmate_id": "i-100",
            "booking_number": "B2024-0001",
            "display_name": "Ana Díaz",
            "language": "es",
            "pin_verifier": "scrypt$16384$8$1$c2FsdA==$aGFzaA==",
            "message_credits": 4,
        }
    ],
    "badge_lookups": [{"lookup": "9f86d081884c7d65", "inmate_id": "i-100"}],
    "messages": [
        {
            "message_id": "m-1",
            "inmate_id": "i-100",
            "direction": "in",
            "contact_id": "c-1",
            "contact_name": "Luis",
            "sent_at": "2024-05-01T07:00:00Z",
            "body": "Hola ✓",
            "status": "delivered",
            "reason": None,
            "read_at": None,
            "credits_refunded": None,
            "photos_removed": 0,
        },
        {
            "message_id": "m-2",
            "inmate_id": "i-100",
            "direction": "out",
            "contact_id": "c-1",
            "contact_name": "Luis",
            "sent_at": "2024-05-01T07:05:00Z",
            "body": "Gracias",
            "status": "rejected",
            "reason": "content",
            "read_at": "2024-05-01T07:06:00Z",
            "credits_refunded": None,
            "photos_removed": 0,
        },
    ],
    "photos": [
        {"photo_id": "p-1", "message_id": "m-1", "mime": "image/png", "data": b"\x89PNG\0\xff"}
    ],
    "outbox": [
        {
            "seq": 1,
            "topic": "up/outbox",
            "record_id": "m-2",
            "payload": '{"v":1,"type":"message"}',
            "size": 24,
            "created_at": "2024-05-01T07:05:00Z",
        }
    ],
    "processed": [
        {
            "kind": "command",
            "id": "cmd-1",
            "result": '{"ok":true}',
            "processed_at": "2024-05-01T07:10:00Z",
        },
        {"kind": "message", "id": "m-1", "result": None, "processed_at": "2024-05-01T07:00:01Z"},
    ],
    "sign_in_failures": [
        {"inmate_id": "i-100", "failures": 2, "lockouts": 1, "locked_until": None}
    ],
    "pepper": [{"id": 1, "key": bytes(range(32)), "from_facility": 1}],
    "roster": [{"booking_number": "B2026-00311", "display_name": "M. Alvarez"}],
    "slots": [
        {
            "slot_id": "s-1",
            "starts_at": "2026-12-08T15:00:00Z",
            "minutes": 30,
            "station_kiosk_id": "lobby-02",
            "station_name": "Station 2",
        }
    ],
    "events": [
        {
            "event_id": "e-1",
            "at": "2024-05-01T07:00:00Z",
            "kind": "login",
            "detail": '{"method":"badge"}',
        }
    ],
}

# What the brief and the contract ask of the newest schema, column by column.
EXPECTED_COLUMNS = {table: list(rows[0]) for table, rows in SAMPLE_ROWS.items()}
EXPECTED_INDEXES = {
    ("visits", ("starts_at",)),
    ("messages", ("inmate_id", "sent_at")),
    ("outbox", ("topic", "seq")),
    ("outbox", ("size",)),  # the budget's total, without reading the payloads
    ("slots", ("starts_at",)),  # a day's free slots, for the booking screen
}


SEALED_CODES = ("confirmation_code_verifier", CODE_VERIFIER)


def raw_database(path: pathlib.Path) -> Connection:
    """A connection that, unlike open_database, does not migrate by itself."""
    conn = connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def database_at(path: pathlib.Path, version: int) -> Connection:
    db = raw_database(path)
    assert migrate(db, target=version) == version
    assert schema_version(db) == version
    return db


def user_tables(db: Connection) -> set[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {name for (name,) in rows}


def schema(db: Connection) -> dict[str, Any]:
    """Everything that defines the schema, as SQLite reports it."""
    master = sorted(
        db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(),
        key=lambda row: (row[0], row[1]),
    )
    tables: dict[str, Any] = {}
    for _type, name, *_ in (row for row in master if row[0] == "table"):
        indexes = {}
        for _seq, index, unique, origin, partial in db.execute(f"PRAGMA index_list('{name}')"):
            columns = db.execute(f"PRAGMA index_xinfo('{index}')").fetchall()
            indexes[index] = (unique, origin, partial, columns)
        tables[name] = {
            "columns": db.execute(f"PRAGMA table_info('{name}')").fetchall(),
            "foreign_keys": db.execute(f"PRAGMA foreign_key_list('{name}')").fetchall(),
            "indexes": indexes,
        }
    return {"master": master, "tables": tables}


def columns_missing_at(version: int, table: str) -> set[str]:
    missing: set[str] = set()
    for added_at, tables in COLUMNS_ADDED_AT.items():
        if added_at > version:
            missing |= tables.get(table, set())
    return missing


def insert_rows(db: Connection, tables: set[str], version: int | None = None) -> None:
    # Plain SQL: sqlite-utils' insert would quietly create a missing table.
    for table, rows in SAMPLE_ROWS.items():
        if table not in tables:
            continue
        missing = columns_missing_at(LATEST if version is None else version, table)
        for row in rows:
            row = {column: value for column, value in row.items() if column not in missing}
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            # OR REPLACE: opening a database makes the kiosk's own pepper, which the sample's
            # replaces; no other sample row meets one already there.
            db.execute(
                f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({marks})", list(row.values())
            )


def sample_rows(table: str, version: int) -> list[dict[str, Any]]:
    """The sample rows as a database at ``version`` holds them."""
    missing = columns_missing_at(version, table)
    return [{k: v for k, v in row.items() if k not in missing} for row in SAMPLE_ROWS[table]]


def stored_rows(db: Connection, table: str, version: int | None = None) -> list[dict[str, Any]]:
    """The table's rows, its sealed verifiers opened (opening a database seals the ones a kiosk
    kept before the pepper: tests/store/test_pepper.py)."""
    columns = list(sample_rows(table, LATEST if version is None else version)[0])
    cursor = db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
    rows = [dict(zip(columns, row, strict=True)) for row in cursor]
    sealed = {"residents": ("pin_verifier", PIN_VERIFIER), "visits": SEALED_CODES}.get(table)
    if sealed is None or version is not None:
        return rows
    column, what = sealed
    secrets = SealedSecrets(db)
    for row in rows:
        if row[column] is not None:
            opened = secrets.verifier(row[column], what)
            assert opened is not None, f"{table}.{column} is not sealed: {row[column]}"
            row[column] = opened
    return rows


def fresh_schema(tmp_path: pathlib.Path, version: int | None = None) -> dict[str, Any]:
    path = tmp_path / "fresh" / f"v{version}.db"
    if version is None:
        db = open_database(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = database_at(path, version)
    try:
        return schema(db)
    finally:
        db.close()


def test_the_fixtures_cover_every_schema_version_and_table() -> None:
    assert set(TABLES_AT) == set(range(LATEST + 1))
    assert set(SAMPLE_ROWS) == TABLES_AT[LATEST]


@pytest.mark.parametrize("version", range(LATEST))
def test_every_earlier_version_migrates_to_the_fresh_schema_keeping_its_rows(
    tmp_path: pathlib.Path, version: int
) -> None:
    path = tmp_path / "kiosk.db"
    old = database_at(path, version)
    assert user_tables(old) == TABLES_AT[version]
    insert_rows(old, TABLES_AT[version], version)
    old.close()

    db = open_database(path)
    try:
        assert schema_version(db) == LATEST
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert schema(db) == fresh_schema(tmp_path)
        for table in TABLES_AT[version]:
            assert stored_rows(db, table) == SAMPLE_ROWS[table], table
        for table in TABLES_AT[LATEST] - TABLES_AT[version] - {"pepper"}:
            assert stored_rows(db, table) == [], table
        if "pepper" not in TABLES_AT[version]:  # the kiosk's own, made at the first opening
            (key, from_facility), *more = db.execute("SELECT key, from_facility FROM pepper")
            assert len(key) == 32 and from_facility == 0 and not more
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_fresh_database_has_the_columns_and_indexes_of_the_brief(tmp_path: pathlib.Path) -> None:
    db = open_database(tmp_path / "kiosk.db")
    try:
        assert user_tables(db) == TABLES_AT[LATEST]
        for table, columns in EXPECTED_COLUMNS.items():
            assert [row[1] for row in db.execute(f"PRAGMA table_info('{table}')")] == columns
        indexed = set()
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for _seq, index, *_ in db.execute(f"PRAGMA index_list('{table}')").fetchall():
                names = tuple(r[2] for r in db.execute(f"PRAGMA index_info('{index}')"))
                indexed.add((table, names))
        assert indexed >= EXPECTED_INDEXES
        # The outbox keeps per-topic order only if seq is never reused.
        outbox_sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'outbox'").fetchone()
        assert "AUTOINCREMENT" in outbox_sql[0]
    finally:
        db.close()


def test_foreign_keys_cascade(tmp_path: pathlib.Path) -> None:
    db = open_database(tmp_path / "kiosk.db")
    try:
        insert_rows(db, TABLES_AT[LATEST])
        db.execute("DELETE FROM residents WHERE inmate_id = 'i-100'")
        db.execute("DELETE FROM messages WHERE message_id = 'm-1'")
        assert db.execute("SELECT count(*) FROM badge_lookups").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM photos").fetchone()[0] == 0
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO badge_lookups (lookup, inmate_id) VALUES ('x', 'nobody')")
    finally:
        db.close()


def test_opening_a_current_database_again_changes_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kiosk.db"
    db = open_database(path)
    insert_rows(db, TABLES_AT[LATEST])
    before = schema(db)
    db.close()
    db = open_database(path)
    try:
        assert schema_version(db) == LATEST
        assert schema(db) == before
        for table in SAMPLE_ROWS:
            assert stored_rows(db, table) == SAMPLE_ROWS[table]
    finally:
        db.close()


def test_migrate_refuses_a_target_it_cannot_reach(tmp_path: pathlib.Path) -> None:
    db = database_at(tmp_path / "kiosk.db", 2)
    try:
        with pytest.raises(ValueError, match="down"):
            migrate(db, target=1)
        with pytest.raises(ValueError, match="outside"):
            migrate(db, target=LATEST + 1)
        assert schema_version(db) == 2
    finally:
        db.close()


def test_a_database_from_a_newer_kiosk_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kiosk.db"
    open_database(path).close()
    conn = connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.commit()
    conn.close()

    with pytest.raises(StoreError) as caught:
        open_database(path)
    message = str(caught.value)
    assert "newer kiosk version" in message
    assert f"schema {LATEST + 1}" in message
    assert f"this version knows {LATEST}" in message
    assert str(path) in message
    assert "\n" not in message

    conn = connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST + 1
    finally:
        conn.close()


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kiosk.db"
    garbage = b"this is a text file, not a database\n" * 200
    path.write_bytes(garbage)

    with pytest.raises(StoreError) as caught:
        open_database(path)
    assert str(caught.value).startswith(f"{path} is not a kiosk database")
    assert "\n" not in str(caught.value)
    assert path.read_bytes() == garbage


def test_another_programs_database_is_refused_and_left_alone(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kiosk.db"
    conn = plain_sqlite.connect(path)
    conn.execute("CREATE TABLE visits (something_else TEXT)")
    conn.commit()
    conn.close()

    with pytest.raises(StoreError, match="not a kiosk database"):
        open_database(path)
    conn = plain_sqlite.connect(path)  # left as it was: plain, and theirs
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        names = conn.execute("SELECT name FROM sqlite_master").fetchall()
        assert names == [("visits",)]
    finally:
        conn.close()


def test_connection_is_durable_wal_and_usable_from_another_thread(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nested" / "dirs" / "kiosk.db"
    db = open_database(path)
    try:
        assert path.is_file()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        # WAL is a property of the file: every other connection gets it too.
        other = connect(path)
        try:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            other.close()

        seen: list[object] = []

        def worker() -> None:
            try:
                seen.append(schema_version(db))
            except Exception as exc:  # reported through `seen`, asserted below
                seen.append(exc)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert seen == [LATEST]
    finally:
        db.close()


def test_a_migration_failing_midway_leaves_version_and_schema(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kiosk.db"
    db = database_at(path, 2)
    insert_rows(db, TABLES_AT[2], 2)
    before = schema(db)
    db.close()

    real = MIGRATIONS[2]

    def broken(db: Connection) -> None:
        real(db)  # creates the outbox and the other tables of step 3, then fails
        assert "outbox" in user_tables(db)
        raise RuntimeError("failed midway")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS[:2], broken])
    with pytest.raises(RuntimeError, match="failed midway"):
        open_database(path)

    db = raw_database(path)
    try:
        assert schema_version(db) == 2
        assert schema(db) == before
        assert user_tables(db) == TABLES_AT[2]
        for table in TABLES_AT[2]:
            assert stored_rows(db, table, 2) == sample_rows(table, 2)
    finally:
        db.close()

    # Once the migration works again, the same file reaches the newest schema.
    monkeypatch.undo()
    db = open_database(path)
    try:
        assert schema_version(db) == LATEST
        assert schema(db) == fresh_schema(tmp_path)
    finally:
        db.close()


def test_a_failure_keeps_the_steps_completed_before_it(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db: Connection) -> None:
        db.execute("CREATE TABLE half_done (x TEXT)")
        raise RuntimeError("failed midway")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS[:-1], broken])
    path = tmp_path / "kiosk.db"
    with pytest.raises(RuntimeError):
        open_database(path)

    db = raw_database(path)
    try:
        assert schema_version(db) == LATEST - 1
        assert "half_done" not in user_tables(db)
        assert schema(db) == fresh_schema(tmp_path, LATEST - 1)
    finally:
        db.close()


CRASHING_CHILD = """
import os, pathlib, sys
from kiosk.store import migrations, open_database

def crash(db):
    db.execute("CREATE TABLE half_done (x TEXT)")
    db.execute("INSERT INTO half_done VALUES ('lost')")
    os._exit(17)  # no rollback, no close: as if the power went

migrations.MIGRATIONS[1] = crash
open_database(pathlib.Path(sys.argv[1]))
"""


def test_a_process_dying_mid_migration_leaves_the_old_version(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "kiosk.db"
    db = database_at(path, 1)
    insert_rows(db, TABLES_AT[1], 1)
    before = schema(db)
    db.close()

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_CHILD, str(path)], env=env, timeout=60, check=False
    )
    assert child.returncode == 17

    db = raw_database(path)
    try:
        assert schema_version(db) == 1
        assert schema(db) == before
        for table in TABLES_AT[1]:
            assert stored_rows(db, table, 1) == sample_rows(table, 1)
    finally:
        db.close()
    db = open_database(path)
    try:
        assert schema_version(db) == LATEST
    finally:
        db.close()
