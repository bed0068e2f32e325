"""Ids of incoming messages, statuses and commands already applied (delivery rule 2).

A ``message``, ``message_status`` or ``command`` is applied exactly once by its id: the handler
records the id in the same transaction as its effect, then acknowledges the publication. A
command's first result is kept, so a repeated ``command_id`` is answered again without running.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kiosk.store.connection import Connection
from kiosk.store.times import iso_z, utc_now

PROCESSED_KINDS = frozenset({"message", "message_status", "command"})


@dataclass(frozen=True)
class ProcessedEntry:
    """One applied id. ``result`` is None while pending (recorded, not yet run or answered)."""

    kind: str
    id: str
    result: str | None
    processed_at: str


class ProcessedRepository:
    """Each method is one SQL statement: inside an outer transaction it joins it."""

    def __init__(self, db: Connection, *, now: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._now = now

    def first_result(self, kind: str, id: str) -> ProcessedEntry | None:
        """The entry for ``id``, with its first result (None while pending); None if never seen."""
        _check(kind, id)
        row = self._db.execute(
            "SELECT result, processed_at FROM processed WHERE kind = ? AND id = ?", (kind, id)
        ).fetchone()
        return None if row is None else ProcessedEntry(kind, id, row[0], row[1])

    def record(self, kind: str, id: str, result: str | None = None) -> bool:
        """Record ``id`` as applied; False, changing nothing, if it was recorded before."""
        _check(kind, id)
        cursor = self._db.execute(
            "INSERT INTO processed (kind, id, result, processed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO NOTHING",
            (kind, id, result, iso_z(self._now())),
        )
        return cursor.rowcount == 1

    def set_result(self, kind: str, id: str, result: str) -> bool:
        """Store the result of a pending id (recording the id too if needed).

        Returns False, changing nothing, when a result is already stored: the first one is kept.
        """
        _check(kind, id)
        if not isinstance(result, str):
            raise TypeError(f"result must be a string, not {type(result).__name__}")
        cursor = self._db.execute(
            "INSERT INTO processed (kind, id, result, processed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, id) DO UPDATE SET result = excluded.result "
            "WHERE processed.result IS NULL",
            (kind, id, result, iso_z(self._now())),
        )
        return cursor.rowcount == 1

    def pending(self, kind: str) -> list[str]:
        """Ids of ``kind`` recorded without a result, oldest first (e.g. cut short by a crash)."""
        _check_kind(kind)
        # rowid is insertion order, which the wall clock (processed_at) may not be.
        cursor = self._db.execute(
            "SELECT id FROM processed WHERE kind = ? AND result IS NULL ORDER BY rowid", (kind,)
        )
        return [row[0] for row in cursor]


def _check(kind: str, id: str) -> None:
    _check_kind(kind)
    if not isinstance(id, str) or not id:
        raise ValueError(f"id must be a non-empty string, not {id!r}")


def _check_kind(kind: str) -> None:
    if kind not in PROCESSED_KINDS:
        raise ValueError(f"unknown processed kind {kind!r}; one of {sorted(PROCESSED_KINDS)}")
