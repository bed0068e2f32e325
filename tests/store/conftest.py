"""What every store test needs: a kiosk database file and a wall clock that moves when told."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from kiosk.core.clock import FakeClock
from kiosk.store import open_database
from kiosk.store.connection import Connection


@pytest.fixture
def path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "kiosk.db"


@pytest.fixture
def db(path: pathlib.Path) -> Iterator[Connection]:
    database = open_database(path)
    yield database
    database.close()


@pytest.fixture
def clock() -> FakeClock:
    # The moment the store tests' rows are dated around; repositories take ``clock.now``.
    return FakeClock(datetime(2024, 5, 1, 8, 0, tzinfo=UTC))
