"""Remote visits: a family member at home in a real browser (Debian's Chromium, headless, its
fake camera and microphone) on the simulator's page, the resident at a housing kiosk core with
a real call, the simulator playing the cloud's media gateway over a real Mosquitto.

Everything stays on loopback: both ends reach each other through TURN relays (coturn) on
127.0.0.1, relayed paths only, as behind a facility firewall that lets no direct UDP out
(browsers leave loopback out of their own candidates). The kiosk has the facility's relay, the
family the cloud's: a cut on the kiosk's side of the network is a cut of its relay's port.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cloudsim.family.gateway import FamilyGateway
from cloudsim.sim import make_resident, make_visit
from hardware.simulated import timecode
from kiosk.contract.times import utc_text
from kiosk.core.kiosk import Kiosk
from launch.process import start_sync
from tests.calls.test_visit_between_kiosks import BADGE, PIN, hang_up_all, kiosk_for
from tests.family_browser import FamilyBrowser
from tests.family_camera import frame_index, write_y4m
from tests.turn_server import TurnServer, line_cut
from tests.waiting import until

pytestmark = pytest.mark.timeout(240)

RECONNECTING = "The connection was lost. Reconnecting…"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
Scenario = Callable[[Kiosk, FamilyGateway, FamilyBrowser], Awaitable[None]]


def publish_remote_visit(
    cloud, facility_turn: TurnServer, family_turn: TurnServer, ends_in_s: float, kind: str
) -> datetime:
    """The visit, begun a minute ago, and its end; each side's relay, relayed paths only."""
    now = datetime.now(UTC)
    cloud.publish_config(
        "hu-01", role="housing", ice_servers=[facility_turn.ice_server], ice_relay_only=True
    )
    cloud.family_ice_servers = [family_turn.ice_server]
    cloud.publish_residents(
        "hu-01", 1, [make_resident("A1024", "B-1", "M. Alvarez", PIN, badges=[BADGE])]
    )
    visit = make_visit(
        "v-home", now - timedelta(minutes=1), 1, kind, "A1024", "M. Alvarez", "R. Alvarez"
    )
    ends_at = now + timedelta(seconds=ends_in_s)
    visit["ends_at"] = utc_text(ends_at)
    cloud.publish_schedule("hu-01", 1, [visit])
    return ends_at


async def resident_joins(housing: Kiosk) -> None:
    await until(lambda: housing.visit is not None, 20.0, "the window")
    await until(lambda: housing.settings.badge_key is not None, 20.0, "the badge key")
    assert housing.devices.badge_reader.present(BADGE)
    await until(lambda: housing.sign_in is not None and housing.sign_in.step == "pin", 20.0, "PIN")
    for digit in PIN:
        housing.sign_in_intent("key", digit)
    housing.sign_in_intent("enter")
    await until(lambda: housing.sign_in is None, 20.0, "the PIN check")
    housing.devices.handset.lift()


async def both_see_and_hear(housing: Kiosk, browser: FamilyBrowser, gateway, cloud) -> dict:
    """Both sides joined: the call up, pictures and voice each way; the page's figures."""
    await until(
        lambda: housing.visit.phase == "in_call",
        30.0,
        lambda: (
            f"the call: the page said {gateway.received}, the kiosk "
            f"{[r['kind'] for r in cloud.received('signal')]}, {housing.visit.call_state}"
        ),
    )
    call = housing.visit._call
    frames = call.stats.frames_received
    # The kiosk sees and hears the family's camera and microphone: the very frames of the
    # file the browser plays as its camera, one after another.
    await until(lambda: call.stats.frames_received > frames + 30, 20.0, "pictures at the kiosk")
    seen = await family_frames_on_kiosk(housing, 10)
    assert len(set(seen)) >= 5, seen
    await until(lambda: call.stats.audio_level > 0.001, 10.0, "the family's voice at the kiosk")
    # The family sees and hears the kiosk, in the browser's own figures.
    return await asyncio.to_thread(
        browser.until,
        lambda b: (s := b.stats()) and s["framesDecoded"] > 30 and s["audioLevel"] > 0.001 and s,
        20.0,
        "the kiosk's picture and sound",
    )


