"""Opening the kiosk's SQLite database."""

from __future__ import annotations

import pathlib
import sqlite3
from sqlite3 import Connection

from kiosk.store.errors import StoreError
from kiosk.store.migrations import latest_version, migrate, newer_schema_message, schema_version

__all__ = ["StoreError", "open_database"]

BUSY_TIMEOUT_MS = 5000


def open_database(path: pathlib.Path) -> Connection:
    """Open (creating if needed) the database at ``path`` and migrate it to the newest schema.

    The connection is in autocommit mode; group writes with
    :func:`kiosk.store.transaction.transaction`. It may be used from several threads
    (``check_same_thread=False``), but the caller serialises them: one connection has one
    transaction, shared by every thread using it.

    Raises :class:`StoreError` for a file that is not a database, a database written by a newer
    kiosk, or one that SQLite cannot open.
    """
    path = pathlib.Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        _configure(conn)
        _check_schema(conn, path)
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if exc.sqlite_errorcode == sqlite3.SQLITE_NOTADB:
            raise StoreError(
                f"{path} is not an SQLite database (damaged, or another kind of file)"
            ) from exc
        raise StoreError(f"cannot open {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _configure(db: Connection) -> None:
    # First, so that the journal-mode switch below already waits for another process's lock.
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # WAL: readers (the UI) never block the writer (sync), nor the writer them.
    db.execute("PRAGMA journal_mode = WAL")
    # FULL, not NORMAL: in WAL mode NORMAL skips the fsync at commit, so a power cut can lose the
    # last commits. The contract promises that a power cut loses nothing, and a message is only
    # acknowledged to the broker once committed (durable before visible).
    db.execute("PRAGMA synchronous = FULL")
    # Off by default in SQLite, and per connection: without it the cascades in the schema are dead.
    db.execute("PRAGMA foreign_keys = ON")
    # A visitor's ID photo or a resident's message, deleted once the broker has it, must not
    # linger in free pages for anyone who copies the file: SQLite zeroes what it deletes.
    db.execute("PRAGMA secure_delete = ON")


def _check_schema(db: Connection, path: pathlib.Path) -> None:
    """Refuse a database this version must not touch, before any migration writes to it."""
    found = schema_version(db)
    known = latest_version()
    if found > known:
        raise StoreError(newer_schema_message(str(path), found, known))
    if found == 0:
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            # Some other program's database: migrating it would mix our schema into theirs.
            raise StoreError(f"{path} is not a kiosk database (tables but no schema version)")
