"""Where the store keeps secrets, and keeping them sealed under the pepper in force.

Sealed: residents' PIN verifiers (``residents.pin_verifier``), visitors' confirmation code
verifiers (``visits.confirmation_code_verifier``), and in the ``config`` snapshot the badge key
(``badge_key_b64``) and the technicians' PIN verifiers. The ``residents`` and ``schedule``
snapshots' texts are kept without their verifiers (their rows hold them). The facility's
pepper itself is taken out of the ``config`` text into the ``pepper`` table.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from typing import Any

from kiosk.store.connection import Connection
from kiosk.store.pepper import (
    BADGE_KEY,
    CODE_VERIFIER,
    PEPPER_BYTES,
    PIN_VERIFIER,
    SEALED,
    Pepper,
)
from kiosk.store.transaction import transaction

# The stored columns that hold sealed values: (table, key column, column, what).
_SEALED_COLUMNS = (
    ("residents", "inmate_id", "pin_verifier", PIN_VERIFIER),
    ("visits", "visit_id", "confirmation_code_verifier", CODE_VERIFIER),
)


class PepperRepository:
    def __init__(self, db: Connection) -> None:
        self._db = db

    def in_force(self) -> Pepper:
        """The pepper in force; the kiosk makes its own the first time, until the facility's."""
        row = self._read()
        if row is None:
            with transaction(self._db):
                self._db.execute(
                    "INSERT OR IGNORE INTO pepper (id, key, from_facility) VALUES (1, ?, 0)",
                    (os.urandom(PEPPER_BYTES),),
                )
            row = self._read()
        assert row is not None
        return Pepper(bytes(row[0]), bool(row[1]))

    def take_facility(self, key: bytes) -> Pepper:
        """Make the facility's pepper the one in force, sealing again under it every value
        sealed under the one before. Joins the caller's transaction."""
        if len(key) != PEPPER_BYTES:
            raise ValueError(f"a pepper is {PEPPER_BYTES} bytes, not {len(key)}")
        with transaction(self._db):
            old = self.in_force()
            if old.from_facility and old.key == key:
                return old
            new = Pepper(key, True)
            self._db.execute("UPDATE pepper SET key = ?, from_facility = 1 WHERE id = 1", (key,))
            seal_stored(self._db, new, old)
        return new

    def _read(self) -> tuple[bytes, int] | None:
        return self._db.execute("SELECT key, from_facility FROM pepper WHERE id = 1").fetchone()


class SealedSecrets:
    """Opens a sealed value at the moment it is needed, with the pepper read from the store."""

    def __init__(self, db: Connection) -> None:
        self._peppers = PepperRepository(db)

    def verifier(self, sealed: object, what: str = PIN_VERIFIER) -> str | None:
        return self._peppers.in_force().open(sealed, what)

    def badge_key(self, sealed: object) -> bytes | None:
        opened = self._peppers.in_force().open(sealed, BADGE_KEY)
        if opened is None:
            return None
        try:
            return base64.b64decode(opened, validate=True) or None
        except (binascii.Error, ValueError):
            return None


def seal_stored(db: Connection, pepper: Pepper, old: Pepper | None = None) -> None:
    """Every stored secret sealed under ``pepper``: plain ones (kept by a kiosk before the
    pepper) sealed, ``old``'s sealed again. Joins the caller's transaction."""
    old = old or pepper
    with transaction(db):
        for table, key, column, what in _SEALED_COLUMNS:
            rows = db.execute(
                f"SELECT {key}, {column} FROM {table} "
                f"WHERE {column} IS NOT NULL AND {column} NOT LIKE ?",
                (f"{SEALED}{pepper.pepper_id}$%",),
            ).fetchall()
            db.executemany(
                f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                [(pepper.open_or_seal(value, what, old), row_key) for row_key, value in rows],
            )
        # Each opening of the store comes here: the residents' and schedule's texts (megabytes)
        # are read only while a verifier is still in them, which only an old kiosk's are.
        for kind, payload in db.execute(
            "SELECT kind, payload FROM snapshots WHERE kind = 'config' OR (kind IN "
            "('residents', 'schedule') AND instr(payload, '_verifier\"') > 0)"
        ).fetchall():
            kept = (
                config_as_kept(payload, pepper, old)
                if kind == "config"
                else without_verifiers(kind, payload)
            )
            if kept != payload:
                db.execute("UPDATE snapshots SET payload = ? WHERE kind = ?", (kept, kind))


def sealed_rows(
    rows: list[tuple[Any, ...]], index: int, what: str, db: Connection
) -> list[tuple[Any, ...]]:
    """``rows`` about to be stored, their secret at ``index`` sealed under the pepper in force
    (None stays None). Run inside the transaction that stores them."""
    pepper = PepperRepository(db).in_force()
    return [
        row
        if row[index] is None
        else (*row[:index], pepper.open_or_seal(row[index], what, pepper), *row[index + 1 :])
        for row in rows
    ]


def take_config_pepper(db: Connection, payload: str) -> Pepper:
    """The pepper in force once ``payload`` (a ``config`` text) is applied: its facility
    pepper taken if it has one. Joins the caller's transaction."""
    peppers = PepperRepository(db)
    given = (_document(payload) or {}).get("pepper_b64")
    if given:
        return peppers.take_facility(base64.b64decode(given, validate=True))
    return peppers.in_force()


def config_as_kept(payload: str, pepper: Pepper, old: Pepper | None = None) -> str:
    """A ``config`` text as the store keeps it: no pepper, its secrets sealed."""
    old = old or pepper
    document = _document(payload)
    if document is None:
        return payload  # no JSON object: no secret in it
    document.pop("pepper_b64", None)
    if document.get("badge_key_b64"):
        document["badge_key_b64"] = pepper.open_or_seal(document["badge_key_b64"], BADGE_KEY, old)
    for technician in document.get("technicians") or ():
        if technician.get("pin_verifier"):
            technician["pin_verifier"] = pepper.open_or_seal(
                technician["pin_verifier"], PIN_VERIFIER, old
            )
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def without_verifiers(kind: str, payload: str) -> str:
    """A ``residents`` or ``schedule`` text without its verifiers (their rows keep them); a
    text that is no JSON object holds none."""
    document = _document(payload)
    if document is None:
        return payload
    holders: list[Any] = []
    if kind == "residents":
        holders = [(resident, "pin_verifier") for resident in document.get("residents") or ()]
    elif kind == "schedule":
        holders = [
            (visit.get("visitor"), "confirmation_code_verifier")
            for visit in document.get("visits") or ()
            if isinstance(visit, dict)
        ]
    removed = [
        holder.pop(name) for holder, name in holders if isinstance(holder, dict) and name in holder
    ]
    if not removed:
        return payload
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _document(payload: str) -> dict[str, Any] | None:
    try:
        document = json.loads(payload)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
