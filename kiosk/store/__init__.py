"""The kiosk's local SQLite store: schema, migrations, repositories."""

from kiosk.store.database import StoreError, open_database
from kiosk.store.messages import Message, MessagesRepository, Photo
from kiosk.store.migrations import schema_version
from kiosk.store.outbox import OutboxFull, OutboxRecord, OutboxRepository
from kiosk.store.processed import ProcessedEntry, ProcessedRepository
from kiosk.store.residents import ResidentsRepository
from kiosk.store.schedule import ScheduleRepository
from kiosk.store.snapshots import Snapshot, SnapshotRepository

__all__ = [
    "Message",
    "MessagesRepository",
    "OutboxFull",
    "OutboxRecord",
    "OutboxRepository",
    "Photo",
    "ProcessedEntry",
    "ProcessedRepository",
    "ResidentsRepository",
    "ScheduleRepository",
    "Snapshot",
    "SnapshotRepository",
    "StoreError",
    "open_database",
    "schema_version",
]
