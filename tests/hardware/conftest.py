"""What several hardware tests stand on: a stand-in ``/dev/input`` and a sound card made of
ALSA's own plugins (the machine has neither devices nor a sound card)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardware.recordings import Bus
from tests.hardware.sound_card import FakeSoundCard


@pytest.fixture
def bus() -> Bus:
    return Bus()


@pytest.fixture
def card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSoundCard:
    return FakeSoundCard(tmp_path, monkeypatch)
