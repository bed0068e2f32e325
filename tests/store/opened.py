"""The repositories as the tests of their rows read them: with the sealed verifiers opened, so
that a row read back compares with the one given. That they are sealed, and under which
pepper, is tests/store/test_pepper.py's."""

from __future__ import annotations

from typing import Any

from kiosk.store.pepper import CODE_VERIFIER, PIN_VERIFIER
from kiosk.store.residents import ResidentsRepository
from kiosk.store.schedule import ScheduleRepository
from kiosk.store.sealed_secrets import SealedSecrets


def _opened(db: Any, row: dict[str, Any] | None, column: str, what: str) -> dict[str, Any] | None:
    if row is None or row.get(column) is None:
        return row
    opened = SealedSecrets(db).verifier(row[column], what)
    assert opened is not None, f"{column} is not sealed under the pepper in force: {row[column]}"
    return {**row, column: opened}


class OpenedResidents(ResidentsRepository):
    def __init__(self, db: Any, **kwargs: Any) -> None:
        super().__init__(db, **kwargs)
        self.db = db

    def by_badge_lookup(self, lookup: str) -> dict[str, Any] | None:
        return _opened(self.db, super().by_badge_lookup(lookup), "pin_verifier", PIN_VERIFIER)

    def by_inmate_id(self, inmate_id: str) -> dict[str, Any] | None:
        return _opened(self.db, super().by_inmate_id(inmate_id), "pin_verifier", PIN_VERIFIER)

    def by_booking_number(self, number: str) -> dict[str, Any] | None:
        return _opened(self.db, super().by_booking_number(number), "pin_verifier", PIN_VERIFIER)


class OpenedSchedule(ScheduleRepository):
    def __init__(self, db: Any, **kwargs: Any) -> None:
        super().__init__(db, **kwargs)
        self.db = db

    def visits(self) -> list[dict[str, Any]]:
        return [
            _opened(self.db, visit, "confirmation_code_verifier", CODE_VERIFIER)
            for visit in super().visits()
        ]
