"""Opening the kiosk's database: SQLite encrypted by SQLCipher, the whole file and its WAL.

A database still in plain SQLite (made by a kiosk before encryption) is encrypted in place
first (:mod:`kiosk.store.encrypt_in_place`). The files are the owner's alone, whatever the
umask: a new folder is made 0700, the database 0600 before SQLite opens it, and SQLite gives
its WAL and shared memory files the database's own mode. The kiosk's start checks the whole
folder once (:mod:`kiosk.store.file_modes`).
"""

from __future__ import annotations

import os
import pathlib

from sqlcipher3 import dbapi2 as sqlcipher

from kiosk.store.connection import Connection
from kiosk.store.database_key import NO_KEY, DatabaseKey, find_key
from kiosk.store.encrypt_in_place import encrypt_if_plain
from kiosk.store.errors import StoreError
from kiosk.store.migrations import latest_version, migrate, newer_schema_message, schema_version
from kiosk.store.sealed_secrets import PepperRepository, seal_stored

__all__ = ["Connection", "StoreError", "connect", "open_database"]

BUSY_TIMEOUT_MS = 5000


def open_database(path: pathlib.Path, key: DatabaseKey | None = None) -> Connection:
    """Open (creating if needed) the database at ``path`` and migrate it to the newest schema.

    ``key``: the database's key; by default the one :func:`find_key` finds for the database's
    folder. :data:`NO_KEY` opens plain SQLite (the benchmarks' baseline, nothing else).

    The connection is in autocommit mode; group writes with
    :func:`kiosk.store.transaction.transaction`. It may be used from several threads
    (``check_same_thread=False``), but the caller serialises them: one connection has one
    transaction, shared by every thread using it.

    Raises :class:`StoreError` for a file that is not a database (or not one this key opens), a
    database written by a newer kiosk, or one that SQLite cannot open.
    """
    path = pathlib.Path(path)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if key is not NO_KEY:
            key = encrypt_if_plain(path, key, find=_found_key, check=_check_schema)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlcipher.connect(str(path), check_same_thread=False, isolation_level=None)
    except (OSError, sqlcipher.Error) as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        _use_key(conn, key)
        _configure(conn)
        _check_schema(conn, path)
        migrate(conn)
        # Kept by a kiosk before the pepper: sealed now (a no-op once done).
        seal_stored(conn, PepperRepository(conn).in_force())
    except sqlcipher.DatabaseError as exc:
        conn.close()
        if exc.sqlite_errorcode == sqlcipher.SQLITE_NOTADB:
            raise StoreError(
                f"{path} is not a kiosk database this key opens (damaged, another kind of "
                "file, or encrypted under another kiosk's key)"
            ) from exc
        raise StoreError(f"cannot open {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _found_key(path: pathlib.Path, *, new: bool) -> DatabaseKey:
    """The key :func:`find_key` finds beside ``path``; one is made only for a new database (or
    a plain one), never for one already encrypted: that one needs its own."""
    try:
        return find_key(path.parent, make=new)
    except StoreError as exc:
        raise StoreError(
            f"{path} is not a kiosk database this kiosk can open: damaged, another "
            f"kind of file, or encrypted with a key that is not here ({exc})"
        ) from exc


def connect(
    path: pathlib.Path,
    key: DatabaseKey | None = None,
    *,
    query: str = "",
    timeout: float = 5.0,
    isolation_level: str | None = "",
) -> Connection:
    """A connection to an existing database, keyed, neither migrated nor configured: for a
    look from outside the kiosk (``kiosk-provision status``, tests). ``query``: SQLite's URI
    parameters (``mode=ro``, ``immutable=1``)."""
    path = pathlib.Path(path)
    if key is None:
        key = find_key(path.parent)
    target = f"file:{path}?{query}" if query else f"file:{path}"
    conn = sqlcipher.connect(
        target, uri=True, timeout=timeout, check_same_thread=False, isolation_level=isolation_level
    )
    _use_key(conn, key)
    return conn


def _use_key(conn: Connection, key: DatabaseKey) -> None:
    # A wrong key is our StoreError, said once: not also SQLCipher's lines on stderr.
    conn.execute("PRAGMA cipher_log_level = NONE")
    if key is not NO_KEY:
        conn.execute(f"PRAGMA key = {key.pragma}")


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
