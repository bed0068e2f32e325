"""The visit screen in a real call: the other side's camera large, the resident's own small,
through aiortc between this window's kiosk and a lobby kiosk core, over Mosquitto."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from launch.process import start_sync
from tests.calls.test_visit_between_kiosks import (
    both_join,
    hang_up_all,
    kiosk_for,
    publish_facility,
)
from tests.waiting import until

pytestmark = [pytest.mark.ui, pytest.mark.timeout(120)]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_the_visit_screen_shows_both_cameras(ui, tmp_path, broker, cloud, monkeypatch):
    import kiosk.core.kiosk

    monkeypatch.setattr(kiosk.core.parts.visits, "VISIT_ENDED_SHOWN_S", 0)  # no 10 s of end words
    publish_facility(cloud, ends_in_s=60)
    housing = kiosk_for(tmp_path, broker, "hu-01", "housing")

    async def scenario(person):
        lobby = kiosk_for(tmp_path, broker, "lobby-01", "lobby")
        syncs = [start_sync(housing), start_sync(lobby)]
        lobby_task = asyncio.create_task(lobby.run())
        try:
            await both_join(housing, lobby)
            await person.until(lambda: person.app.root.current == "visit", 20)
            screen = person.screen("visit")
            remote, own = screen.ids.remote_video, screen.ids.self_view
            await person.until(lambda: remote.texture is not None and own.texture, 20)
            assert remote.texture.size == (640, 480)
            assert min(remote.picture_size) > 400 and min(own.picture_size) > 50  # drawn
            # The words over the picture give way to the picture.
            assert screen.ids.instruction.opacity == 0
            assert own.width < remote.width / 3
            from kivy.clock import Clock

            # 30 pictures a second, each with a frame of its own though they come unevenly.
            assert Clock._max_fps == 60
            await person.frames(3)
            person.screenshot(SCREENSHOTS / "visit-call.png")
            await until(lambda: housing.visit.call_state == "connected", 20.0)
            housing.hang_up()
            housing.tick()
            await person.until(lambda: person.app.root.current == "idle", 10)
            assert Clock._max_fps == 20  # calm again
        finally:
            await hang_up_all(housing, lobby)
            lobby_task.cancel()
            await asyncio.gather(lobby_task, return_exceptions=True)
            for sync in syncs:
                await sync.stop()
            lobby.close()

    try:
        ui(housing, scenario)
    finally:
        housing.close()
