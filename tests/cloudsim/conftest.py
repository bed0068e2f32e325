"""A real Mosquitto for the module, a CloudSim per test, and kiosks to connect to it.

Mosquitto missing fails these tests (``BrokerUnavailable``), as it fails the sync tests: a
skipped test would count as a pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudsim.broker import LocalBroker
from cloudsim.sim import CloudSim
from tests.cloudsim.fake_kiosk import FakeKiosk


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    with LocalBroker(Path(tmp_path_factory.mktemp("broker"))) as local:
        yield local


@pytest.fixture
def facility() -> str:
    # Each test its own facility: retained messages of one never reach another.
    return f"f-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def sim(broker: LocalBroker, facility: str) -> Iterator[CloudSim]:
    with CloudSim(broker.url, facility, approve_delay=0) as cloud:
        yield cloud


@pytest.fixture
def connect_kiosk(broker: LocalBroker, facility: str) -> Iterator[Any]:
    """``kiosk(kiosk_id)`` connects a FakeKiosk; all are closed after the test."""
    made: list[FakeKiosk] = []

    def connect(kiosk_id: str) -> FakeKiosk:
        made.append(FakeKiosk(broker.port, facility, kiosk_id))
        return made[-1]

    yield connect
    for fake in made:
        fake.close()
