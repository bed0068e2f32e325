"""A real Mosquitto on a free loopback port, the cloud simulator on it (``tests.facility_cloud``),
and headless kiosks run as real processes (so that they can be killed at any instant)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from cloudsim.broker import LocalBroker
from tests import facility_cloud
from tests.facility_cloud import FACILITY

# The broker and cloud fixtures, shared with the other folders whose kiosks talk to the cloud.
broker = facility_cloud.broker
cloud = facility_cloud.cloud


class KioskProcess:
    """``kiosk run --headless`` against the test broker, with its own data folder."""

    def __init__(
        self,
        data_dir: Path,
        broker: LocalBroker,
        kiosk_id: str,
        role: str = "housing",
        extra_args: Sequence[str] = (),
    ):
        self.data_dir = data_dir
        self.broker = broker
        self.kiosk_id = kiosk_id
        self.role = role
        self.extra_args = list(extra_args)  # more flags, e.g. --ca-file/--cert-file/--key-file
        self.process: subprocess.Popen[str] | None = None
        self.log_path = data_dir.parent / f"{kiosk_id}.log"

    def start(self) -> KioskProcess:
        env = {**os.environ, "HOME": str(self.data_dir.parent), "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "launch", "run", "--headless",
                    "--data-dir", str(self.data_dir),
                    "--broker", self.broker.url,
                    "--facility", FACILITY,
                    "--kiosk-id", self.kiosk_id,
                    "--role", self.role,
                    "--timezone", "America/Chicago",
                    *self.extra_args,
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush; the power-cut case."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 20) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    @property
    def database_path(self) -> Path:
        return self.data_dir / "kiosk.sqlite3"


@pytest.fixture
def kiosk_process(tmp_path: Path, broker: LocalBroker) -> Iterator:
    started: list[KioskProcess] = []

    def make(kiosk_id: str = "hu-01", role: str = "housing") -> KioskProcess:
        handle = KioskProcess(tmp_path / kiosk_id, broker, kiosk_id, role)
        started.append(handle)
        return handle

    yield make
    for handle in started:
        if handle.alive():
            handle.process.kill()
            handle.process.wait()


@pytest.fixture
def lobby_kiosk(tmp_path: Path, broker: LocalBroker) -> Iterator:
    """A lobby kiosk in this process, configured for the broker (its SyncService is the
    test's to start)."""
    from kiosk.assembly import build_kiosk
    from kiosk.core.clock import SystemClock
    from tests.conftest import make_config

    config = make_config(
        tmp_path, role="lobby", kiosk_id="lobby-01", facility_id=FACILITY, brokers=(broker.url,)
    )
    kiosk = build_kiosk(config, SystemClock())
    yield kiosk
    kiosk.close()