async def family_frames_on_kiosk(housing: Kiosk, count: int) -> list[int]:
    """The indices of the family's camera frames in the next ``count`` pictures the kiosk's
    screen is given (tests.family_camera stamps each frame's index in it)."""
    seen: list[int] = []
    shown = None
    deadline = time.monotonic() + 10.0
    while len(seen) < count and time.monotonic() < deadline:
        remote, _ = housing.visit.media()
        if remote is not None and remote is not shown:
            shown = remote
            index = frame_index(timecode.read(remote))
            assert index is not None, "a picture at the kiosk that is not the family's camera"
            seen.append(index)
        await asyncio.sleep(0.02)
    assert len(seen) == count, f"only {len(seen)} pictures of the family in 10 s"
    return seen


def hold_remote_visit(tmp_path: Path, broker, cloud, scenario: Scenario) -> None:
    """A housing kiosk, the family's page in Chromium, and ``scenario`` played on them."""

    async def run() -> None:
        housing = kiosk_for(tmp_path, broker, "hu-01", "housing")
        sync = start_sync(housing)
        task = asyncio.create_task(housing.run())
        try:
            camera = family_camera(tmp_path)
            with FamilyGateway(cloud) as gateway, FamilyBrowser(camera=camera) as browser:
                cloud.gateway = gateway
                await scenario(housing, gateway, browser)
        finally:
            cloud.gateway = None
            await hang_up_all(housing)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await sync.stop()
            housing.close()

    asyncio.run(run())


def family_camera(tmp_path: Path) -> Path:
    """The family's camera: a Y4M file, each frame its index in a time code (2 s, looped)."""
    return write_y4m(tmp_path / "family-camera.y4m", frames=60)


@pytest.fixture
def relays(tmp_path):
    """The facility's relay (the kiosk's) and the cloud's (the family's)."""
    with ExitStack() as stack:
        yield (
            stack.enter_context(TurnServer(tmp_path / "facility-turn")),
            stack.enter_context(TurnServer(tmp_path / "family-turn")),
        )


def first_codecs(sdp: str) -> dict[str, str]:
    """Each media section's preferred codec in an SDP: the first payload type's name."""
    chosen, kind, first = {}, None, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind, first = line[2:].split()[0], line.split()[3]
        elif kind and line.startswith(f"a=rtpmap:{first} "):
            chosen[kind] = line.split()[1].split("/")[0]
    return chosen


class Watch:
    """What the kiosk's visit screen said, sampled every 50 ms while a scenario runs."""

    def __init__(self, housing: Kiosk) -> None:
        self.housing = housing
        self.said: list[tuple[float, str, str]] = []  # (wall clock, phase, connection words)
        self.warnings: list[str] = []  # the visit screen's warnings, as they changed
        self.warned_at: list[float] = []  # wall clock: when each warning showed
        self.tone_at: list[float] = []  # wall clock: when each tone in the handset was heard
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            view = self.housing.view.visit
            if view is not None and (not self.said or self.said[-1][1:] != (
                view.phase, view.connection)):  # fmt: skip
                self.said.append((time.time(), view.phase, view.connection))
            if view is not None and view.warning and view.warning not in self.warnings:
                self.warnings.append(view.warning)
                self.warned_at.append(time.time())
            tones = self.housing.devices.handset.tones
            if len(tones) > len(self.tone_at):
                self.tone_at += [time.time()] * (len(tones) - len(self.tone_at))
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._task.cancel()


