"""Forgetting what the kiosk no longer needs: messages, photos and events past their time.

The cloud keeps the record; the kiosk keeps what a resident may still want to see. A message
the kiosk has not yet handed to the cloud (an outgoing one still queued) is never purged,
however old. Deleted rows are zeroed in the file (``secure_delete``), and the WAL is emptied
after, so their old pages do not linger there either.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.store.connection import Connection
from kiosk.store.transaction import transaction

_OLD_MESSAGES = "sent_at < ? AND NOT (direction = 'out' AND status = 'queued')"


@dataclass(frozen=True)
class Purged:
    messages: int = 0
    photos: int = 0
    events: int = 0

    def __bool__(self) -> bool:
        return bool(self.messages or self.photos or self.events)


def purge(
    db: Connection, *, messages_before: str, photos_before: str, events_before: str
) -> Purged:
    """Delete messages sent before ``messages_before`` (with their photos), the photos of those
    sent before ``photos_before`` and the events from before ``events_before``; the times are
    the store's UTC text. All or nothing."""
    with transaction(db):
        db.execute(
            f"UPDATE messages SET photos_removed = photos_removed + (SELECT count(*) FROM photos "
            f"WHERE photos.message_id = messages.message_id) WHERE {_OLD_MESSAGES}",
            (photos_before,),
        )
        photos = db.execute(
            f"DELETE FROM photos WHERE message_id IN "
            f"(SELECT message_id FROM messages WHERE {_OLD_MESSAGES})",
            (photos_before,),
        ).rowcount
        photos += db.execute(
            f"SELECT count(*) FROM photos WHERE message_id IN "
            f"(SELECT message_id FROM messages WHERE {_OLD_MESSAGES})",
            (messages_before,),
        ).fetchone()[0]
        messages = db.execute(f"DELETE FROM messages WHERE {_OLD_MESSAGES}", (messages_before,))
        events = db.execute("DELETE FROM events WHERE at < ?", (events_before,))
        purged = Purged(messages.rowcount, photos, events.rowcount)
    if purged:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return purged
