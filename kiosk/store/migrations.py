"""Versioned schema migrations, tracked in ``PRAGMA user_version``.

``MIGRATIONS[i]`` takes the schema from version ``i`` to ``i + 1``. A migration is never edited once
released: kiosks in the field have already run it. Change the schema by appending a new one.

Migrations are plain SQL: a migration must build the same schema forever, whatever version of
any library runs it, and each step is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.store.connection import Connection
from kiosk.store.errors import StoreError
from kiosk.store.transaction import transaction

Migration = Callable[[Connection], None]


def _v1_snapshots_and_schedule(db: Connection) -> None:
    """Retained snapshots as received, and the schedule's visits as rows."""
    db.execute(
        """
        CREATE TABLE snapshots (
            kind TEXT PRIMARY KEY CHECK (kind IN ('config', 'schedule', 'residents', 'notice')),
            -- NULL for config and notice: the contract gives them no version.
            version INTEGER,
            payload TEXT NOT NULL,  -- the payload's JSON, as applied
            applied_at TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE visits (
            visit_id TEXT PRIMARY KEY,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            inmate_id TEXT NOT NULL,
            inmate_name TEXT NOT NULL,
            visitor_name TEXT NOT NULL,
            confirmation_code_verifier TEXT NULL,
            peer_kiosk_id TEXT NULL
        )
        """
    )
    # The idle screen asks for the next visit, and check-in for the visits around now.
    db.execute("CREATE INDEX idx_visits_starts_at ON visits (starts_at)")


