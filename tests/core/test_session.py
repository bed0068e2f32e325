"""A resident's session: what its header says, and every way it ends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.core.clock import FakeClock
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import StaffCommand
from kiosk.sync.inbound import inbound_event
from tests.core.residents import (
    ALVAREZ,
    JOHNSON,
    NBSP,
    START,
    add_message,
    sign_in,
)
from tests.visits import visit_row


def wait(kiosk: Kiosk, clock: FakeClock, seconds: int) -> None:
    """Time passes second by second, as the kiosk's run loop ticks it."""
    for _ in range(seconds):
        clock.advance(1)
        kiosk.tick()


def stay(kiosk: Kiosk, clock: FakeClock, seconds: int) -> None:
    """The resident keeps using the kiosk: a touch every 30 s."""
    for _ in range(seconds // 30):
        wait(kiosk, clock, 30)
        kiosk.session_intent("touched")
    wait(kiosk, clock, seconds % 30)


def test_the_header_shows_who_credits_and_time_left(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    view = kiosk.view
    assert view.screen == "session"
    session = view.session
    assert session.resident_name == "D. Johnson"
    assert session.credits == "3 credits"
    assert session.time_left == "Time left 15:00"
    assert session.page == "inbox"
    assert (session.still_there, session.ending) == ("", "")
    assert kiosk.session_active

    wait(kiosk, clock, 5)
    kiosk.session_intent("touched")
    wait(kiosk, clock, 60)
    assert kiosk.view.session.time_left == "Time left 13:55"


def test_idle_warns_counts_down_and_signs_out(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    wait(kiosk, clock, 59)
    assert kiosk.view.session.still_there == ""
    wait(kiosk, clock, 1)
    assert kiosk.view.session.still_there == "Signing you out in 15 seconds."
    wait(kiosk, clock, 5)
    assert kiosk.view.session.still_there == "Signing you out in 10 seconds."
    wait(kiosk, clock, 9)
    assert kiosk.view.session.still_there == "Signing you out in 1 second."
    wait(kiosk, clock, 1)
    assert kiosk.view.screen == "idle"
    assert kiosk.outbox.of("logout")[-1]["reason"] == "idle"
    assert kiosk.outbox.of("logout")[-1]["duration_s"] == 75


def test_the_idle_warning_says_an_unsent_draft_will_be_discarded(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    add_message(kiosk, "m-1", JOHNSON[0], "Hi", contact=("c-9", "T. Johnson"))
    sign_in(kiosk, clock)
    kiosk.session_intent("write_to", "c-9")
    kiosk.session_intent("set_draft", "Dear T,")
    wait(kiosk, clock, 60)
    session = kiosk.view.session
    assert session.still_there == "Signing you out in 15 seconds."
    assert session.still_there_detail == "Your unsent message will be discarded."


def test_a_touch_during_the_warning_keeps_the_session(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    wait(kiosk, clock, 70)
    assert kiosk.view.session.still_there
    kiosk.session_intent("touched")
    assert kiosk.view.session.still_there == ""
    wait(kiosk, clock, 59)
    assert kiosk.view.screen == "session"
    assert kiosk.outbox.of("logout") == []


def test_the_session_ends_at_its_maximum_time(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    stay(kiosk, clock, 14 * 60 + 30)
    session = kiosk.view.session
    assert session.time_left == "Time left 0:30"
    assert session.ending == "Your session ends in less than a minute."
    stay(kiosk, clock, 29)
    assert kiosk.view.screen == "session"
    wait(kiosk, clock, 1)
    assert kiosk.view.screen == "idle"
    assert [d["reason"] for d in kiosk.outbox.of("logout")] == ["max_time"]


def test_the_cloud_sets_idle_and_maximum_times(kiosk: Kiosk, clock: FakeClock) -> None:
    kiosk.receive(inbound_event("config", {"session_idle_s": 30, "session_max_s": 120}))
    sign_in(kiosk, clock)
    assert kiosk.view.session.time_left == "Time left 2:00"
    wait(kiosk, clock, 30)
    assert kiosk.view.session.still_there == "Signing you out in 15 seconds."


def test_a_visit_cuts_the_session_at_its_join_window(kiosk: Kiosk, clock: FakeClock) -> None:
    # The visit begins at 1:20 PM; it may be joined from 1:10 PM: the session ends then.
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=20))])
    sign_in(kiosk, clock)
    session = kiosk.view.session
    assert session.time_left == "Time left 10:00"
    assert session.ending == (
        f"A visit begins at this kiosk at 1:20{NBSP}PM. Your session ends at 1:10{NBSP}PM."
    )
    stay(kiosk, clock, 9 * 60 + 59)
    assert kiosk.view.screen == "session"
    wait(kiosk, clock, 1)
    assert kiosk.view.screen == "idle"
    assert [d["reason"] for d in kiosk.outbox.of("logout")] == ["visit"]
    # The window is open: touching the screen now confirms the visit's resident, no session.
    assert kiosk.begin_sign_in() is True
    assert kiosk.view.screen == "sign_in"
    assert kiosk.view.sign_in.title == "Confirm it is you for your visit"


def test_a_visit_after_the_maximum_time_does_not_shorten_the_session(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=40))])
    sign_in(kiosk, clock)
    assert kiosk.view.session.time_left == "Time left 15:00"
    assert kiosk.view.session.ending == ""


