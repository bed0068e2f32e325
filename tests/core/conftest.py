"""The core's fixtures: a housing kiosk built as the product builds it, its residents loaded.

A test file whose kiosk needs more (messages, a visit, a technician) defines its own ``kiosk``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.kiosk import Kiosk
from tests.core.residents import open_kiosk, seed_residents


@pytest.fixture
def kiosk(config: KioskConfig, clock: FakeClock) -> Iterator[Kiosk]:
    kiosk = open_kiosk(config, clock)
    seed_residents(kiosk)
    yield kiosk
    kiosk.close()


@pytest.fixture
def desk_store(tmp_path):
    """A lobby's store and its outbox, for the front desk's tests."""
    from datetime import UTC, datetime

    from kiosk.contract.topics import Topics
    from kiosk.store import open_database
    from kiosk.sync.cloud_outbox import CloudOutbox

    database = open_database(tmp_path / "desk.sqlite3")
    clock = FakeClock(datetime(2026, 12, 7, 16, 0, tzinfo=UTC))
    yield database, CloudOutbox(database, Topics("f1", "lobby-01"), clock, budget_bytes=64 << 20)
    database.close()