def _v2_residents_and_messaging(db: Connection) -> None:
    """Who may sign in here, and their messages with the approved photos."""
    db.execute(
        """
        CREATE TABLE residents (
            inmate_id TEXT PRIMARY KEY,
            booking_number TEXT NOT NULL,
            display_name TEXT NOT NULL,
            language TEXT NOT NULL,
            pin_verifier TEXT NOT NULL,
            message_credits INTEGER NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE badge_lookups (
            lookup TEXT PRIMARY KEY,
            inmate_id TEXT NOT NULL REFERENCES residents (inmate_id) ON DELETE CASCADE
        )
        """
    )
    # Without it every cascade from residents would scan the whole table.
    db.execute("CREATE INDEX idx_badge_lookups_inmate_id ON badge_lookups (inmate_id)")
    db.execute(
        """
        CREATE TABLE messages (
            message_id TEXT PRIMARY KEY,
            inmate_id TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            contact_id TEXT NOT NULL,
            contact_name TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT NULL,
            read_at TEXT NULL
        )
        """
    )
    # A resident's conversation list, newest first.
    db.execute("CREATE INDEX idx_messages_inmate_sent ON messages (inmate_id, sent_at)")
    db.execute(
        """
        CREATE TABLE photos (
            photo_id TEXT PRIMARY KEY,
            message_id TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
            mime TEXT NOT NULL,
            data BLOB NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_photos_message_id ON photos (message_id)")


def _v3_delivery(db: Connection) -> None:
    """The durable outbox, the ids already applied, and the local audit log."""
    db.execute(
        """
        CREATE TABLE outbox (
            -- AUTOINCREMENT: a seq is never reused after a delete, so order per topic holds even
            -- when the outbox empties and fills again.
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            record_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            size INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_outbox_topic_seq ON outbox (topic, seq)")
    db.execute(
        """
        CREATE TABLE processed (
            kind TEXT NOT NULL,  -- message | message_status | command
            id TEXT NOT NULL,
            result TEXT NULL,  -- a command's first result, sent again for a repeat
            processed_at TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE events (
            event_id TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL  -- JSON object
        )
        """
    )


def _v4_outbox_size_index(db: Connection) -> None:
    """Let the outbox's byte total (its budget) be summed from an index, not from the rows.

    ``size`` comes after ``payload`` in each row, so summing it from the table follows every
    payload's chain of overflow pages: 0.15 s with 400 MB of captures queued, on a warm cache,
    paid by every append under the write lock. The index holds only the sizes.
    """
    db.execute("CREATE INDEX idx_outbox_size ON outbox (size)")


def _v5_sign_in_and_refunds(db: Connection) -> None:
    """Sign-in lockouts that survive a restart, and the credits refunded for a rejected message.

    A lockout kept only in memory would end whenever the kiosk restarts, and pulling the power
    would become a way to try more PINs.
    """
    db.execute(
        """
        CREATE TABLE sign_in_failures (
            inmate_id TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,  -- wrong PINs since the last lockout or success
            lockouts INTEGER NOT NULL,  -- lockouts since the last success: each lasts longer
            locked_until TEXT NULL
        )
        """
    )
    db.execute("ALTER TABLE messages ADD COLUMN credits_refunded INTEGER NULL")


def _v6_lobby_visits(db: Connection) -> None:
    """What a lobby needs of a visit: the photos to take before it, and its station.

    Captures are a comma-separated list of purposes (at most three, from a fixed set).
    """
    db.execute("ALTER TABLE visits ADD COLUMN visitor_first_visit INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE visits ADD COLUMN visitor_captures TEXT NULL")
    db.execute("ALTER TABLE visits ADD COLUMN station_kiosk_id TEXT NULL")
    db.execute("ALTER TABLE visits ADD COLUMN station_name TEXT NULL")


def _v7_photos_removed(db: Connection) -> None:
    """How many of a message's photos retention removed: the message then says so."""
    db.execute("ALTER TABLE messages ADD COLUMN photos_removed INTEGER NOT NULL DEFAULT 0")


def _v8_pepper(db: Connection) -> None:
    """The pepper the kiosk's verifiers and badge key are sealed under (one row: the one in
    force). Values kept before it are sealed when the database is opened (Python, not SQL)."""
    db.execute(
        """
        CREATE TABLE pepper (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            key BLOB NOT NULL CHECK (length(key) = 32),
            from_facility INTEGER NOT NULL CHECK (from_facility IN (0, 1))
        )
        """
    )


def _v9_front_desk(db: Connection) -> None:
    """A lobby's front desk: the facility's public roster and the free on-site slots, each a
    versioned snapshot like the schedule (the snapshots table is rebuilt to name them)."""
    db.execute(
        """
        CREATE TABLE snapshots_v9 (
            kind TEXT PRIMARY KEY CHECK (
                kind IN ('config', 'schedule', 'residents', 'notice', 'roster', 'slots')
            ),
            -- NULL for config and notice: the contract gives them no version.
            version INTEGER,
            payload TEXT NOT NULL,  -- the payload's JSON, as applied
            applied_at TEXT NOT NULL
        )
        """
    )
    db.execute("INSERT INTO snapshots_v9 SELECT kind, version, payload, applied_at FROM snapshots")
    db.execute("DROP TABLE snapshots")
    db.execute("ALTER TABLE snapshots_v9 RENAME TO snapshots")
    db.execute(
        """
        CREATE TABLE roster (
            booking_number TEXT PRIMARY KEY,
            display_name TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE slots (
            slot_id TEXT PRIMARY KEY,
            starts_at TEXT NOT NULL,
            minutes INTEGER NOT NULL CHECK (minutes IN (15, 30)),
            station_kiosk_id TEXT NULL,
            station_name TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX idx_slots_starts_at ON slots (starts_at)")


MIGRATIONS: list[Migration] = [
    _v1_snapshots_and_schedule,
    _v2_residents_and_messaging,
    _v3_delivery,
    _v4_outbox_size_index,
    _v5_sign_in_and_refunds,
    _v6_lobby_visits,
    _v7_photos_removed,
    _v8_pepper,
    _v9_front_desk,
]


def latest_version() -> int:
    """The newest schema version this software knows."""
    return len(MIGRATIONS)


def schema_version(db: Connection) -> int:
    """The schema version the database is at (0 for a new, empty one)."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def newer_schema_message(subject: str, found: int, known: int) -> str:
    """The one-line reason for refusing a database from a newer kiosk."""
    return (
        f"{subject} was written by a newer kiosk version "
        f"(schema {found}, this version knows {known})"
    )


def migrate(db: Connection, target: int | None = None) -> int:
    """Bring the schema up to ``target`` (default: the newest) and return the version reached.

    Each step runs in its own transaction together with its ``user_version`` update, so a crash or
    an error leaves the database at the last completed version, never in between.
    """
    latest = latest_version()
    if target is None:
        target = latest
    if not 0 <= target <= latest:
        raise ValueError(f"target schema {target} is outside 0..{latest}")
    current = schema_version(db)
    if current > latest:
        raise StoreError(newer_schema_message("database", current, latest))
    if current > target:
        raise ValueError(f"cannot migrate down from schema {current} to {target}")
    for version in range(current, target):
        with transaction(db):
            # Read again under the write lock: another process may have run this step meanwhile.
            if schema_version(db) != version:
                continue
            MIGRATIONS[version](db)
            # PRAGMA takes no parameters; version is an int from range(), not outside input.
            db.execute(f"PRAGMA user_version = {version + 1}")
    return schema_version(db)
