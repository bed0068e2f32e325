"""A lobby's copy of the facility's public roster: a booking number and a display name per
resident, nothing else, replaced as a whole by each retained ``roster`` snapshot.

The snapshot's record keeps the payload without its list (the rows are the list): twenty
thousand names are not kept twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kiosk.store.connection import Connection
from kiosk.store.times import utc_now
from kiosk.store.versioned import replace_versioned, stored_version


class RosterRepository:
    def __init__(self, db: Connection, *, now: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._now = now

    def replace(self, version: int, residents: Sequence[Mapping[str, Any]], payload: str) -> bool:
        """Make ``residents`` (``booking_number``, ``display_name``) the whole roster; False,
        changing nothing, for a lower version. A resident without both, or a booking number
        given twice, changes nothing and the error propagates."""
        rows = []
        for resident in residents:
            number, name = resident.get("booking_number"), resident.get("display_name")
            if not isinstance(number, str) or not isinstance(name, str) or not number or not name:
                raise ValueError("a roster entry needs a booking_number and a display_name")
            rows.append((number, name))

        def write_rows() -> None:
            self._db.execute("DELETE FROM roster")
            self._db.executemany(
                "INSERT INTO roster (booking_number, display_name) VALUES (?, ?)", rows
            )

        return replace_versioned(
            self._db, "roster", version, _without_list(payload), self._now(), write_rows
        )

    def version(self) -> int | None:
        return stored_version(self._db, "roster")

    def entries(self) -> list[tuple[str, str]]:
        """Every ``(booking_number, display_name)``, by booking number."""
        return self._db.execute(
            "SELECT booking_number, display_name FROM roster ORDER BY booking_number"
        ).fetchall()


def _without_list(payload: str) -> str:
    try:
        document = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(document, dict) or "residents" not in document:
        return payload
    residents = document.pop("residents")
    document["residents_kept"] = len(residents) if isinstance(residents, list) else 0
    return json.dumps(document, separators=(",", ":"))
