"""Replacing a versioned snapshot's rows as a whole: versions never go back, an equal one is
applied again, and the rows and the snapshot's record change in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.store.connection import Connection
from kiosk.store.times import iso_z
from kiosk.store.transaction import transaction

_RECORD = (
    "INSERT INTO snapshots (kind, version, payload, applied_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind) DO UPDATE SET "
    "version = excluded.version, payload = excluded.payload, applied_at = excluded.applied_at"
)


def stored_version(db: Connection, kind: str) -> int | None:
    row = db.execute("SELECT version FROM snapshots WHERE kind = ?", (kind,)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def replace_versioned(
    db: Connection,
    kind: str,
    version: int,
    payload: str,
    applied_at: datetime,
    write_rows: Callable[[], None],
) -> bool:
    """Run ``write_rows`` (which deletes the old rows and inserts the new) and record the
    snapshot, unless ``version`` is lower than the stored one: then False, nothing changed."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError(f"{kind} version must be an int, not {version!r}")
    with transaction(db):
        # Compared under the write lock: no newer version can slip in before the replacement.
        stored = stored_version(db, kind)
        if stored is not None and version < stored:
            return False
        write_rows()
        db.execute(_RECORD, (kind, version, payload, iso_z(applied_at)))
    return True