def test_a_family_at_home_holds_a_privileged_visit_and_hangs_up(tmp_path, broker, cloud, relays):
    """An attorney from the office: the words on both sides, one peer and no recorder; the
    family's page hangs up and the kiosk is free at once."""
    publish_remote_visit(cloud, *relays, ends_in_s=180, kind="privileged")

    async def scenario(housing: Kiosk, gateway: FamilyGateway, browser: FamilyBrowser) -> None:
        await asyncio.to_thread(browser.open, gateway.link("v-home"))
        await resident_joins(housing)
        seen = await both_see_and_hear(housing, browser, gateway, cloud)
        # 640 wide, or a step down when this machine's CPU is short (kiosk/calls/send_quality).
        assert seen["frameWidth"] in (640, 480, 320) and seen["connection"] == "connected"
        assert seen["route"] == "relay"  # through the cloud's relay, on loopback
        # What Chromium answered to the kiosk's offer: VP8 and Opus, each way.
        codecs = (seen["videoIn"], seen["videoOut"], seen["audioIn"], seen["audioOut"])
        assert codecs == ("video/VP8", "video/VP8", "audio/opus", "audio/opus")
        assert housing.visit._call.stats.codec == "video/VP8"

        assert browser.text("title") == "Video visit with M. Alvarez"
        privileged = "This is a privileged visit: it is not recorded or monitored."
        assert browser.text("privacy") == privileged
        assert browser.text("time-left").startswith("Time left: 2:")
        view = housing.view.visit
        assert view.title == "Your video visit with R. Alvarez, from their office"
        assert view.privileged and view.monitoring == privileged
        # No recorder: the kiosk offered its picture and voice once each, to the family alone.
        offers = [r for r in cloud.received("signal") if r["kind"] == "offer"]
        assert offers and all(r["visit_id"] == "v-home" for r in offers)
        for offer in offers:
            sections = [line.split()[0] for line in offer["sdp"].splitlines() if line[:2] == "m="]
            assert sorted(sections) == ["m=audio", "m=video"], sections
        answers = [said["sdp"] for said in gateway.received if said["kind"] == "answer"]
        assert len(answers) == len(offers)
        # Chromium answered what the kiosk offered, its first choice of each first.
        assert first_codecs(answers[-1]) == {"audio": "opus", "video": "VP8"}

        # The family hangs up: the kiosk ends the visit, then is free at once.
        await asyncio.to_thread(browser.press, "hang-up")
        await until(lambda: housing.visit.ended_at is not None, 10.0, "the end at the kiosk")
        assert housing.visit.end_reason == "peer"
        assert housing.view.visit.ended == "The other side ended the visit."
        assert browser.text("status") == "The visit has ended."
        await until(lambda: housing.visit is None, 20.0, "the kiosk free again")
        assert "in progress" not in housing.view.notice.sentence

    hold_remote_visit(tmp_path, broker, cloud, scenario)


def end_by_staff(cloud, housing: Kiosk) -> None:
    cloud.send_command("hu-01", "end_visit", {"visit_id": "v-home", "reason": "count"})


def end_by_the_handset(cloud, housing: Kiosk) -> None:
    housing.devices.handset.hang_up()


@pytest.mark.parametrize(
    ("ending", "reason", "told"),
    [
        (end_by_staff, "command", "The facility ended the visit."),
        (end_by_the_handset, "hangup", "M. Alvarez hung up. The visit has ended."),
    ],
    ids=["staff", "handset"],
)
def test_the_kiosk_ends_a_remote_visit_and_the_family_is_told_why(
    tmp_path, broker, cloud, relays, ending, reason, told
):
    """The facility's end_visit, or the resident putting the handset back: the kiosk's `bye`
    reaches the family's page, which says who ended it."""
    publish_remote_visit(cloud, *relays, ends_in_s=180, kind="remote")

    async def scenario(housing: Kiosk, gateway: FamilyGateway, browser: FamilyBrowser) -> None:
        await resident_joins(housing)  # the resident first, this time: the family follows
        await until(lambda: housing.visit.phase == "waiting_for_peer", 10.0, "waiting")
        await asyncio.to_thread(browser.open, gateway.link("v-home"))
        await both_see_and_hear(housing, browser, gateway, cloud)
        assert browser.text("privacy") == "This visit may be recorded and monitored."
        assert housing.view.visit.title == "Your video visit with R. Alvarez, at home"
        if reason == "command":  # the family's page as the README shows it, in both languages
            await asyncio.to_thread(browser.driver.save_screenshot, str(SCREENSHOTS / "family.png"))
            await asyncio.to_thread(browser.press, "language")
            assert browser.text("title") == "Visita por video con M. Alvarez"
            assert browser.text("privacy") == "Esta visita puede ser grabada y supervisada."
            shot = str(SCREENSHOTS / "family-es.png")
            await asyncio.to_thread(browser.driver.save_screenshot, shot)
            await asyncio.to_thread(browser.press, "language")

        ending(cloud, housing)
        await until(lambda: housing.visit.ended_at is not None, 10.0, "the end at the kiosk")
        assert housing.visit.end_reason == reason
        await asyncio.to_thread(
            browser.until, lambda b: b.text("status") == told, 5.0, f"the end: {told}"
        )
        assert browser.text("time-left") == ""
        assert not browser.driver.find_element("id", "hang-up").is_displayed()

    hold_remote_visit(tmp_path, broker, cloud, scenario)


