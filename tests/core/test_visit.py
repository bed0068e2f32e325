"""A visit's rules in the core, under a fake clock: the join window, presence, warnings, the end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from hardware.interfaces import HookEvent, HookState
from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.facility import CallNetwork, IceServer
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import StaffCommand
from kiosk.core.visit import CallReport
from kiosk.sync.inbound import inbound_event
from tests.conftest import make_config
from tests.core.residents import (
    ALVAREZ,
    BADGE_KEY,
    JOHNSON,
    NBSP,
    START,
    badge_attempt,
    open_kiosk,
    seed_residents,
)
from tests.kiosks import apply_config
from tests.visits import visit_row

VISIT_START = START + timedelta(minutes=30)  # 1:30 PM in Chicago; the window opens at 1:20 PM


def visit_kiosk(config: KioskConfig, clock: FakeClock, **collaborators) -> Kiosk:
    """The housing kiosk of these tests, with a visit at 1:30 PM for D. Johnson."""
    kiosk = open_kiosk(config, clock, **collaborators)
    apply_config(kiosk, {"badge_key_b64": _b64(BADGE_KEY)})
    seed_residents(kiosk, JOHNSON, ALVAREZ)
    kiosk.apply_schedule(
        1,
        [
            visit_row(
                VISIT_START, minutes=30, visit_id="v1", inmate_id="A2048", inmate_name="D. Johnson"
            )
        ],
    )
    return kiosk


@pytest.fixture
def kiosk(config: KioskConfig, clock: FakeClock):
    kiosk = visit_kiosk(config, clock)
    yield kiosk
    kiosk.close()


@pytest.fixture
def lobby(tmp_path, clock: FakeClock):
    config = make_config(tmp_path, role="lobby", kiosk_id="lobby-01")
    kiosk = open_kiosk(config, clock)
    kiosk.apply_schedule(1, [visit_row(VISIT_START, minutes=30, visit_id="v1", kind="onsite")])
    yield kiosk
    kiosk.close()


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def at(kiosk: Kiosk, clock: FakeClock, moment: datetime) -> None:
    clock.set(moment)
    kiosk.tick()


def confirm_and_lift(kiosk: Kiosk, clock: FakeClock, row=JOHNSON) -> None:
    """The named resident taps their badge, types the PIN, and picks up the handset."""
    asyncio.run(badge_attempt(kiosk, clock, row[5], row[4]))
    kiosk.devices.handset.start()
    kiosk.devices.handset.lift()
    kiosk.on_hook(HookEvent(HookState.OFF_HOOK, clock.monotonic()))


def test_the_join_window_opens_ten_minutes_before_the_start(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START - timedelta(minutes=10, seconds=1))
    assert kiosk.visit is None
    assert kiosk.view.notice.title == "Next video visit at this kiosk"
    at(kiosk, clock, VISIT_START - timedelta(minutes=10))
    assert kiosk.visit is not None
    notice = kiosk.view.notice
    assert (notice.title, notice.who) == (
        "Your video visit with B. Visitor, at home, is ready",
        "Pick up the handset",
    )
    assert kiosk.view.visit.phase == "waiting_for_us"


def test_the_named_resident_joins_and_both_sides_present_start_the_visit(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START - timedelta(minutes=8))
    confirm_and_lift(kiosk, clock)
    assert kiosk.view.screen == "visit"
    view = kiosk.view.visit
    assert view.phase == "waiting_for_peer"
    assert view.peer_status == "B. Visitor has not joined yet."
    assert kiosk.outbox.signals() == ["ready"]
    (joined,) = kiosk.outbox.of("visit_joined")
    assert joined["joined_at"] == clock.now() and joined["side"] == "housing"

    clock.advance(90)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "lobby-01"})
    )
    # The visitor came after us: we tell them we are here too, once.
    assert kiosk.outbox.signals() == ["ready", "ready"]
    assert kiosk.view.visit.phase == "in_call"  # no call machinery in this test: presence starts it
    (started,) = kiosk.outbox.of("visit_started")
    assert started["started_at"] == clock.now()
    assert started["scheduled_start"] == VISIT_START


def test_nobody_else_can_take_the_visit(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START - timedelta(minutes=5))
    kiosk.devices.handset.start()
    kiosk.devices.handset.lift()
    kiosk.on_hook(HookEvent(HookState.OFF_HOOK, clock.monotonic()))
    assert kiosk.view.screen == "sign_in"
    assert kiosk.view.sign_in.title == "Confirm it is you for your visit"
    asyncio.run(badge_attempt(kiosk, clock, ALVAREZ[5], ALVAREZ[4]))  # the right PIN, not hers
    assert kiosk.visit.joined_at is None
    assert kiosk.session is None
    # Her badge named her: she is told in her own language.
    assert kiosk.view.language == "es"
    assert kiosk.view.sign_in.message == (
        "Esta visita es para D. Johnson. Solo esa persona puede entrar."
    )
    kiosk.leave_sign_in()  # she walks away: nothing of her stays, her language neither
    assert kiosk.view.language == "en"


def test_a_late_start_is_shorter_and_the_end_is_at_ends_at(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START + timedelta(minutes=5))  # five minutes late
    confirm_and_lift(kiosk, clock)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "lobby-01"})
    )
    assert kiosk.view.visit.time_left == "Ends in 25:00"
    assert kiosk.view.visit.ends_at == f"Ends at 2:00{NBSP}PM"
    at(kiosk, clock, VISIT_START + timedelta(minutes=30) - timedelta(seconds=1))
    assert kiosk.view.visit.phase == "in_call"
    at(kiosk, clock, VISIT_START + timedelta(minutes=30))
    (ended,) = kiosk.outbox.of("visit_ended")
    assert ended["reason"] == "schedule"
    assert ended["started_at"] == VISIT_START + timedelta(minutes=5)
    assert ended["ended_at"] == VISIT_START + timedelta(minutes=30)
    assert kiosk.view.visit.ended == "The visit ended at its scheduled time."
    assert kiosk.outbox.signals()[-1] == "bye"
    # The end's words stay a few seconds, then nothing of the visit is on screen.
    clock.advance(10)
    kiosk.tick()
    assert kiosk.view.screen == "idle" and kiosk.view.visit is None


def test_warnings_at_five_and_one_minute_with_a_tone_in_the_handset(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "lobby-01"})
    )
    at(kiosk, clock, VISIT_START + timedelta(minutes=24, seconds=59))
    assert kiosk.view.visit.warning == ""
    at(kiosk, clock, VISIT_START + timedelta(minutes=25))
    assert kiosk.view.visit.warning == "5 minutes left in your visit."
    assert kiosk.devices.handset.tones == ["warning"]
    at(kiosk, clock, VISIT_START + timedelta(minutes=29))
    assert kiosk.view.visit.warning == "1 minute left in your visit."
    assert kiosk.devices.handset.tones == ["warning", "warning"]
    at(kiosk, clock, VISIT_START + timedelta(minutes=29, seconds=30))
    assert kiosk.devices.handset.tones == ["warning", "warning"]  # once each


def test_the_warnings_count_minutes_in_spanish(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.set_language("es")
    at(kiosk, clock, VISIT_START + timedelta(minutes=25))
    assert kiosk.view.visit.warning == "Le quedan 5 minutos de visita."
    at(kiosk, clock, VISIT_START + timedelta(minutes=29))
    assert kiosk.view.visit.warning == "Le queda 1 minuto de visita."


@pytest.mark.parametrize("how", ["handset", "button", "command", "peer"])
def test_each_way_a_visit_ends_is_told_with_its_reason(kiosk, clock, how) -> None:
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "lobby-01"})
    )
    clock.advance(60)
    if how == "handset":
        kiosk.on_hook(HookEvent(HookState.ON_HOOK, clock.monotonic()))
    elif how == "button":
        kiosk.hang_up()
    elif how == "command":
        assert kiosk.run_command(
            StaffCommand("end_visit", {"visit_id": "v1", "reason": "count"})
        ) == (True, None)
    else:
        kiosk.receive(
            inbound_event(
                "signal",
                {"visit_id": "v1", "kind": "bye", "from_kiosk_id": "lobby-01", "reason": "hangup"},
            )
        )
    reason = {"handset": "hangup", "button": "hangup", "command": "command", "peer": "peer"}[how]
    (ended,) = kiosk.outbox.of("visit_ended")
    assert ended["reason"] == reason
    assert ended["ended_at"] == clock.now()
    words = {
        "hangup": "The visit was ended by a hang-up.",
        "command": "The visit was ended by facility staff.",
        "peer": "The other side ended the visit.",
    }[reason]
    assert kiosk.view.visit.ended == words
    # We tell the peer, unless the peer told us.
    assert (kiosk.outbox.signals()[-1] == "bye") == (how != "peer")


def test_end_visit_for_no_visit_here_says_so(kiosk, clock) -> None:
    assert kiosk.run_command(StaffCommand("end_visit", {"visit_id": "v1"})) == (
        False,
        "no visit in progress at this kiosk",
    )


def test_a_visit_cancelled_before_anyone_joined_disappears(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START - timedelta(minutes=5))
    assert kiosk.visit is not None
    kiosk.apply_schedule(2, [visit_row(VISIT_START, minutes=30, visit_id="v1", status="cancelled")])
    kiosk.tick()
    assert kiosk.visit is None
    assert kiosk.view.notice.sentence == "No visits scheduled today"
    assert kiosk.outbox.of("visit_ended") == []


def test_a_visit_cancelled_while_joined_ends_as_the_facilitys_doing(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START - timedelta(minutes=5))
    confirm_and_lift(kiosk, clock)
    kiosk.apply_schedule(2, [visit_row(VISIT_START, minutes=30, visit_id="v1", status="cancelled")])
    kiosk.tick()
    assert [e["reason"] for e in kiosk.outbox.of("visit_ended")] == ["command"]


def test_a_session_is_signed_out_when_the_window_opens_and_the_visit_follows(kiosk, clock) -> None:
    from tests.core.residents import sign_in

    at(kiosk, clock, VISIT_START - timedelta(minutes=20))
    sign_in(kiosk, clock, ALVAREZ)
    at(kiosk, clock, VISIT_START - timedelta(minutes=10))
    assert kiosk.session is None
    assert [d["reason"] for d in kiosk.outbox.of("logout")] == ["visit"]
    assert kiosk.visit is not None and kiosk.view.notice.title.startswith("Your video visit with")


def test_privileged_visits_say_they_are_not_monitored(kiosk, clock) -> None:
    kiosk.apply_schedule(2, [visit_row(VISIT_START, minutes=30, visit_id="v2", kind="privileged")])
    at(kiosk, clock, VISIT_START)
    assert kiosk.view.visit.privileged
    assert kiosk.view.visit.monitoring == (
        "This is a privileged visit: it is not recorded or monitored."
    )


@pytest.mark.parametrize(
    ("kind", "peer", "en", "es"),
    [
        ("remote", None, "Your video visit with B. Visitor, at home",
         "Su visita por video con B. Visitor, desde casa"),
        ("privileged", None, "Your video visit with B. Visitor, from their office",
         "Su visita por video con B. Visitor, desde su oficina"),
        ("onsite", "lb-01", "Your visit with B. Visitor", "Su visita con B. Visitor"),
        ("privileged", "lb-01", "Your visit with B. Visitor", "Su visita con B. Visitor"),
    ],
)  # fmt: skip
def test_the_visit_screen_says_where_the_visitor_joins_from(kiosk, clock, kind, peer, en, es):
    """A visitor at home or in an office is on a screen, not in the lobby: the title says so."""
    row = visit_row(VISIT_START, minutes=30, visit_id="v2", kind=kind, peer_kiosk_id=peer)
    kiosk.apply_schedule(2, [row])
    at(kiosk, clock, VISIT_START)
    assert kiosk.view.visit.title == en
    kiosk.set_language("es")
    assert kiosk.view.visit.title == es


def test_other_visits_say_they_may_be_monitored(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START)
    assert kiosk.view.visit.monitoring == "This visit may be recorded and monitored."


def test_the_lobby_joins_when_the_visitor_has_checked_in(lobby, clock) -> None:
    at(lobby, clock, VISIT_START - timedelta(minutes=11))
    assert lobby.visitor_checked_in("v1") is False  # not yet in the window
    at(lobby, clock, VISIT_START - timedelta(minutes=2))
    assert lobby.visitor_checked_in("v1") is True
    assert lobby.outbox.signals() == ["ready"]
    assert lobby.view.screen == "visit"
    assert lobby.view.visit.title == "Your visit with A. Resident"


def test_a_peer_that_never_comes_is_waited_for_until_the_end(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START - timedelta(minutes=10))
    confirm_and_lift(kiosk, clock)
    at(kiosk, clock, VISIT_START + timedelta(minutes=29))
    assert kiosk.view.visit.phase == "waiting_for_peer"
    at(kiosk, clock, VISIT_START + timedelta(minutes=30))
    (ended,) = kiosk.outbox.of("visit_ended")
    assert ended["reason"] == "schedule"
    assert ended["started_at"] is None and ended["peer_joined_at"] is None
    assert ended["joined_at"] == VISIT_START - timedelta(minutes=10)  # we were there


def test_the_window_and_the_end_hold_across_the_change_from_daylight_time(tmp_path) -> None:
    # 1 November 2026, Chicago falls back at 2:00 AM CDT to 1:00 AM CST.
    clock = FakeClock(datetime(2026, 11, 1, 6, 15, tzinfo=UTC))  # 1:15 AM CDT
    kiosk = open_kiosk(make_config(tmp_path), clock)
    visit_start = datetime(2026, 11, 1, 7, 20, tzinfo=UTC)  # 1:20 AM CST, the second 1:20 AM
    kiosk.apply_schedule(1, [visit_row(visit_start, minutes=30, visit_id="dst")])
    try:
        at(kiosk, clock, datetime(2026, 11, 1, 7, 9, tzinfo=UTC))  # 1:09 AM CST
        assert kiosk.visit is None
        at(kiosk, clock, datetime(2026, 11, 1, 7, 10, tzinfo=UTC))  # 1:10 AM CST
        assert kiosk.visit is not None
        assert kiosk.view.visit.ends_at == f"Ends at 1:50{NBSP}AM"
        assert kiosk.view.visit.time_left == "Ends in 40:00"
    finally:
        kiosk.close()


def test_a_visit_hung_up_early_does_not_invite_again(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.hang_up()
    clock.advance(10)
    kiosk.tick()  # the end's words have been shown
    clock.advance(60)
    kiosk.tick()
    assert kiosk.visit is None
    assert not kiosk.view.notice.title.startswith("Your video visit with")
    assert len(kiosk.outbox.of("visit_joined")) == 1


class FakeCall:
    """The call as the core sees it (kiosk.calls is tested with real calls in tests/calls)."""

    def __init__(self, on_state) -> None:
        self.on_state = on_state
        self.started: list[bool] = []
        self.restarts = 0
        self.hung_up: list[str] = []

    def start(self, offerer: bool) -> None:
        self.started.append(offerer)

    def restart(self) -> None:
        self.restarts += 1

    def hang_up(self, reason: str) -> None:
        self.hung_up.append(reason)

    def deliver(self, signal) -> None:
        pass

    def remote_image(self):
        return None

    def local_image(self):
        return None

    def camera_failed(self) -> bool:
        return False

    def report(self) -> CallReport:
        return CallReport(
            pictures_shown=900,
            picture_age_ms={"median": 61.0, "p95": 98.5, "worst": 240.0},
            frames_received=905,
            reconnects=2,
            poor_connection_s=4.5,
            consent_lost=0,
            longest_silence_ms=60.0,
            call_cpu_s=12.5,
        )


class FakeCalls:
    """A call factory that keeps the calls it made."""

    def __init__(self, calls: list[FakeCall]) -> None:
        self.calls = calls
        self.prepared = 0
        self.networks: list[CallNetwork] = []

    def __call__(self, visit, on_state, network) -> FakeCall:
        self.networks.append(network)
        self.calls.append(FakeCall(on_state))
        return self.calls[-1]

    def prepare(self) -> None:
        self.prepared += 1

    def ready_to_call(self) -> bool:
        return self.prepared > 0

    def close(self) -> None:
        pass


def test_the_call_is_made_ready_when_the_join_window_opens(config, clock) -> None:
    """A resident who lifts the handset gets a call at once: its process was loaded before."""
    kiosk = visit_kiosk(config, clock, call_factory=FakeCalls([]))
    at(kiosk, clock, VISIT_START - timedelta(minutes=10, seconds=1))
    assert not kiosk.ready_to_call
    at(kiosk, clock, VISIT_START - timedelta(minutes=10))
    assert kiosk.ready_to_call
    kiosk.close()


def test_a_call_that_keeps_failing_ends_the_visit_as_a_fault(config, clock) -> None:
    calls: list[FakeCall] = []
    kiosk = visit_kiosk(
        config,
        clock,
        call_factory=FakeCalls(calls),
    )
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "lobby-01"})
    )
    (call,) = calls
    assert call.started == [True]  # the housing kiosk offers
    call.on_state("connected")
    call.on_state("failed")
    call.on_state("failed")
    assert call.restarts == 2 and kiosk.view.visit.phase == "reconnecting"
    assert kiosk.view.visit.instruction == "Reconnecting…"
    call.on_state("failed")
    (ended,) = kiosk.outbox.of("visit_ended")
    assert ended["reason"] == "fault"
    # How the call went goes with the end: how old the pictures shown were, the reconnects.
    assert ended["call"]["picture_age_ms"] == {"median": 61.0, "p95": 98.5, "worst": 240.0}
    assert ended["call"]["reconnects"] == 2 and ended["call"]["pictures_shown"] == 900
    assert call.hung_up == ["fault"]
    assert kiosk.view.visit.ended == "The visit ended because of a fault. Please tell staff."


def test_the_call_goes_through_the_facilitys_stun_and_turn_servers(config, clock) -> None:
    """The cloud's config names them (an extension); the call gets them as they are then."""
    factory = FakeCalls([])
    kiosk = visit_kiosk(config, clock, call_factory=factory)
    turn = {"urls": ["turn:127.0.0.1:3478"], "username": "kiosk", "credential": "s3cret"}
    apply_config(
        kiosk,
        {"badge_key_b64": _b64(BADGE_KEY), "ice_servers": [turn], "ice_relay_only": True},
    )
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "lobby-01"})
    )
    (network,) = factory.networks
    assert network == CallNetwork((IceServer(("turn:127.0.0.1:3478",), "kiosk", "s3cret"),), True)
    assert "s3cret" not in repr(network)
    kiosk.close()


