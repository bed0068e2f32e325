"""Retained snapshots as applied (delivery rule 3): replaced as a whole, versions never go back.

``config`` and ``notice`` carry no version in the contract (store them with ``version=None``).
The ``schedule`` and ``residents`` snapshots come with rows of their own: apply those through
:class:`~kiosk.store.schedule.ScheduleRepository` and
:class:`~kiosk.store.residents.ResidentsRepository`, which write the snapshot row in the same
transaction as the rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.store.connection import Connection
from kiosk.store.sealed_secrets import config_as_kept, take_config_pepper
from kiosk.store.times import iso_z, utc_now
from kiosk.store.transaction import transaction

SNAPSHOT_KINDS = ("config", "schedule", "residents", "notice", "roster", "slots")

# One statement: compare and replace cannot be split by another writer. A NULL on either side
# (an unversioned snapshot) always replaces; otherwise an equal version is applied again.
_UPSERT = (
    "INSERT INTO snapshots (kind, version, payload, applied_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (kind) DO UPDATE SET "
    "version = excluded.version, payload = excluded.payload, applied_at = excluded.applied_at "
    "WHERE excluded.version IS NULL OR snapshots.version IS NULL "
    "OR excluded.version >= snapshots.version"
)


@dataclass(frozen=True)
class Snapshot:
    """A snapshot as applied: its JSON text, version (None if unversioned), ISO UTC time."""

    kind: str
    payload: str
    version: int | None
    applied_at: str


class SnapshotRepository:
    def __init__(self, db: Connection, *, now: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._now = now

    def replace(self, kind: str, payload: str, version: int | None) -> bool:
        """Make ``payload`` the ``kind`` snapshot; False, changing nothing, for a lower version.

        ``version=None`` always replaces. Joins an outer transaction if any. A ``config`` is
        kept as :func:`~kiosk.store.sealed_secrets.config_as_kept` says.
        """
        _check_kind(kind)
        if not isinstance(payload, str):
            raise TypeError(f"payload must be a string, not {type(payload).__name__}")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise TypeError(f"version must be an int or None, not {version!r}")
        with transaction(self._db):
            if kind == "config":
                # Its pepper taken (sealing again what the one before sealed), its secrets sealed.
                payload = config_as_kept(payload, take_config_pepper(self._db, payload))
            cursor = self._db.execute(_UPSERT, (kind, version, payload, iso_z(self._now())))
        return cursor.rowcount == 1

    def get(self, kind: str) -> Snapshot | None:
        """The applied ``kind`` snapshot, or None before the first one."""
        _check_kind(kind)
        row = self._db.execute(
            "SELECT payload, version, applied_at FROM snapshots WHERE kind = ?", (kind,)
        ).fetchone()
        return None if row is None else Snapshot(kind, row[0], row[1], row[2])

    def values(self, kind: str) -> dict[str, Any] | None:
        """The applied ``kind`` snapshot's values, as committed; None before the first one."""
        snapshot = self.get(kind)
        return None if snapshot is None else json.loads(snapshot.payload)


def _check_kind(kind: str) -> None:
    if kind not in SNAPSHOT_KINDS:
        raise ValueError(f"unknown snapshot kind {kind!r}; one of {', '.join(SNAPSHOT_KINDS)}")
