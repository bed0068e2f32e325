"""A real visit between two kiosk cores: a housing kiosk and a lobby kiosk, each with its own
data folder, the cloud simulator relaying their signals over a real Mosquitto on loopback, and
an aiortc call between them with the simulated cameras' pictures."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from cloudsim.sim import make_resident, make_visit
from kiosk.assembly import build_kiosk
from kiosk.contract.times import utc_text
from kiosk.core.clock import SystemClock
from kiosk.core.kiosk import Kiosk
from launch.process import start_sync
from tests.conftest import make_config
from tests.facility_cloud import FACILITY
from tests.waiting import until

BADGE, PIN = "04A1B2C3D4", "1234"
pytestmark = pytest.mark.timeout(90)


def kiosk_for(tmp_path, broker, kiosk_id: str, role: str) -> Kiosk:
    config = make_config(
        tmp_path / kiosk_id,
        kiosk_id=kiosk_id,
        role=role,
        facility_id=FACILITY,
        brokers=(broker.url,),
        housing_unit="B" if role == "housing" else None,
    )
    return build_kiosk(config, SystemClock())


def publish_facility(cloud, ends_in_s: float) -> datetime:
    """Both kiosks' config, the resident, and a visit whose window is open; returns its end."""
    now = datetime.now(UTC)
    cloud.publish_config("hu-01", role="housing")
    cloud.publish_config("lobby-01", role="lobby")
    cloud.publish_residents(
        "hu-01", 1, [make_resident("A1024", "B-1", "M. Alvarez", PIN, badges=[BADGE])]
    )
    ends_at = now + timedelta(seconds=ends_in_s)
    for kiosk_id, peer in (("hu-01", "lobby-01"), ("lobby-01", "hu-01")):
        visit = make_visit(
            "v-call", now - timedelta(minutes=1), 1, "onsite", "A1024", "M. Alvarez",
            "R. Alvarez", peer_kiosk_id=peer,
        )  # fmt: skip
        visit["ends_at"] = utc_text(ends_at)
        cloud.publish_schedule(kiosk_id, 1, [visit])
    return ends_at


async def both_join(housing: Kiosk, lobby: Kiosk) -> None:
    """The visitor checks in at the lobby; the resident badges, types her PIN, lifts the handset."""
    await until(lambda: housing.visit is not None and lobby.visit is not None, 20.0, "windows")
    assert lobby.visitor_checked_in("v-call")
    await until(lambda: housing.settings.badge_key is not None, 20.0, "the badge key")
    assert housing.devices.badge_reader.present(BADGE)
    await until(lambda: housing.sign_in is not None and housing.sign_in.step == "pin", 20.0, "PIN")
    for digit in PIN:
        housing.sign_in_intent("key", digit)
    housing.sign_in_intent("enter")
    await until(lambda: housing.sign_in is None, 20.0, "the PIN check")
    housing.devices.handset.lift()


async def hang_up_all(*kiosks: Kiosk) -> None:
    """End any visit still going and wait until its call has let go of everything."""
    for kiosk in kiosks:
        if kiosk.visit is not None and kiosk.visit.ended_at is None:
            kiosk.hang_up()
        call = getattr(kiosk.visit, "_call", None) if kiosk.visit else None
        if call is not None:
            await call.wait_finished()


async def run_visit(tmp_path, broker, cloud, scenario, make_kiosk=kiosk_for) -> None:
    housing = make_kiosk(tmp_path, broker, "hu-01", "housing")
    lobby = make_kiosk(tmp_path, broker, "lobby-01", "lobby")
    syncs = [start_sync(housing), start_sync(lobby)]
    tasks = [asyncio.create_task(housing.run()), asyncio.create_task(lobby.run())]
    try:
        await scenario(housing, lobby)
    finally:
        await hang_up_all(housing, lobby)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sync in syncs:
            await sync.stop()
        housing.close()
        lobby.close()


