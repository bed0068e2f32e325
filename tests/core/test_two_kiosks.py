"""Two kiosks in one process share nothing: a fleet, a test or a bench may hold many."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hardware.interfaces import DeviceState
from kiosk.core.clock import FakeClock
from tests.conftest import make_config
from tests.core.residents import open_kiosk


def test_a_warning_in_one_kiosk_never_shows_in_the_others_maintenance_rows(
    tmp_path: Path, clock: FakeClock
) -> None:
    first = open_kiosk(make_config(tmp_path / "a", kiosk_id="hu-a"), clock)
    second = open_kiosk(make_config(tmp_path / "b", kiosk_id="hu-b"), clock)

    async def both_running() -> None:
        tasks = [asyncio.create_task(kiosk.run()) for kiosk in (first, second)]
        await asyncio.sleep(0)  # each attached its own keeper of problems
        first.tick()
        second.tick()
        # The first kiosk's handset is pulled: its own warning, and only its own.
        first.devices.handset.unplug()
        first.devices.hotplug.announce("handset", DeviceState.MISSING, "unplugged")
        await asyncio.sleep(0)
        first.tick()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run(both_running())
        assert any("handset is now missing" in line for line in first.problems.newest_first())
        assert second.problems.newest_first() == ()
        assert first.status()["errors"] and second.status()["errors"] == []
    finally:
        first.close()
        second.close()


def test_two_kiosks_speak_their_own_languages(tmp_path: Path, clock: FakeClock) -> None:
    first = open_kiosk(make_config(tmp_path / "a", kiosk_id="hu-a"), clock)
    second = open_kiosk(make_config(tmp_path / "b", kiosk_id="hu-b"), clock)
    try:
        first.set_language("es")
        assert first.view.language == "es" and second.view.language == "en"
        assert first.view.prompt != second.view.prompt
    finally:
        first.close()
        second.close()