def test_a_call_that_recovers_starts_counting_failures_afresh(config, clock) -> None:
    calls: list[FakeCall] = []
    kiosk = visit_kiosk(
        config,
        clock,
        call_factory=FakeCalls(calls),
    )
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "lobby-01"})
    )
    (call,) = calls
    for _ in range(4):
        call.on_state("failed")
        call.on_state("connected")
    assert kiosk.outbox.of("visit_ended") == []
    assert kiosk.view.visit.phase == "in_call"


def test_a_visit_moved_later_leaves_the_window_and_the_notice_follows(kiosk, clock) -> None:
    at(kiosk, clock, VISIT_START - timedelta(minutes=5))
    assert kiosk.visit is not None
    later = VISIT_START + timedelta(hours=1)
    visit = visit_row(later, 30, visit_id="v1", inmate_id="A2048", inmate_name="D. Johnson")
    kiosk.apply_schedule(2, [visit])
    kiosk.tick()
    assert kiosk.visit is None
    assert kiosk.view.notice.time == f"2:30{NBSP}PM"


def test_a_kiosk_in_another_time_zone_shows_its_own_times(tmp_path, clock) -> None:
    kiosk = open_kiosk(make_config(tmp_path, timezone="America/New_York"), clock)
    try:
        kiosk.apply_schedule(1, [visit_row(VISIT_START, 30, visit_id="ny")])
        at(kiosk, clock, VISIT_START)
        assert kiosk.view.visit.ends_at == f"Ends at 3:00{NBSP}PM"  # 2:00 PM in Chicago
        assert kiosk.view.visit.time_left == "Ends in 30:00"
    finally:
        kiosk.close()


