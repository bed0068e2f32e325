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
