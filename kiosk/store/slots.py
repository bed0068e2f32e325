"""A lobby's free on-site visit slots, replaced as a whole by each retained ``slots`` snapshot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kiosk.store.connection import Connection
from kiosk.store.times import utc_now
from kiosk.store.versioned import replace_versioned, stored_version

SLOT_COLUMNS = ("slot_id", "starts_at", "minutes", "station_kiosk_id", "station_name")


class SlotsRepository:
    """Times (``starts_at``) are stored as given: the caller hands in ISO 8601 UTC text in one
    format, so that text order is time order."""

    def __init__(self, db: Connection, *, now: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._now = now

    def replace(self, version: int, slots: Sequence[Mapping[str, Any]], payload: str) -> bool:
        """Make ``slots`` (rows with :data:`SLOT_COLUMNS`) the whole set; False, changing
        nothing, for a lower version."""
        rows = [tuple(slot.get(column) for column in SLOT_COLUMNS) for slot in slots]

        def write_rows() -> None:
            self._db.execute("DELETE FROM slots")
            self._db.executemany(
                f"INSERT INTO slots ({', '.join(SLOT_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in SLOT_COLUMNS)})",
                rows,
            )

        return replace_versioned(self._db, "slots", version, payload, self._now(), write_rows)

    def version(self) -> int | None:
        return stored_version(self._db, "slots")

    def between(self, start: str, end: str) -> list[dict[str, Any]]:
        """The slots starting at or after ``start`` and before ``end`` (UTC text), by time."""
        cursor = self._db.execute(
            f"SELECT {', '.join(SLOT_COLUMNS)} FROM slots "
            "WHERE starts_at >= ? AND starts_at < ? ORDER BY starts_at, slot_id",
            (start, end),
        )
        return [dict(zip(SLOT_COLUMNS, row, strict=True)) for row in cursor]