def test_a_visit_connects_flows_both_ways_and_ends_on_time(tmp_path, broker, cloud):
    ends_at = publish_facility(cloud, ends_in_s=14)

    async def scenario(housing: Kiosk, lobby: Kiosk) -> None:
        joined = time.monotonic()
        await both_join(housing, lobby)
        await until(
            lambda: housing.visit.phase == "in_call" and lobby.visit.phase == "in_call",
            20.0,
            "both in the call",
        )
        # Pictures both ways: each side's screen has the other's camera.
        hu_call, lobby_call = housing.visit._call, lobby.visit._call
        await until(
            lambda: hu_call.stats.frames_received > 30 and lobby_call.stats.frames_received > 30,
            20.0,
            "frames both ways",
        )
        for _ in range(5):  # five frames of a screen showing the visit
            remote, local = housing.visit.media()
            await asyncio.sleep(1 / 30)
        assert remote is not None and remote.shape == (480, 640, 3)
        assert local is not None
        assert hu_call.stats.audio_level > 0.01 and lobby_call.stats.audio_level > 0.01
        print(f"joined to frames both ways: {time.monotonic() - joined:.2f} s")

        # The visit ends at ends_at, whenever it began, within a second.
        visits = housing.visit, lobby.visit
        await until(lambda: all(v.ended_at is not None for v in visits), 30, "the end")
        for visit in visits:
            assert visit.end_reason == "schedule"
            assert 0 <= (visit.ended_at - ends_at).total_seconds() < 1.0

        # The cloud heard it all, with actual times.
        await until(lambda: len(cloud.received("events", "hu-01")) >= 3, 20.0, "events")
        kinds = [r["kind"] for r in cloud.received("events", "hu-01")]
        assert {"visit_joined", "visit_started", "visit_ended"} <= set(kinds)
        (ended,) = [r for r in cloud.received("events", "hu-01") if r["kind"] == "visit_ended"]
        assert ended["detail"]["reason"] == "schedule"
        assert ended["detail"]["started_at"] is not None
        call = ended["detail"]["call"]  # how the call went: the pictures shown and their age
        assert call["frames_received"] > 30 and call["pictures_shown"] == 4
        assert call["picture_age_ms"]["worst"] < 5000 and call["reconnects"] == 0
        assert {"ready", "offer", "answer"} <= {r["kind"] for r in cloud.received("signal")}

    asyncio.run(run_visit(tmp_path, broker, cloud, scenario))


def test_staff_end_a_visit_and_both_sides_say_so(tmp_path, broker, cloud):
    publish_facility(cloud, ends_in_s=120)

    async def scenario(housing: Kiosk, lobby: Kiosk) -> None:
        await both_join(housing, lobby)
        await until(lambda: housing.visit.phase == "in_call", 20.0, "in the call")
        cloud.send_command("hu-01", "end_visit", {"visit_id": "v-call", "reason": "count"})
        await until(lambda: housing.visit.ended_at is not None, 20.0, "housing ended")
        await until(lambda: lobby.visit.ended_at is not None, 20.0, "lobby ended (bye)")
        assert housing.visit.end_reason == "command"
        assert housing.view.visit.ended == "The visit was ended by facility staff."
        assert lobby.visit.end_reason == "peer"

    asyncio.run(run_visit(tmp_path, broker, cloud, scenario))


