"""The systemd tests' fixtures: a notification socket bound as systemd binds NOTIFY_SOCKET."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.systemd.supervisor import NotifySocket


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    # /tmp rather than tmp_path: a unix socket's address holds 107 bytes.
    sock = NotifySocket(Path("/tmp") / f"kiosk-notify-test-{os.getpid()}-{time.monotonic_ns()}")
    yield sock
    sock.close()
