"""The kiosk's local SQLite store: schema, migrations, repositories."""

from kiosk.store.database import StoreError, open_database
from kiosk.store.migrations import schema_version
from kiosk.store.schedule import ScheduleRepository

__all__ = ["ScheduleRepository", "StoreError", "open_database", "schema_version"]
