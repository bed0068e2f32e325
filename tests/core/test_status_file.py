"""The status file `kiosk-provision status` reads: written as the kiosk runs, whole, no resident."""

from __future__ import annotations

import asyncio

from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.store.status_file import STATUS_FILE, WRITE_EVERY_S, read_status
from tests.core.residents import JOHNSON, badge_attempt, open_kiosk, seed_residents


def test_the_kiosk_writes_its_health_and_nothing_of_whoever_is_signed_in(
    config: KioskConfig, clock: FakeClock
) -> None:
    kiosk = open_kiosk(config, clock)
    path = config.data_dir / STATUS_FILE
    try:
        seed_residents(kiosk)
        kiosk.tick()
        status = read_status(path)
        assert status is not None
        assert status["kiosk_id"] == config.kiosk_id and status["role"] == "housing"
        assert set(status["hardware"]) == {"camera", "handset", "badge_reader"}
        assert status["residents_version"] == 1 and status["session_active"] is False

        asyncio.run(badge_attempt(kiosk, clock, JOHNSON[5], JOHNSON[4]))
        assert kiosk.session is not None
        clock.advance(WRITE_EVERY_S)  # the kiosk's clock: ten seconds later
        kiosk.tick()
        status = read_status(path)
        assert status["session_active"] is True
        text = path.read_text(encoding="utf-8")
        for secret in JOHNSON[:3]:  # inmate id, booking number, name
            assert secret not in text
        assert not list(config.data_dir.glob(".status.json.*"))  # no half-written file left
    finally:
        kiosk.close()


def test_a_missing_or_garbled_status_reads_as_none(tmp_path) -> None:
    assert read_status(tmp_path / STATUS_FILE) is None
    (tmp_path / STATUS_FILE).write_text("{half", encoding="utf-8")
    assert read_status(tmp_path / STATUS_FILE) is None
