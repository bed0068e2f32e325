"""Wrong PINs per resident and the lockouts they earned, kept across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.store.connection import Connection
from kiosk.store.times import iso_z


@dataclass(frozen=True)
class FailureRecord:
    inmate_id: str
    failures: int
    lockouts: int
    locked_until: datetime | None


class SignInFailuresRepository:
    def __init__(self, db: Connection) -> None:
        self._db = db

    def get(self, inmate_id: str) -> FailureRecord:
        """The resident's record; a clean one when they have never failed."""
        row = self._db.execute(
            "SELECT failures, lockouts, locked_until FROM sign_in_failures WHERE inmate_id = ?",
            (inmate_id,),
        ).fetchone()
        if row is None:
            return FailureRecord(inmate_id, 0, 0, None)
        failures, lockouts, locked_until = row
        until = datetime.fromisoformat(locked_until) if locked_until else None
        return FailureRecord(inmate_id, int(failures), int(lockouts), until)

    def put(self, record: FailureRecord) -> None:
        until = iso_z(record.locked_until) if record.locked_until is not None else None
        self._db.execute(
            "INSERT INTO sign_in_failures (inmate_id, failures, lockouts, locked_until) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (inmate_id) DO UPDATE SET "
            "failures = excluded.failures, lockouts = excluded.lockouts, "
            "locked_until = excluded.locked_until",
            (record.inmate_id, record.failures, record.lockouts, until),
        )

    def clear(self, inmate_id: str) -> None:
        """A successful sign-in: the slate is clean again."""
        self._db.execute("DELETE FROM sign_in_failures WHERE inmate_id = ?", (inmate_id,))
