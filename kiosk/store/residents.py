"""Who may sign in at this kiosk: replaced as a whole by each retained ``residents`` snapshot.

A resident is a plain dict, the shape the contract gives: ``inmate_id``, ``booking_number``,
``display_name``, ``language``, ``pin_verifier``, ``message_credits`` and ``badge_lookups`` (a list
of lowercase hex HMACs). Lookups and numbers are matched exactly as given. The PIN verifier is
kept sealed under the pepper (:mod:`kiosk.store.sealed_secrets`) and read back sealed.

Messages are not tied to residents in the schema (``messages.inmate_id`` has no foreign key), so a
resident who leaves the snapshot keeps their messages; only their badge lookups go with them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kiosk.store.connection import Connection
from kiosk.store.pepper import PIN_VERIFIER
from kiosk.store.sealed_secrets import sealed_rows, without_verifiers
from kiosk.store.times import utc_now
from kiosk.store.versioned import replace_versioned, stored_version

RESIDENT_COLUMNS = (
    "inmate_id",
    "booking_number",
    "display_name",
    "language",
    "pin_verifier",
    "message_credits",
)
_TEXT_COLUMNS = RESIDENT_COLUMNS[:-1]
_PIN = RESIDENT_COLUMNS.index("pin_verifier")
_FIELDS = frozenset({*RESIDENT_COLUMNS, "badge_lookups"})

# One statement per read, so a replacement never shows half-applied. Lookups in stored order.
_SELECT = (
    f"SELECT {', '.join(f'r.{c}' for c in RESIDENT_COLUMNS)}, b.lookup "
    "FROM residents AS r LEFT JOIN badge_lookups AS b ON b.inmate_id = r.inmate_id "
    "WHERE {where} ORDER BY r.inmate_id, b.rowid"
)


class ResidentsRepository:
    def __init__(self, db: Connection, *, now: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._now = now

    def replace(self, version: int, residents: Sequence[Mapping[str, Any]], payload: str) -> bool:
        """Make ``residents`` (with their badge lookups) the whole list, and record the snapshot.

        One transaction. Returns False and changes nothing when ``version`` is lower than the
        stored one; an equal version is applied again. A malformed resident, or a badge lookup
        or inmate id given twice, changes nothing and the error propagates.
        """
        checked = [_resident_row(resident) for resident in residents]
        lookups = [
            (lookup, row[0]) for row, resident_lookups in checked for lookup in resident_lookups
        ]

        def write_rows() -> None:
            rows = sealed_rows([row for row, _ in checked], _PIN, PIN_VERIFIER, self._db)
            self._db.execute("DELETE FROM badge_lookups")
            self._db.execute("DELETE FROM residents")
            self._db.executemany(
                f"INSERT INTO residents ({', '.join(RESIDENT_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in RESIDENT_COLUMNS)})",
                rows,
            )
            self._db.executemany(
                "INSERT INTO badge_lookups (lookup, inmate_id) VALUES (?, ?)", lookups
            )

        return replace_versioned(
            self._db,
            "residents",
            version,
            without_verifiers("residents", payload),
            self._now(),
            write_rows,
        )

    def version(self) -> int | None:
        """The applied snapshot's version, or None before the first one."""
        return stored_version(self._db, "residents")

    def by_badge_lookup(self, lookup: str) -> dict[str, Any] | None:
        """The resident the badge lookup belongs to, or None."""
        return self._one(
            "r.inmate_id = (SELECT inmate_id FROM badge_lookups WHERE lookup = ?)", lookup
        )

    def by_inmate_id(self, inmate_id: str) -> dict[str, Any] | None:
        return self._one("r.inmate_id = ?", inmate_id)

    def by_booking_number(self, booking_number: str) -> dict[str, Any] | None:
        """The resident with this booking number; None if nobody, or more than one, has it."""
        return self._one("r.booking_number = ?", booking_number)

    def by_typed_id(self, typed: str) -> dict[str, Any] | None:
        """The resident whose inmate ID or booking number was typed on the keypad.

        Matched as given first (the contract); the keypad has capital letters only, so an ID with
        small letters is found ignoring case too, when exactly one resident has it.
        """
        found = self.by_inmate_id(typed) or self.by_booking_number(typed)
        if found is not None:
            return found
        return self._one(
            "r.inmate_id IN (SELECT inmate_id FROM residents "
            "WHERE upper(inmate_id) = upper(?1) OR upper(booking_number) = upper(?1))",
            typed,
        )

    def set_credits(self, inmate_id: str, credits: int) -> bool:
        """Set a resident's message credits (e.g. from a ``message_status``); False if unknown."""
        if isinstance(credits, bool) or not isinstance(credits, int):
            raise TypeError(f"credits must be an int, not {credits!r}")
        cursor = self._db.execute(
            "UPDATE residents SET message_credits = ? WHERE inmate_id = ?", (credits, inmate_id)
        )
        return cursor.rowcount == 1

    def take_credit(self, inmate_id: str) -> bool:
        """Spend one message credit; False, changing nothing, at zero credits or if unknown.

        One statement, so check and decrement cannot be split; run it in the transaction that
        stores the outgoing message and its outbox record.
        """
        cursor = self._db.execute(
            "UPDATE residents SET message_credits = message_credits - 1 "
            "WHERE inmate_id = ? AND message_credits > 0",
            (inmate_id,),
        )
        return cursor.rowcount == 1

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM residents").fetchone()[0])

    def _one(self, where: str, value: str) -> dict[str, Any] | None:
        found: dict[str, dict[str, Any]] = {}
        for *columns, lookup in self._db.execute(_SELECT.format(where=where), (value,)):
            resident = found.get(columns[0])
            if resident is None:
                resident = dict(zip(RESIDENT_COLUMNS, columns, strict=True))
                resident["badge_lookups"] = []
                found[columns[0]] = resident
            if lookup is not None:
                resident["badge_lookups"].append(lookup)
        if len(found) != 1:
            # An ambiguous booking number identifies nobody: the PIN would be checked against
            # whichever resident happened to come first.
            return None
        return next(iter(found.values()))


def _resident_row(resident: Mapping[str, Any]) -> tuple[tuple[Any, ...], list[str]]:
    # Unknown keys are refused rather than dropped, as in the schedule: a misspelt field would
    # otherwise lose data silently (the core drops the contract's unknown fields earlier).
    unknown = set(resident) - _FIELDS
    if unknown:
        raise ValueError(f"resident has unknown fields: {', '.join(sorted(unknown))}")
    missing = [c for c in RESIDENT_COLUMNS if resident.get(c) is None]
    if missing:
        raise ValueError(f"resident {resident.get('inmate_id')!r} lacks {', '.join(missing)}")
    for column in _TEXT_COLUMNS:
        if not isinstance(resident[column], str):
            raise ValueError(f"resident {resident['inmate_id']!r}: {column} is not a string")
    credits = resident["message_credits"]
    if isinstance(credits, bool) or not isinstance(credits, int):
        raise ValueError(f"resident {resident['inmate_id']!r}: message_credits is not an int")
    lookups = resident.get("badge_lookups") or []
    # A string here is a list of characters to Python: refuse it instead of storing those.
    if not isinstance(lookups, list | tuple) or not all(isinstance(x, str) for x in lookups):
        raise ValueError(f"resident {resident['inmate_id']!r}: badge_lookups is not a list of str")
    return tuple(resident[c] for c in RESIDENT_COLUMNS), list(lookups)