def test_a_remote_visit_survives_a_reload_and_a_cut_and_ends_on_time(
    tmp_path, broker, cloud, relays
):
    """Every minute paid for: a page reloaded, then the kiosk's line cut for 3 s, each time
    pictures again and the end unmoved; the warnings on both sides; the end at ``ends_at``
    within a second on both."""
    facility_turn, _ = relays
    ends_at = publish_remote_visit(cloud, *relays, ends_in_s=95, kind="remote")

    async def scenario(housing: Kiosk, gateway: FamilyGateway, browser: FamilyBrowser) -> None:
        await asyncio.to_thread(browser.open, gateway.link("v-home"))
        await resident_joins(housing)
        watch = Watch(housing)
        try:
            await both_see_and_hear(housing, browser, gateway, cloud)
            await reload_mid_visit(housing, browser, ends_at)
            await cut_mid_visit(housing, browser, facility_turn, watch)
            await end_on_time(housing, browser, ends_at, watch)
        finally:
            watch.stop()

    hold_remote_visit(tmp_path, broker, cloud, scenario)


async def reload_mid_visit(housing: Kiosk, browser: FamilyBrowser, ends_at: datetime) -> None:
    """The family's page reloaded: the same visit again, a fresh connection, within 5 s."""
    visit = housing.visit
    await asyncio.to_thread(browser.reload)
    reloaded = time.monotonic()
    await asyncio.to_thread(
        browser.until,
        lambda b: (s := b.stats()) and s["framesDecoded"] > 0 and s,
        5.0,
        "the kiosk's picture after the reload",
    )
    call = housing.visit._call
    frames = call.stats.frames_received
    await until(lambda: call.stats.frames_received > frames + 5, 5.0, "pictures again at the kiosk")
    assert time.monotonic() - reloaded <= 5.0
    assert housing.visit is visit and visit.ended_at is None
    assert abs((visit.visit.ends_at - ends_at).total_seconds()) < 0.001
    assert browser.text("time-left").startswith("Time left: 1:")


async def cut_mid_visit(housing: Kiosk, browser: FamilyBrowser, turn: TurnServer, watch) -> None:
    """The kiosk's line cut for 3 s: "Reconnecting…" on both sides, then pictures again."""
    before = len(browser.shown())
    with line_cut(turn):
        await until(lambda: housing.visit.phase == "reconnecting", 5.0, "the kiosk reconnecting")
        await asyncio.to_thread(
            browser.until, lambda b: b.text("status") == RECONNECTING, 5.0, "the page reconnecting"
        )
        await asyncio.sleep(max(0.0, 3.0 - 2.0))  # the rest of the 3 s (2 s to notice the cut)
    await until(lambda: housing.visit.phase == "in_call", 15.0, "the kiosk back in the visit")
    call = housing.visit._call
    frames = call.stats.frames_received
    await until(lambda: call.stats.frames_received > frames + 10, 10.0, "pictures again")
    start = (await asyncio.to_thread(browser.stats))["framesDecoded"]
    await asyncio.to_thread(
        browser.until,
        lambda b: (s := b.stats()) and s["framesDecoded"] > start + 10 and s,
        10.0,
        "the kiosk's picture again",
    )
    said = [line["text"] for line in browser.shown()[before:] if line["id"] == "status"]
    assert said[:1] == [RECONNECTING], said
    assert RECONNECTING in [words for _, _, words in watch.said], watch.said
    assert housing.visit.ended_at is None


async def end_on_time(housing: Kiosk, browser: FamilyBrowser, ends_at: datetime, watch) -> None:
    """The warnings, then the end at ``ends_at`` within a second on both sides."""
    visit = housing.visit
    left = (ends_at - datetime.now(UTC)).total_seconds()
    await until(lambda: visit.ended_at is not None, left + 2.0, "the end at the kiosk")
    ended_kiosk = time.time()
    await asyncio.to_thread(
        browser.until,
        lambda b: b.text("status") == "Your visit time is over.",
        2.0,
        "the end on the page",
    )
    assert visit.end_reason == "schedule"
    shown = browser.shown()
    ended_page = next(line["at"] for line in shown if line["text"] == "Your visit time is over.")
    end = ends_at.timestamp()
    assert end - 0.2 <= ended_kiosk <= end + 1.0, ended_kiosk - end
    assert end - 0.2 <= ended_page / 1000 <= end + 1.0, ended_page / 1000 - end
    warnings = [line for line in shown if line["id"] == "warning"]
    assert [line["text"] for line in warnings] == [
        "5 minutes left in your visit.",
        "1 minute left in your visit.",
    ]
    assert abs(warnings[1]["at"] / 1000 - (end - 60)) <= 1.0
    # The kiosk said the same, and rang the 1-minute tone in the handset.
    assert watch.warnings == ["5 minutes left in your visit.", "1 minute left in your visit."]
    assert any(abs(at - watch.warned_at[1]) <= 0.5 for at in watch.tone_at), watch.tone_at
    assert browser.text("time-left") == ""
