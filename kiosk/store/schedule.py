"""The schedule: this kiosk's visits, replaced as a whole by each retained snapshot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kiosk.store.connection import Connection
from kiosk.store.pepper import CODE_VERIFIER, Pepper
from kiosk.store.sealed_secrets import PepperRepository, without_verifiers
from kiosk.store.transaction import transaction

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


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ScheduleRepository:
    """Reads and replaces the stored schedule.

    Times (``starts_at``, ``ends_at``) are stored as the caller gives them; the core hands in
    ISO 8601 UTC text in one format, so that text order is time order.
    """

    def __init__(self, db: Connection, *, now: Callable[[], datetime] = _utc_now) -> None:
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
        with transaction(self._db):
            # Compared inside the transaction: the write lock is held, so no other writer can
            # store a newer version between the check and the replacement.
            stored = self.version()
            if stored is not None and version < stored:
                return False
            pepper = PepperRepository(self._db).in_force()
            rows = [_sealed(row, pepper) for row in rows]
            self._db.execute("DELETE FROM visits")
            self._db.executemany(
                f"INSERT INTO visits ({', '.join(VISIT_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in VISIT_COLUMNS)})",
                rows,
            )
            self._db.execute(
                "INSERT INTO snapshots (kind, version, payload, applied_at) "
                "VALUES ('schedule', ?, ?, ?) "
                "ON CONFLICT (kind) DO UPDATE SET "
                "version = excluded.version, payload = excluded.payload, "
                "applied_at = excluded.applied_at",
                (version, without_verifiers("schedule", payload), _iso_z(self._now())),
            )
        return True

    def version(self) -> int | None:
        """The version of the applied schedule, or None before the first one."""
        row = self._db.execute("SELECT version FROM snapshots WHERE kind = 'schedule'").fetchone()
        return None if row is None else int(row[0])

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


_CODE = VISIT_COLUMNS.index("confirmation_code_verifier")


def _sealed(row: tuple[Any, ...], pepper: Pepper) -> tuple[Any, ...]:
    if row[_CODE] is None:
        return row
    code = pepper.open_or_seal(row[_CODE], CODE_VERIFIER, pepper)
    return (*row[:_CODE], code, *row[_CODE + 1 :])
