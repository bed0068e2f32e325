"""Encrypting a kiosk's plain SQLite database where it lies, safe against a kill at any moment.

The steps, each of which a kill may cut short:

1. the plain database's WAL is folded into it and closed (SQLite removes the WAL);
2. an encrypted copy is written beside it (``<name>.encrypting``) and synced;
3. a second name for the plain file (``<name>.plain``) is made, so that it can be wiped later;
4. the copy is renamed over the database (one atomic step) and the folder synced;
5. the plain file, now known only as ``<name>.plain``, is overwritten with zeros and removed.

Before step 4 the database is the plain one, whole (SQLite's own recovery covers step 1), and
the next start begins again; from step 4 on it is the encrypted one. At each start, under a lock
(``<name>.lock``), what a cut left behind is cleared first: a half-written copy is removed, and
a ``.plain`` that is not the database itself is wiped.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.store.database_key import DatabaseKey
from kiosk.store.durable import fsync_path, wipe

log = logging.getLogger(__name__)

PLAIN_HEADER = b"SQLite format 3\x00"


def encrypt_if_plain(
    path: Path,
    key: DatabaseKey | None,
    *,
    find: Callable[..., DatabaseKey] | None = None,
    check: Callable[[Any, Path], None] | None = None,
) -> DatabaseKey:
    """Clear what an encryption cut short, then encrypt ``path`` if it is plain SQLite; the key
    it is (or is to be) encrypted under. ``key=None``: ``find(path, new=...)`` gives it, told
    whether the database is new or plain (a key may be made for it). ``check(connection,
    path)`` looks at a plain database first, and raises to leave it as it is (another
    program's, or a newer kiosk's). One process at a time (the kiosk's processes open the
    database together)."""
    fd = os.open(_lock_name(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _clear_leftovers(path)
        plain = is_plain(path)
        if key is None:
            if find is None:
                raise ValueError("encrypt_if_plain needs a key or a way to find one")
            new = plain or not path.exists() or path.stat().st_size == 0
            key = find(path, new=new)
        if plain and check is not None:
            # Not read-only: a plain database cut short in its WAL must be recovered to be read.
            with contextlib.closing(sqlite3.connect(path)) as db:
                check(db, path)
        if plain:
            encrypt_in_place(path, key)
        return key
    finally:
        os.close(fd)


def is_plain(path: Path) -> bool:
    """Whether ``path`` is a plain SQLite database (an encrypted one starts with random bytes)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(PLAIN_HEADER)) == PLAIN_HEADER
    except FileNotFoundError:
        return False


def encrypt_in_place(path: Path, key: DatabaseKey) -> None:
    """Replace the plain database at ``path`` with the same database encrypted under ``key``."""
    from sqlcipher3 import dbapi2 as sqlcipher

    copy, plain = _copy_name(path), _plain_name(path)
    log.warning("encrypting the kiosk's database %s (it was plain SQLite)", path)
    version = _fold_wal(path)
    db = sqlcipher.connect(str(path), isolation_level=None)
    try:
        db.execute("PRAGMA secure_delete = ON")
        db.execute(f"ATTACH DATABASE ? AS encrypted KEY {key.pragma}", (str(copy),))
        db.execute("SELECT sqlcipher_export('encrypted')")
        db.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        db.execute("DETACH DATABASE encrypted")
    finally:
        db.close()
    os.chmod(copy, 0o600)
    fsync_path(copy)
    os.link(path, plain)
    os.replace(copy, path)
    fsync_path(path.parent)
    wipe(plain)
    log.warning("the kiosk's database %s is encrypted", path)


def _fold_wal(path: Path) -> int:
    """Checkpoint and close the plain database, so that the file holds all of it; its schema
    version (which SQLCipher's export does not carry)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        db.execute("PRAGMA journal_mode = DELETE")  # the WAL goes now, not at some later close
    finally:
        db.close()
    return version


def _clear_leftovers(path: Path) -> None:
    copy, plain = _copy_name(path), _plain_name(path)
    for partial in (copy, Path(f"{copy}-journal")):
        partial.unlink(missing_ok=True)
    if plain.exists():
        if path.exists() and os.path.samefile(path, plain):
            plain.unlink()  # cut before the rename: the database is still this plain file
        else:
            wipe(plain)


def _copy_name(path: Path) -> Path:
    return path.with_name(f"{path.name}.encrypting")


def _plain_name(path: Path) -> Path:
    return path.with_name(f"{path.name}.plain")


def _lock_name(path: Path) -> Path:
    return path.with_name(f"{path.name}.lock")
