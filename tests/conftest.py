"""Fixtures shared by every folder: a kiosk configuration on a scratch data folder and the
core's fake clock. Each folder's own fixtures are in its conftest.py; helpers several folders
use are modules here (kiosks.py, visits.py, waiting.py, facility_cloud.py)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.config import KioskConfig, load
from kiosk.core.clock import FakeClock


def make_config(data_dir: Path, **overrides) -> KioskConfig:
    """A checked configuration, built the way the CLI builds one (demo values, flags)."""
    args = argparse.Namespace(demo=True, config=None, windowed=True)
    config = load(args, environ={"XDG_DATA_HOME": str(data_dir), "HOME": str(data_dir)})
    values = {**config.__dict__, "data_dir": data_dir / "kiosk", **overrides}
    return KioskConfig(**values)


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    return make_config(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    # 13:00 in Chicago (CST, UTC-6) on a Monday.
    return FakeClock(datetime(2026, 11, 23, 19, 0, tzinfo=UTC))