def test_a_visit_scheduled_during_the_session_shortens_it(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    stay(kiosk, clock, 60)
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=15))])
    assert kiosk.view.session.time_left == "Time left 4:00"
    stay(kiosk, clock, 4 * 60)
    assert kiosk.outbox.of("logout")[-1]["reason"] == "visit"


def test_a_staff_logout_command_ends_the_session(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    assert kiosk.run_command(StaffCommand("logout", {})) == (True, None)
    assert kiosk.view.screen == "idle"
    assert [d["reason"] for d in kiosk.outbox.of("logout")] == ["command"]
    # With nobody signed in there is nothing to end, and that is fine.
    assert kiosk.run_command(StaffCommand("logout", {})) == (True, None)
    assert len(kiosk.outbox.of("logout")) == 1


def test_a_staff_lock_ends_the_session_and_pauses_sign_in(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    kiosk.run_command(StaffCommand("lock", {"reason": "count"}))
    assert kiosk.view.screen == "idle"
    assert kiosk.view.paused == "This kiosk is closed by staff."
    assert [d["reason"] for d in kiosk.outbox.of("logout")] == ["command"]


def test_a_lockdown_lets_a_session_in_progress_finish(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    kiosk.receive(
        inbound_event("notice", {"notice_id": "n", "text": "Lockdown", "severity": "lockdown"})
    )
    kiosk.tick()
    assert kiosk.view.screen == "session"
    kiosk.sign_out()
    assert kiosk.begin_sign_in() is False


@pytest.mark.parametrize("reason", ["user", "idle", "max_time", "visit", "command"])
def test_every_sign_out_publishes_a_logout_event_with_its_reason(
    kiosk: Kiosk, clock: FakeClock, reason: str
) -> None:
    sign_in(kiosk, clock)
    telemetry = kiosk.outbox.telemetry
    wait(kiosk, clock, 10)
    kiosk.sign_out(reason)
    assert kiosk.outbox.of("logout") == [{"reason": reason, "inmate_id": "A2048", "duration_s": 10}]
    assert kiosk.outbox.kinds()[-1] == "logout"
    assert kiosk.outbox.telemetry == telemetry + 1  # session_active changed
    assert not kiosk.session_active


def test_nothing_of_the_resident_stays_in_the_view_after_sign_out(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    add_message(kiosk, "m-1", JOHNSON[0], "The kids say hi", contact=("c-9", "T. Johnson"))
    sign_in(kiosk, clock)
    kiosk.session_intent("open_message", "m-1")
    kiosk.session_intent("reply")
    kiosk.session_intent("set_draft", "Tell them I miss them")
    view = repr(kiosk.view)
    for secret in ("D. Johnson", "The kids say hi", "T. Johnson"):
        assert secret in view  # the test looks for what really was on screen

    kiosk.sign_out()

    view = repr(kiosk.view)
    for secret in (
        "D. Johnson",
        "The kids say hi",
        "T. Johnson",
        "Tell them I miss them",
        "A2048",
        "B2026-00452",
        "3 credits",
    ):
        assert secret not in view
    assert kiosk.view.screen == "idle"
    assert (kiosk.view.session, kiosk.view.sign_in) == (None, None)
    # The next person starts from a clean keypad.
    assert kiosk.begin_sign_in()
    assert "Johnson" not in repr(kiosk.view)


def test_the_idle_screen_no_longer_counts_messages_read_in_the_session(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    add_message(kiosk, "m-1", JOHNSON[0], "Hi")
    add_message(kiosk, "m-2", ALVAREZ[0], "Hola")
    assert kiosk.view.messages_waiting == "2 new messages are waiting. Sign in to read them."
    sign_in(kiosk, clock)
    kiosk.session_intent("open_message", "m-1")
    kiosk.sign_out()
    assert kiosk.view.messages_waiting == "1 new message is waiting. Sign in to read it."
    kiosk.set_language("es")
    assert kiosk.view.messages_waiting == "Hay 1 mensaje nuevo. Inicie sesión para leerlo."


def test_the_language_is_the_residents_during_the_session_only(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    assert kiosk.view.language == "en"
    sign_in(kiosk, clock, ALVAREZ)
    assert kiosk.view.language == "es"
    assert kiosk.view.clock == "13:00"
    assert kiosk.view.session.credits == "12 créditos"
    kiosk.sign_out()
    assert kiosk.view.language == "en"
    assert kiosk.view.clock == f"1:00{NBSP}PM"
    assert kiosk.view.prompt == "Tap your badge or touch to sign in"


def test_a_resident_whose_language_is_not_offered_keeps_the_kiosks(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    kiosk.receive(inbound_event("config", {"languages": ["en"]}))
    sign_in(kiosk, clock, ALVAREZ)
    assert kiosk.view.language == "en"


def test_intents_after_sign_out_do_nothing(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    kiosk.sign_out()
    before = kiosk.view
    assert kiosk.session_intent("new_message") is None
    assert kiosk.session_intent("send") is None
    assert kiosk.view == before
    kiosk.sign_out()  # twice: one logout event
    assert len(kiosk.outbox.of("logout")) == 1
