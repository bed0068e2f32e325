"""A real Mosquitto on a free loopback port and the cloud simulator on it: fixtures for every
folder whose kiosks talk to the facility cloud (sync, calls, ui). Their conftests import them.

Mosquitto missing fails the test (``BrokerUnavailable``), it never skips it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudsim.broker import LocalBroker
from cloudsim.sim import CloudSim

FACILITY = "f1"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    with LocalBroker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def cloud(broker: LocalBroker) -> Iterator[CloudSim]:
    # A persistent session, like the real cloud's: uplinks queue while it reconnects.
    sim = CloudSim(broker.url, FACILITY, approve_delay=0, session_expiry_s=3600)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()
