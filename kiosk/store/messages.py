"""Residents' messages: incoming (with the approved photos) and those written at the kiosk.

Times (``sent_at``, ``read_at``) are ISO 8601 UTC text; the caller hands them in one format
(datetimes are written as ``YYYY-MM-DDTHH:MM:SSZ``) so that text order is time order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kiosk.store.connection import Connection
from kiosk.store.times import iso_z, utc_now
from kiosk.store.transaction import transaction

INCOMING_STATUS = "delivered"
OUTGOING_STATUS = "queued"
# What a message written at the kiosk can become: queued here, then the contract's statuses.
MESSAGE_STATUSES = frozenset({"queued", "sent", "received", "approved", "rejected", "delivered"})
# How far along a message is: a status that arrives late never takes it back.
STATUS_RANK = {"queued": 0, "sent": 1, "received": 2, "approved": 3, "rejected": 3, "delivered": 4}
_RANK_SQL = (
    "CASE status " + " ".join(f"WHEN '{k}' THEN {v}" for k, v in STATUS_RANK.items()) + " END"
)

_COLUMNS = (
    "message_id",
    "inmate_id",
    "direction",
    "contact_id",
    "contact_name",
    "sent_at",
    "body",
    "status",
    "reason",
    "read_at",
    "credits_refunded",
)
_SELECT = f"SELECT {', '.join(_COLUMNS)}, photos_removed FROM messages"

PhotoInput = tuple[str, str, bytes]  # photo_id, mime, data


@dataclass(frozen=True)
class Message:
    message_id: str
    inmate_id: str
    direction: str  # "in" (to the resident) or "out" (written at the kiosk)
    contact_id: str
    contact_name: str
    sent_at: str
    body: str
    status: str
    reason: str | None
    read_at: str | None
    credits_refunded: int | None = None
    photos_removed: int = 0  # by retention: the message says they are no longer kept

    @property
    def page_key(self) -> tuple[str, str]:
        """Pass as ``before`` to get the page after this message."""
        return (self.sent_at, self.message_id)


@dataclass(frozen=True)
class Photo:
    photo_id: str
    mime: str
    data: bytes


class MessagesRepository:
    """Writes are one transaction each, joining an outer one if any (message + processed id)."""

    def __init__(self, db: Connection, *, now: Callable[[], datetime] = utc_now) -> None:
        self._db = db
        self._now = now

    def add_incoming(
        self,
        message_id: str,
        inmate_id: str,
        contact_id: str,
        contact_name: str,
        sent_at: str | datetime,
        body: str,
        photos: Sequence[PhotoInput] = (),
    ) -> bool:
        """Store a message for a resident with its photos, all or nothing.

        Returns False, changing nothing, when ``message_id`` is already stored.
        """
        photo_rows = [_photo_row(message_id, photo) for photo in photos]
        with transaction(self._db):
            cursor = self._db.execute(
                f"INSERT INTO messages ({', '.join(_COLUMNS)}) "
                "VALUES (?, ?, 'in', ?, ?, ?, ?, ?, NULL, NULL, NULL) "
                "ON CONFLICT (message_id) DO NOTHING",
                (
                    message_id,
                    inmate_id,
                    contact_id,
                    contact_name,
                    _text_time(sent_at),
                    body,
                    INCOMING_STATUS,
                ),
            )
            if cursor.rowcount == 0:
                return False
            self._db.executemany(
                "INSERT INTO photos (photo_id, message_id, mime, data) VALUES (?, ?, ?, ?)",
                photo_rows,
            )
        return True

    def add_outgoing(
        self,
        message_id: str,
        inmate_id: str,
        contact_id: str,
        body: str,
        created_at: str | datetime | None = None,
        *,
        contact_name: str = "",
    ) -> bool:
        """Store a message the resident wrote, status ``queued``; ``created_at`` defaults to now.

        Returns False, changing nothing, when ``message_id`` is already stored.
        """
        when = self._now() if created_at is None else created_at
        cursor = self._db.execute(
            f"INSERT INTO messages ({', '.join(_COLUMNS)}) "
            "VALUES (?, ?, 'out', ?, ?, ?, ?, ?, NULL, NULL, NULL) "
            "ON CONFLICT (message_id) DO NOTHING",
            (
                message_id,
                inmate_id,
                contact_id,
                contact_name,
                _text_time(when),
                body,
                OUTGOING_STATUS,
            ),
        )
        return cursor.rowcount == 1

    def set_status(
        self,
        message_id: str,
        status: str,
        reason: str | None = None,
        credits_refunded: int | None = None,
    ) -> bool:
        """Set what became of a message written at the kiosk (and why); False if none such,
        or if the message is already further along (a "received" that comes after "approved").

        Incoming messages are left alone: ``message_status`` is about messages the kiosk sent.
        A refund, once recorded, stays when a later status carries none.
        """
        if status not in MESSAGE_STATUSES:
            raise ValueError(f"unknown message status {status!r}")
        cursor = self._db.execute(
            "UPDATE messages SET status = ?, reason = ?, "
            "credits_refunded = coalesce(?, credits_refunded) "
            f"WHERE message_id = ? AND direction = 'out' AND {_RANK_SQL} <= ?",
            (status, reason, credits_refunded, message_id, STATUS_RANK[status]),
        )
        return cursor.rowcount == 1

    def mark_sent(self, message_ids: Sequence[str]) -> list[str]:
        """The broker has these: ``queued`` becomes ``sent``; returns the ids that changed.

        A status the cloud already gave (received, approved...) is never pulled back.
        """
        changed = []
        for message_id in message_ids:
            cursor = self._db.execute(
                "UPDATE messages SET status = 'sent' "
                "WHERE message_id = ? AND direction = 'out' AND status = 'queued'",
                (message_id,),
            )
            if cursor.rowcount == 1:
                changed.append(message_id)
        return changed

    def contacts(self, inmate_id: str) -> list[tuple[str, str]]:
        """Who has written to the resident: (contact_id, latest display name), most recent first.

        The contract has no address book: a resident writes to the people who write to them.
        """
        cursor = self._db.execute(
            "SELECT contact_id, contact_name, max(sent_at) AS latest FROM messages "
            "WHERE inmate_id = ? AND direction = 'in' GROUP BY contact_id ORDER BY latest DESC",
            (inmate_id,),
        )
        return [(contact_id, name) for contact_id, name, _latest in cursor]

    def get(self, message_id: str) -> Message | None:
        row = self._db.execute(f"{_SELECT} WHERE message_id = ?", (message_id,)).fetchone()
        return None if row is None else Message(*row)

    def for_resident(
        self, inmate_id: str, limit: int = 50, before: tuple[str, str] | None = None
    ) -> list[Message]:
        """A resident's messages (both directions), newest first, at most ``limit``.

        ``before`` is the ``page_key`` (``sent_at``, ``message_id``) of the last message of the
        previous page; only older messages are returned. Ties in ``sent_at`` are ordered by id.
        """
        if limit <= 0:
            raise ValueError(f"limit must be positive, not {limit}")
        if before is None:
            cursor = self._db.execute(
                f"{_SELECT} WHERE inmate_id = ? ORDER BY sent_at DESC, message_id DESC LIMIT ?",
                (inmate_id, limit),
            )
        else:
            sent_at, message_id = before
            cursor = self._db.execute(
                f"{_SELECT} WHERE inmate_id = ? AND (sent_at, message_id) < (?, ?) "
                "ORDER BY sent_at DESC, message_id DESC LIMIT ?",
                (inmate_id, sent_at, message_id, limit),
            )
        return [Message(*row) for row in cursor]

    def photos(self, message_id: str) -> list[Photo]:
        """A message's photos, in the order they came."""
        cursor = self._db.execute(
            "SELECT photo_id, mime, data FROM photos WHERE message_id = ? ORDER BY rowid",
            (message_id,),
        )
        return [Photo(photo_id, mime, bytes(data)) for photo_id, mime, data in cursor]

    def mark_read(self, message_id: str, at: str | datetime | None = None) -> bool:
        """Record when a message was first read (default now); False if unknown or read before."""
        when = self._now() if at is None else at
        cursor = self._db.execute(
            "UPDATE messages SET read_at = ? WHERE message_id = ? AND read_at IS NULL",
            (_text_time(when), message_id),
        )
        return cursor.rowcount == 1

    def unread_count(self, inmate_id: str) -> int:
        """How many messages to the resident are not read yet."""
        row = self._db.execute(
            "SELECT count(*) FROM messages "
            "WHERE inmate_id = ? AND direction = 'in' AND read_at IS NULL",
            (inmate_id,),
        ).fetchone()
        return int(row[0])

    def unread_total(self) -> int:
        """Unread messages for all residents of this kiosk (a count, no names: idle screen)."""
        row = self._db.execute(
            "SELECT count(*) FROM messages WHERE direction = 'in' AND read_at IS NULL"
        ).fetchone()
        return int(row[0])


def _text_time(value: str | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime is ambiguous; give an aware one (UTC)")
        return iso_z(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"a time must be ISO 8601 text or a datetime, not {value!r}")
    return value


def _photo_row(message_id: str, photo: PhotoInput) -> tuple[str, str, str, bytes]:
    photo_id, mime, data = photo
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"photo {photo_id!r}: data must be bytes, not {type(data).__name__}")
    return (photo_id, message_id, mime, bytes(data))