def test_confirmed_with_the_handset_down_the_screen_says_to_pick_it_up(kiosk, clock) -> None:
    """Touch to join, ID and PIN: back on the visit's screen, what is left to do is said."""
    at(kiosk, clock, VISIT_START - timedelta(minutes=5))
    assert kiosk.begin_sign_in()  # "touch here to join your visit"
    asyncio.run(badge_attempt(kiosk, clock, JOHNSON[5], JOHNSON[4]))
    view = kiosk.view
    assert view.screen == "idle" and kiosk.visit.joined_at is None
    assert view.notice.who == "You are confirmed. Now pick up the handset."
    assert view.prompt == "Pick up the handset to join your visit"
    kiosk.devices.handset.start()
    kiosk.devices.handset.lift()
    kiosk.on_hook(HookEvent(HookState.OFF_HOOK, clock.monotonic()))
    assert kiosk.view.screen == "visit"


@pytest.mark.parametrize("connected", [False, True])
def test_a_visit_the_other_side_ended_early_frees_the_kiosk_at_once(kiosk, clock, connected):
    """A family's page that says bye (before the call connected, or during it): after the end's
    words, the kiosk is free: no "Visit in progress", and a resident may sign in."""
    at(kiosk, clock, VISIT_START)
    confirm_and_lift(kiosk, clock)
    kiosk.receive(
        inbound_event("signal", {"visit_id": "v1", "kind": "ready", "from_kiosk_id": "gateway"})
    )
    if connected:
        clock.advance(60)
    bye = {"visit_id": "v1", "kind": "bye", "from_kiosk_id": "gateway", "reason": "peer"}
    kiosk.receive(inbound_event("signal", bye))
    assert kiosk.view.visit.ended == "The other side ended the visit."
    kiosk.on_hook(HookEvent(HookState.ON_HOOK, clock.monotonic()))
    clock.advance(10)
    kiosk.tick()  # the end's words have been shown
    assert kiosk.visit is None
    notice = kiosk.view.notice
    assert "in progress" not in notice.sentence and notice.title == "No visits scheduled today"
    assert kiosk.view.paused == ""
    asyncio.run(badge_attempt(kiosk, clock, ALVAREZ[5], ALVAREZ[4]))
    assert kiosk.session is not None and kiosk.session.inmate_id == "A1024"
