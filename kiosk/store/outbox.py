"""The durable uplink queue (delivery rule 1).

Whatever the kiosk publishes on ``up/outbox``, ``up/captures``, ``up/events`` and ``up/cmd-result``
is appended here first and deleted only after the broker's PUBACK. ``seq`` never goes back (the
table is AUTOINCREMENT), so publishing in ``seq`` order keeps the order per topic and overall.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kiosk.store.connection import Connection
from kiosk.store.messages import MessagesRepository
from kiosk.store.times import iso_z, utc_now
from kiosk.store.transaction import transaction

# Records on ``…/up/outbox`` are residents' messages, by their message_id (the contract).
MESSAGE_TOPIC_KIND = "outbox"
# Seqs per DELETE statement: well under SQLite's limit on bound parameters.
_DELETE_BATCH = 500


class OutboxFull(Exception):
    """Queuing more would exceed the outbox's byte budget; nothing was written."""

    def __init__(self, needed: int, queued: int, budget: int) -> None:
        super().__init__(
            f"outbox full: {needed} more bytes with {queued} queued would exceed "
            f"the budget of {budget} bytes"
        )
        self.needed = needed
        self.queued = queued
        self.budget = budget


@dataclass(frozen=True)
class OutboxRecord:
    """One queued publication. ``created_at`` is ISO 8601 UTC text (``…Z``)."""

    seq: int
    topic: str
    record_id: str
    payload: bytes
    created_at: str


class OutboxRepository:
    """The outbox of one kiosk database.

    Payloads are the contract's UTF-8 JSON; they are stored as text (readable with the sqlite3
    shell) and returned as the same bytes. A payload that is not UTF-8 is refused.
    """

    def __init__(
        self, db: Connection, *, budget_bytes: int, now: Callable[[], datetime] = utc_now
    ) -> None:
        if isinstance(budget_bytes, bool) or not isinstance(budget_bytes, int):
            raise TypeError("budget_bytes must be an int")
        if budget_bytes <= 0:
            raise ValueError(f"budget_bytes must be positive, not {budget_bytes}")
        self._db = db
        self._budget = budget_bytes
        self._now = now

    @property
    def budget_bytes(self) -> int:
        return self._budget

    def append(self, topic: str, record_id: str, payload: bytes) -> int:
        """Queue one record and return its seq; committed when this returns.

        Inside an outer :func:`~kiosk.store.transaction.transaction` it commits with that
        transaction instead (e.g. together with the message row it publishes).

        Raises :class:`OutboxFull`, writing nothing, when the queued payload bytes would exceed
        the budget.
        """
        return self.append_many([(topic, record_id, payload)])[0]

    def append_many(self, records: Sequence[tuple[str, str, bytes]]) -> list[int]:
        """Queue several records in one transaction, all or none; return their seqs in order.

        Raises :class:`OutboxFull` (nothing written) when all of them together do not fit.
        """
        rows = [_row(topic, record_id, payload) for topic, record_id, payload in records]
        if not rows:
            return []
        needed = sum(size for *_, size in rows)
        created_at = iso_z(self._now())
        seqs: list[int] = []
        with transaction(self._db):
            # Under the write lock: no other writer can fill the outbox between check and insert.
            queued = self.size_bytes()
            if queued + needed > self._budget:
                raise OutboxFull(needed, queued, self._budget)
            for topic, record_id, text, size in rows:
                cursor = self._db.execute(
                    "INSERT INTO outbox (topic, record_id, payload, size, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (topic, record_id, text, size, created_at),
                )
                seqs.append(int(cursor.lastrowid))
        return seqs

    def pending(
        self, after_seq: int = 0, limit: int = 500, *, max_bytes: int | None = None
    ) -> list[OutboxRecord]:
        """Queued records with a seq above ``after_seq``, lowest seq first, at most ``limit``.

        ``max_bytes`` caps the payload bytes returned (captures are up to 2 MiB each); the first
        record is returned even when it alone is larger, so the queue never stalls.
        """
        if limit <= 0:
            raise ValueError(f"limit must be positive, not {limit}")
        cursor = self._db.execute(
            "SELECT seq, topic, record_id, payload, created_at FROM outbox "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        )
        records: list[OutboxRecord] = []
        total = 0
        try:
            # Row by row: with max_bytes, payloads beyond the cap are never read.
            for seq, topic, record_id, payload, created_at in cursor:
                data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
                if max_bytes is not None and records and total + len(data) > max_bytes:
                    break
                total += len(data)
                records.append(OutboxRecord(seq, topic, record_id, data, created_at))
        finally:
            # Resets the statement, which would otherwise hold its read snapshot open.
            cursor.close()
        return records

    def delete(self, seqs: Iterable[int]) -> int:
        """Delete the given (acknowledged) records in one transaction; return how many were there.

        Seqs already gone are skipped, so deleting twice is harmless.
        """
        unique = sorted({operator.index(seq) for seq in seqs})
        if not unique:
            return 0
        deleted = 0
        with transaction(self._db):
            for start in range(0, len(unique), _DELETE_BATCH):
                batch = unique[start : start + _DELETE_BATCH]
                marks = ", ".join("?" for _ in batch)
                cursor = self._db.execute(f"DELETE FROM outbox WHERE seq IN ({marks})", batch)
                deleted += cursor.rowcount
        return deleted

    def delete_acknowledged(self, seqs: Iterable[int]) -> list[str]:
        """Delete records the broker acknowledged; messages among them become ``sent``.

        One transaction, so a message is never shown as sent while its record is still queued.
        Returns the ids of the messages whose status changed.
        """
        unique = sorted({operator.index(seq) for seq in seqs})
        message_ids: list[str] = []
        with transaction(self._db):
            for start in range(0, len(unique), _DELETE_BATCH):
                batch = unique[start : start + _DELETE_BATCH]
                marks = ", ".join("?" for _ in batch)
                message_ids += [
                    row[0]
                    for row in self._db.execute(
                        f"SELECT record_id FROM outbox WHERE seq IN ({marks}) "
                        f"AND topic LIKE '%/up/{MESSAGE_TOPIC_KIND}'",
                        batch,
                    )
                ]
            sent = MessagesRepository(self._db).mark_sent(message_ids)
            self.delete(unique)
        return sent

    def queued(self, record_ids: Sequence[str]) -> list[str]:
        """Those of ``record_ids`` still waiting for the broker (a progress bar's count)."""
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        rows = self._db.execute(f"SELECT record_id FROM outbox WHERE record_id IN ({marks})", ids)
        return [row[0] for row in rows]

    def depth(self) -> int:
        """How many records are queued."""
        return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def size_bytes(self) -> int:
        """The queued payload bytes (summed from an index, without reading the payloads)."""
        return int(self._db.execute("SELECT coalesce(sum(size), 0) FROM outbox").fetchone()[0])

    def fill_ratio(self) -> float:
        """Queued bytes over the budget: 0.0 empty, 1.0 full (above 1.0 if the budget shrank)."""
        return self.size_bytes() / self._budget


def _row(topic: str, record_id: str, payload: bytes) -> tuple[str, str, str, int]:
    if not isinstance(topic, str) or not topic:
        raise ValueError(f"topic must be a non-empty string, not {topic!r}")
    if not isinstance(record_id, str) or not record_id:
        raise ValueError(f"record_id must be a non-empty string, not {record_id!r}")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
    data = bytes(payload)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"payload of {record_id!r} is not UTF-8: {exc}") from exc
    return topic, record_id, text, len(data)
