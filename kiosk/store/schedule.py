"""The schedule: this kiosk's visits, replaced as a whole by each retained snapshot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kiosk.store.connection import Connection
from kiosk.store.pepper import CODE_VERIFIER
from kiosk.store.sealed_secrets import sealed_rows, without_verifiers
from kiosk.store.times import utc_now
from kiosk.store.versioned import replace_versioned, stored_version

VISIT_COLUMNS = (
    "visit_id",
    "starts_at",
    "ends_at",
    "kind",
    "status",
    "inmate_id",
    "inmate_name",
    "visitor_name",
    "confirmation_code_verifier",
    "peer_kiosk_id",
    "visitor_first_visit",
    "visitor_captures",
    "station_kiosk_id",
    "station_name",
)
_OPTIONAL_COLUMNS = frozenset(
    {
        "confirmation_code_verifier",
        "peer_kiosk_id",
        "visitor_first_visit",
        "visitor_captures",
        "station_kiosk_id",
        "station_name",
    }
)
_DEFAULTS = {"visitor_first_visit": 0}
_CODE = VISIT_COLUMNS.index("confirmation_code_verifier")


class ScheduleRepository:
    """Reads and replaces the stored schedule.

    Times (``starts_at``, ``ends_at``) are stored as the caller gives them; the core hands in
    ISO 8601 UTC text in one format, so that text order is time order.
    """

    def __init__(self, db: Connection, *, now: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        # Injected so tests and the fake clock decide what applied_at says.
        self._now = now

    def replace(self, version: int, visits: Sequence[Mapping[str, Any]], payload: str) -> bool:
        """Make ``visits`` the whole schedule, in one transaction; record the snapshot's payload.

        Returns False and changes nothing when ``version`` is lower than the stored one (versions
        never go backwards); an equal version is applied again. If any visit is malformed,
        nothing changes and the error propagates.
        """
        rows = [_visit_row(visit) for visit in visits]

        def write_rows() -> None:
            self._db.execute("DELETE FROM visits")
            self._db.executemany(
                f"INSERT INTO visits ({', '.join(VISIT_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in VISIT_COLUMNS)})",
                sealed_rows(rows, _CODE, CODE_VERIFIER, self._db),
            )

        return replace_versioned(
            self._db,
            "schedule",
            version,
            without_verifiers("schedule", payload),
            self._now(),
            write_rows,
        )

    def version(self) -> int | None:
        """The version of the applied schedule, or None before the first one."""
        return stored_version(self._db, "schedule")

    def visits(self) -> list[dict[str, Any]]:
        """All stored visits, earliest first."""
        cursor = self._db.execute(
            f"SELECT {', '.join(VISIT_COLUMNS)} FROM visits ORDER BY starts_at, visit_id"
        )
        return [dict(zip(VISIT_COLUMNS, row, strict=True)) for row in cursor]


def _visit_row(visit: Mapping[str, Any]) -> tuple[Any, ...]:
    # Unknown keys are refused rather than dropped: a misspelt column would otherwise lose data
    # silently (contract payloads' unknown fields are dropped earlier, by the core).
    unknown = set(visit) - set(VISIT_COLUMNS)
    if unknown:
        raise ValueError(f"visit has unknown fields: {', '.join(sorted(unknown))}")
    missing = [c for c in VISIT_COLUMNS if c not in _OPTIONAL_COLUMNS and visit.get(c) is None]
    if missing:
        raise ValueError(f"visit {visit.get('visit_id')!r} lacks {', '.join(missing)}")
    return tuple(
        visit.get(column) if visit.get(column) is not None else _DEFAULTS.get(column)
        for column in VISIT_COLUMNS
    )