def test_a_call_frozen_for_three_seconds_mid_visit_reconnects_by_itself(tmp_path, broker, cloud):
    """The lobby's call stops dead for 3 s (its process frozen: no packet leaves or is read,
    the broker's link stays): the housing kiosk says "Reconnecting…" and makes a new offer,
    pictures flow again both ways, and the visit's end time has not moved."""
    publish_facility(cloud, ends_in_s=90)

    async def scenario(housing: Kiosk, lobby: Kiosk) -> None:
        await both_join(housing, lobby)
        await until(
            lambda: housing.visit.phase == "in_call" and lobby.visit.phase == "in_call", 20.0
        )
        offers_before = sum(1 for r in cloud.received("signal") if r["kind"] == "offer")
        call = housing.visit._call
        await until(lambda: call.stats.frames_received > 30, 20.0, "pictures before the cut")

        scheduled_end = housing.visit.visit.ends_at
        frozen = lobby.visit._call.pid
        os.kill(frozen, signal.SIGSTOP)
        cut_at = time.monotonic()
        try:
            await until(lambda: housing.visit.phase == "reconnecting", 10, "the housing sees it")
            assert housing.view.visit.instruction == "Reconnecting…"
            # The outage lasts three seconds, whatever the waiting above took of them.
            await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - cut_at)))
        finally:
            os.kill(frozen, signal.SIGCONT)

        await until(
            lambda: housing.visit.phase == "in_call" and lobby.visit.phase == "in_call",
            30,
            "back in the call",
        )
        for side in (housing, lobby):
            frames = side.visit._call.stats.frames_received
            await until(
                lambda s=side, f=frames: s.visit._call.stats.frames_received > f + 30,
                15,
                f"pictures again at {side.config.kiosk_id}",
            )
        offers = sum(1 for r in cloud.received("signal") if r["kind"] == "offer")
        assert offers > offers_before  # a new offer, made by the housing kiosk
        assert housing.visit.visit.ends_at == scheduled_end  # the cut cost no time of the visit
        assert housing.visit.ended_at is None and lobby.visit.ended_at is None
        assert lobby.visit._call.pid == frozen  # the same process: frozen is not dead

    asyncio.run(run_visit(tmp_path, broker, cloud, scenario))


def test_a_camera_that_fails_mid_visit_leaves_the_sound_and_says_so(tmp_path, broker, cloud):
    publish_facility(cloud, ends_in_s=90)

    async def scenario(housing: Kiosk, lobby: Kiosk) -> None:
        await both_join(housing, lobby)
        await until(lambda: housing.visit.phase == "in_call", 20.0, "in the call")
        lobby_call = lobby.visit._call
        await until(lambda: lobby_call.stats.frames_received > 10, 20.0, "pictures")
        housing.devices.camera.unplug()
        await until(lambda: housing.view.visit.camera != "", 10, "the notice")
        assert housing.view.visit.camera == (
            "Your camera is not working. The visit goes on with sound only."
        )
        assert housing.visit.phase == "in_call" and housing.visit.ended_at is None
        level_frames = lobby_call.stats.audio_frames_received
        await until(lambda: lobby_call.stats.audio_frames_received > level_frames + 50, 10, "sound")
        housing.devices.camera.replug()
        await until(lambda: housing.view.visit.camera == "", 10, "the camera back")

    asyncio.run(run_visit(tmp_path, broker, cloud, scenario))


def test_a_connection_that_closes_by_itself_is_mended_by_the_housing_kiosk(tmp_path, broker, cloud):
    """The lobby's peer connection closes on its own (ICE consent lost on a busy host): nobody
    said bye and nobody is making an offer, so the housing kiosk must, and the visit goes on."""
    publish_facility(cloud, ends_in_s=90)

    async def scenario(housing: Kiosk, lobby: Kiosk) -> None:
        await both_join(housing, lobby)
        await until(
            lambda: housing.visit.phase == "in_call" and lobby.visit.phase == "in_call", 20.0
        )
        call = housing.visit._call
        await until(lambda: call.stats.frames_received > 30, 20.0, "pictures before the close")
        restarts = call.stats.restarts
        lobby.visit._call.drop_connection()
        await until(
            lambda: call.stats.restarts > restarts, 15, "the housing kiosk making a new offer"
        )
        await until(
            lambda: housing.visit.phase == "in_call" and lobby.visit.phase == "in_call",
            30,
            "back in the call",
        )
        frames = call.stats.frames_received
        await until(lambda: call.stats.frames_received > frames + 30, 15, "pictures again")
        assert housing.visit.ended_at is None and lobby.visit.ended_at is None

    asyncio.run(run_visit(tmp_path, broker, cloud, scenario))
