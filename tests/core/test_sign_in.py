"""Signing in at a housing kiosk, as a resident sees it: badge or typed ID, then the PIN."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest

from hardware.interfaces import BadgeEvent
from kiosk.core.clock import FakeClock
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import StaffCommand
from kiosk.sync.inbound import inbound_event
from tests.conftest import make_config
from tests.core.residents import (
    ALVAREZ,
    JOHNSON,
    NBSP,
    NOBODY_ID,
    START,
    badge_attempt,
    checked,
    open_kiosk,
    seed_residents,
    type_keys,
    typed_attempt,
)
from tests.visits import visit_row
from tests.waiting import until

SIGNED_IN_AT = "2026-11-23T19:00:00.000Z"  # the clock fixture's time


async def enter_and_check(kiosk: Kiosk) -> None:
    """Touch Sign in (the check runs on the event loop) and wait for the answer."""
    kiosk.sign_in_intent("enter")
    await checked(kiosk)


TYPED_WRONG = "The ID or the PIN is not right. {tries} tries left before a 5-minute pause."
TYPED_LAST = "The ID or the PIN is not right. 1 try left before a 5-minute pause."


def test_sign_in_by_badge_greets_the_resident_and_opens_their_session(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    kiosk.on_badge(BadgeEvent(JOHNSON[5], clock.monotonic()))
    view = kiosk.view
    assert view.screen == "sign_in"
    assert view.sign_in.step == "pin"
    assert view.sign_in.greeting == "Hello, D. Johnson"
    assert view.sign_in.instruction == "Type your PIN"
    assert view.sign_in.entered_id == ""  # a badge shows nothing of itself

    asyncio.run(badge_attempt(kiosk, clock, JOHNSON[5], JOHNSON[4]))

    assert kiosk.view.screen == "session"
    assert kiosk.view.session.resident_name == "D. Johnson"
    assert kiosk.outbox.of("login") == [
        {"method": "badge", "inmate_id": "A2048", "signed_in_at": SIGNED_IN_AT}
    ]


@pytest.mark.parametrize("typed", [JOHNSON[0], JOHNSON[1]], ids=["inmate_id", "booking_number"])
def test_sign_in_by_typed_inmate_id_or_booking_number(
    kiosk: Kiosk, clock: FakeClock, typed: str
) -> None:
    assert kiosk.begin_sign_in()
    view = kiosk.view.sign_in
    assert (view.step, view.enter_label, view.greeting) == ("identify", "Next", "")
    type_keys(kiosk, typed.lower())  # the keyboard's case does not matter
    assert kiosk.view.sign_in.entered_id == typed
    kiosk.sign_in_intent("enter")
    view = kiosk.view.sign_in
    assert (view.step, view.enter_label, view.greeting) == ("pin", "Sign in", "")

    asyncio.run(typed_attempt(kiosk, clock, typed, JOHNSON[4]))

    assert kiosk.view.screen == "session"
    assert kiosk.outbox.of("login") == [
        {"method": "keypad", "inmate_id": "A2048", "signed_in_at": SIGNED_IN_AT}
    ]


def test_a_wrong_pin_after_a_badge_says_how_many_tries_are_left(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    asyncio.run(badge_attempt(kiosk, clock, JOHNSON[5], "0000"))
    view = kiosk.view.sign_in
    assert view.message == "Wrong PIN. 4 tries left before a 5-minute pause."
    assert view.step == "pin"  # the badge still names them: only the PIN again
    assert view.pin_mask == ""
    assert kiosk.session is None
    assert kiosk.outbox.of("login_failed") == [
        {"method": "badge", "inmate_id": "A2048", "known_id": True}
    ]

    asyncio.run(badge_attempt(kiosk, clock, JOHNSON[5], "1111"))
    assert kiosk.view.sign_in.message == "Wrong PIN. 3 tries left before a 5-minute pause."


@pytest.mark.parametrize(
    ("resident", "words"),
    [
        (
            JOHNSON,
            [
                "Wrong PIN. 4 tries left before a 5-minute pause.",
                "Wrong PIN. 3 tries left before a 5-minute pause.",
                "Wrong PIN. 2 tries left before a 5-minute pause.",
                "Wrong PIN. 1 try left before a 5-minute pause.",
                "Too many wrong tries. Sign-in for this ID is paused for 5 minutes, "
                f"until 1:05{NBSP}PM.",
            ],
        ),
        (
            ALVAREZ,  # her badge names her: her language
            [
                "PIN incorrecto. Le quedan 4 intentos antes de una pausa de 5 minutos.",
                "PIN incorrecto. Le quedan 3 intentos antes de una pausa de 5 minutos.",
                "PIN incorrecto. Le quedan 2 intentos antes de una pausa de 5 minutos.",
                "PIN incorrecto. Le queda 1 intento antes de una pausa de 5 minutos.",
                "Demasiados intentos incorrectos. El inicio de sesión para este número "
                "está en pausa 5 minutos, hasta las 13:05.",
            ],
        ),
    ],
    ids=["en", "es"],
)
def test_the_tries_left_are_counted_in_the_readers_language(
    kiosk: Kiosk, clock: FakeClock, resident: tuple, words: list[str]
) -> None:
    said = []
    for _ in range(5):
        asyncio.run(badge_attempt(kiosk, clock, resident[5], "0000"))
        said.append(kiosk.view.sign_in.message)
    assert said == words


def test_typed_ids_get_one_answer_whether_the_id_exists_or_not(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], "0000"))
    known = kiosk.view.sign_in
    kiosk.leave_sign_in()
    asyncio.run(typed_attempt(kiosk, clock, NOBODY_ID, "0000"))
    unknown = kiosk.view.sign_in

    assert known.message == unknown.message == TYPED_WRONG.format(tries=4)
    for view, typed in ((known, JOHNSON[0]), (unknown, NOBODY_ID)):
        # Back to the ID, kept, so a typo there can be seen and fixed.
        assert (view.step, view.entered_id, view.pin_mask) == ("identify", typed, "")
        assert (view.title, view.instruction, view.greeting) == (
            "Sign in",
            "Tap your badge, or type your ID or booking number",
            "",
        )
    assert [d["known_id"] for d in kiosk.outbox.of("login_failed")] == [True, False]


def test_an_unknown_id_is_counted_and_paused_like_a_real_one(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    messages = []
    for _ in range(5):
        asyncio.run(typed_attempt(kiosk, clock, NOBODY_ID, "0000"))
        messages.append(kiosk.view.sign_in.message)
    assert messages[:4] == [TYPED_WRONG.format(tries=n) for n in (4, 3, 2)] + [TYPED_LAST]
    assert messages[4].startswith(
        "Too many wrong tries. Sign-in for this ID is paused for 5 minutes, until "
    )
    assert kiosk.outbox.of("lockout") == [{"inmate_id": None, "minutes": 5}]


def test_five_wrong_pins_pause_the_id_until_a_time_the_screen_gives(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    for _ in range(5):
        asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], "0000"))
    # The kiosk-wide pace made them wait 2 and 4 s before the 4th and 5th PIN: 1:00:06 PM.
    view = kiosk.view.sign_in
    assert view.message == (
        f"Too many wrong tries. Sign-in for this ID is paused for 5 minutes, until 1:05{NBSP}PM."
    )
    assert kiosk.outbox.of("lockout") == [{"inmate_id": "A2048", "minutes": 5}]
    assert kiosk.outbox.kinds().count("login_failed") == 5

    # The right PIN is refused at the ID already, with the time the pause ends.
    asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], JOHNSON[4]))
    assert kiosk.session is None
    assert kiosk.view.sign_in.message == (
        f"Sign-in for this ID is paused until 1:05{NBSP}PM. Please try again then."
    )
    assert kiosk.view.sign_in.step == "identify"
    # The booking number names the same resident: paused as well.
    asyncio.run(typed_attempt(kiosk, clock, JOHNSON[1], JOHNSON[4]))
    assert kiosk.session is None
    # So does the badge, even with the right PIN.
    kiosk.leave_sign_in()
    asyncio.run(badge_attempt(kiosk, clock, JOHNSON[5], JOHNSON[4]))
    assert kiosk.session is None
    assert "paused until" in kiosk.view.sign_in.message
    assert kiosk.outbox.kinds().count("login_failed") == 5  # refusals are not tries

    clock.advance(5 * 60)
    kiosk.leave_sign_in()
    asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], JOHNSON[4]))
    assert kiosk.session is not None


def lock_out(kiosk: Kiosk, clock: FakeClock, row: tuple = JOHNSON) -> str:
    """Five wrong PINs; returns the screen's message."""
    for _ in range(5):
        asyncio.run(typed_attempt(kiosk, clock, row[0], "0000"))
    message = kiosk.view.sign_in.message
    kiosk.leave_sign_in()
    return message


def test_each_lockout_lasts_longer_up_to_an_hour(kiosk: Kiosk, clock: FakeClock) -> None:
    minutes = []
    for _ in range(4):
        message = lock_out(kiosk, clock)
        minutes.append(int(message.split("paused for ")[1].split(" minutes")[0]))
        # Still paused a minute before the end; free at the end.
        clock.advance(minutes[-1] * 60 - 60)
        asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], "0000"))
        assert "paused until" in kiosk.view.sign_in.message
        kiosk.leave_sign_in()
        clock.advance(60)
    assert minutes == [5, 15, 60, 60]
    assert [d["minutes"] for d in kiosk.outbox.of("lockout")] == [5, 15, 60, 60]


def test_a_success_clears_the_count_and_the_next_lockout_is_5_minutes_again(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    lock_out(kiosk, clock)
    clock.advance(5 * 60)
    for _ in range(3):
        asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], "0000"))
    asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], JOHNSON[4]))
    assert kiosk.session is not None
    kiosk.sign_out()

    asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], "0000"))
    assert kiosk.view.sign_in.message == TYPED_WRONG.format(tries=4)
    for _ in range(4):
        asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], "0000"))
    assert "paused for 5 minutes" in kiosk.view.sign_in.message


def test_a_lockout_survives_a_restart(tmp_path: Path, clock: FakeClock) -> None:
    config = make_config(tmp_path)
    first = open_kiosk(config, clock)
    seed_residents(first)
    lock_out(first, clock)
    first.close()

    again = open_kiosk(config, clock)
    try:
        asyncio.run(typed_attempt(again, clock, JOHNSON[0], JOHNSON[4]))
        assert again.session is None
        assert again.view.sign_in.message == (
            f"Sign-in for this ID is paused until 1:05{NBSP}PM. Please try again then."
        )
        clock.advance(5 * 60)
        again.leave_sign_in()
        asyncio.run(typed_attempt(again, clock, JOHNSON[0], JOHNSON[4]))
        assert again.session is not None
    finally:
        again.close()


def test_one_residents_lockout_does_not_pause_another(kiosk: Kiosk, clock: FakeClock) -> None:
    lock_out(kiosk, clock)
    asyncio.run(typed_attempt(kiosk, clock, ALVAREZ[0], ALVAREZ[4]))
    assert kiosk.session is not None
    assert kiosk.session.inmate_id == "A1024"


def test_the_pace_slows_everyone_after_three_failures(kiosk: Kiosk, clock: FakeClock) -> None:
    # Many IDs, one PIN each: as slow as many PINs for one ID.
    for typed in ("A0001", "A0002", "A0003"):
        asyncio.run(typed_attempt(kiosk, clock, typed, "0000"))
        kiosk.leave_sign_in()
    asyncio.run(typed_attempt(kiosk, clock, "A0004", "0000"))
    kiosk.leave_sign_in()

    # A resident who comes next is asked to wait, and Sign in does nothing until then.
    assert kiosk.begin_sign_in()
    type_keys(kiosk, JOHNSON[0])
    kiosk.sign_in_intent("enter")
    type_keys(kiosk, JOHNSON[4])
    assert kiosk.view.sign_in.wait == "Please wait 2 seconds before the next try."
    kiosk.sign_in_intent("enter")
    assert kiosk.view.sign_in.step == "pin"  # not checked
    assert kiosk.view.sign_in.pin_mask == "●●●●"  # and the PIN stays typed
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view.sign_in.wait == "Please wait 1 second before the next try."
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view.sign_in.wait == ""
    asyncio.run(enter_and_check(kiosk))
    assert kiosk.session is not None


def test_the_pace_doubles_and_only_quiet_minutes_reset_it(kiosk: Kiosk, clock: FakeClock) -> None:
    waits = []
    for n in range(6):
        kiosk.leave_sign_in()
        assert kiosk.begin_sign_in()
        type_keys(kiosk, f"A000{n}")
        kiosk.sign_in_intent("enter")
        waits.append(kiosk.view.sign_in.wait)
        asyncio.run(typed_attempt(kiosk, clock, f"A000{n}", "0000"))
    assert waits == [
        "",
        "",
        "",
        "",
        "Please wait 2 seconds before the next try.",
        "Please wait 4 seconds before the next try.",
    ]
    kiosk.leave_sign_in()
    asyncio.run(typed_attempt(kiosk, clock, JOHNSON[0], JOHNSON[4]))
    assert kiosk.session is not None
    kiosk.sign_out()
    # A success of one's own does not reset the pace for the next guess at someone else's.
    asyncio.run(typed_attempt(kiosk, clock, "A0008", "0000"))
    kiosk.leave_sign_in()
    assert kiosk.begin_sign_in()
    type_keys(kiosk, "A0009")
    kiosk.sign_in_intent("enter")
    assert kiosk.view.sign_in.wait.startswith("Please wait")
    clock.advance(301)
    kiosk.tick()
    assert kiosk.view.sign_in is None or kiosk.view.sign_in.wait == ""


def test_the_check_does_not_block_the_event_loop(kiosk: Kiosk, clock: FakeClock) -> None:
    ticks = []

    async def scenario() -> None:
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.002)  # the loop's pulse, measured while scrypt runs

        task = asyncio.create_task(ticker())
        await until(lambda: ticks, 1.0, "the ticker's first tick")
        assert kiosk.begin_sign_in()
        type_keys(kiosk, JOHNSON[0])
        kiosk.sign_in_intent("enter")
        type_keys(kiosk, JOHNSON[4])
        started = time.monotonic()
        kiosk.sign_in_intent("enter")
        assert kiosk.view.sign_in.step == "checking"  # enter() returned before scrypt did
        assert kiosk.view.sign_in.instruction == "Checking…"
        await checked(kiosk)
        ended = time.monotonic()
        stop.set()
        await task
        during = [t for t in ticks if started <= t <= ended]
        # scrypt takes tens of ms; the loop kept turning meanwhile.
        assert len(during) >= 3, (ended - started, len(during))

    asyncio.run(scenario())
    assert kiosk.session is not None


def test_the_pin_shows_only_as_dots_and_is_forgotten(kiosk: Kiosk, clock: FakeClock) -> None:
    seen = []
    kiosk.subscribe(seen.append)
    assert kiosk.begin_sign_in()
    type_keys(kiosk, JOHNSON[0])
    kiosk.sign_in_intent("enter")
    type_keys(kiosk, "8642x½")  # letters and non-ASCII digits are not PIN digits
    assert kiosk.view.sign_in.pin_mask == "●●●●"
    kiosk.sign_in_intent("backspace")
    assert kiosk.view.sign_in.pin_mask == "●●●"
    kiosk.sign_in_intent("key", "2")
    asyncio.run(enter_and_check(kiosk))
    assert kiosk.session is not None
    assert seen and all("8642" not in repr(view) for view in seen)
    assert all(view.sign_in is None or set(view.sign_in.pin_mask) <= {"●"} for view in seen)


def test_a_short_pin_is_not_checked(kiosk: Kiosk, clock: FakeClock) -> None:
    assert kiosk.begin_sign_in()
    type_keys(kiosk, JOHNSON[0])
    kiosk.sign_in_intent("enter")
    type_keys(kiosk, "12")
    kiosk.sign_in_intent("enter")
    assert kiosk.view.sign_in.message == "Your PIN has at least 4 digits."
    assert kiosk.view.sign_in.step == "pin"
    assert kiosk.outbox.of("login_failed") == []


def test_cancel_goes_back_to_the_id_and_forgets_the_pin(kiosk: Kiosk, clock: FakeClock) -> None:
    assert kiosk.begin_sign_in()
    type_keys(kiosk, JOHNSON[0])
    kiosk.sign_in_intent("enter")
    type_keys(kiosk, "86")
    kiosk.sign_in_intent("cancel")
    view = kiosk.view.sign_in
    assert (view.step, view.pin_mask, view.entered_id) == ("identify", "", JOHNSON[0])


def test_next_without_an_id_asks_for_one(kiosk: Kiosk) -> None:
    assert kiosk.begin_sign_in()
    kiosk.sign_in_intent("enter")
    view = kiosk.view.sign_in
    assert view.step == "identify"
    assert view.message == "Type your ID or booking number, then touch Next."


def test_an_unknown_badge_asks_for_the_id(kiosk: Kiosk, clock: FakeClock) -> None:
    kiosk.on_badge(BadgeEvent("0499999999", clock.monotonic()))
    view = kiosk.view.sign_in
    assert view.step == "identify"
    assert view.message == "This badge is not known at this kiosk. Type your ID instead."


def test_an_abandoned_sign_in_returns_to_idle_after_45_seconds(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    assert kiosk.begin_sign_in()
    type_keys(kiosk, JOHNSON[0])
    kiosk.sign_in_intent("enter")
    type_keys(kiosk, "86")
    clock.advance(30)
    kiosk.tick()
    kiosk.sign_in_intent("key", "4")  # a key keeps it open
    clock.advance(44)
    kiosk.tick()
    assert kiosk.view.screen == "sign_in"
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view.screen == "idle"
    assert kiosk.view.sign_in is None
    assert kiosk.sign_in is None
    assert JOHNSON[0] not in repr(kiosk.view)
    # Back again: a clean keypad.
    assert kiosk.begin_sign_in()
    view = kiosk.view.sign_in
    assert (view.entered_id, view.pin_mask, view.message) == ("", "", "")


def test_a_lockdown_pauses_sign_in_and_closes_the_keypad(kiosk: Kiosk, clock: FakeClock) -> None:
    assert kiosk.begin_sign_in()
    type_keys(kiosk, JOHNSON[0])
    kiosk.receive(
        inbound_event("notice", {"notice_id": "n-1", "text": "Lockdown", "severity": "lockdown"})
    )
    kiosk.tick()
    assert kiosk.view.screen == "idle"
    assert kiosk.view.paused == "Sign-in is paused during the lockdown."
    assert kiosk.view.prompt == "Sign-in is paused"
    assert kiosk.begin_sign_in() is False
    kiosk.on_badge(BadgeEvent(JOHNSON[5], clock.monotonic()))
    assert kiosk.view.screen == "idle"

    kiosk.receive(inbound_event("notice", {"notice_id": "n-1", "text": ""}))
    assert kiosk.view.paused == ""
    assert kiosk.begin_sign_in() is True


def test_a_lockdown_during_the_check_opens_no_session(kiosk: Kiosk, clock: FakeClock) -> None:
    async def scenario() -> None:
        assert kiosk.begin_sign_in()
        type_keys(kiosk, JOHNSON[0])
        kiosk.sign_in_intent("enter")
        type_keys(kiosk, JOHNSON[4])
        kiosk.sign_in_intent("enter")
        kiosk.receive(
            inbound_event("notice", {"notice_id": "n", "text": "Lockdown", "severity": "lockdown"})
        )
        await checked(kiosk)

    asyncio.run(scenario())
    assert kiosk.session is None
    assert kiosk.view.screen == "idle"


def test_a_staff_lock_pauses_sign_in(kiosk: Kiosk) -> None:
    assert kiosk.begin_sign_in()
    assert kiosk.run_command(StaffCommand("lock", {"reason": "count time"})) == (True, None)
    assert kiosk.view.screen == "idle"
    assert kiosk.view.paused == "This kiosk is closed by staff."
    assert kiosk.begin_sign_in() is False
    assert kiosk.run_command(StaffCommand("unlock", {})) == (True, None)
    assert kiosk.view.paused == ""
    assert kiosk.begin_sign_in() is True


def test_a_visit_soon_pauses_sign_in_with_the_times(kiosk: Kiosk, clock: FakeClock) -> None:
    # The join window opens at 1:01 PM: less than 2 minutes of session would be left.
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=11), minutes=30)])
    assert kiosk.view.paused == (
        f"A visit at this kiosk begins at 1:11{NBSP}PM. Sign-in opens again at 1:41{NBSP}PM."
    )
    assert kiosk.begin_sign_in() is False
    assert kiosk.view.screen == "idle"
    # During the visit a touch confirms its resident instead; after it, sign-in opens again.
    clock.advance(20 * 60)
    kiosk.tick()
    assert kiosk.begin_sign_in() is True
    assert kiosk.view.sign_in.title == "Confirm it is you for your visit"
    kiosk.leave_sign_in()
    clock.advance(21 * 60)
    kiosk.tick()
    assert kiosk.view.paused == ""
    assert kiosk.begin_sign_in() is True


def test_a_visit_three_minutes_after_the_window_leaves_sign_in_open(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=13))])
    assert kiosk.view.paused == ""
    assert kiosk.begin_sign_in() is True
    clock.advance(61)  # the window is now 1:59 away
    kiosk.tick()
    assert kiosk.view.screen == "idle"
    assert kiosk.view.paused.startswith("A visit at this kiosk begins at 1:13")


def test_a_cancelled_visit_pauses_nothing(kiosk: Kiosk) -> None:
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=5), status="cancelled")])
    assert kiosk.view.paused == ""
    assert kiosk.begin_sign_in() is True


def test_a_lobby_kiosk_has_no_resident_sign_in(tmp_path: Path, clock: FakeClock) -> None:
    lobby = open_kiosk(make_config(tmp_path, role="lobby"), clock)
    try:
        assert lobby.begin_sign_in() is False
        assert lobby.view.screen == "idle"
    finally:
        lobby.close()


def test_a_badge_greets_its_resident_in_her_language_and_it_leaves_with_her(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    """Her badge names her: from the PIN step on the kiosk speaks Spanish, which she reads."""
    kiosk.on_badge(BadgeEvent(ALVAREZ[5], clock.monotonic()))
    view = kiosk.view
    assert view.language == "es"
    assert view.sign_in.greeting == "Hola, M. Alvarez"
    assert view.sign_in.instruction == "Escriba su PIN"
    kiosk.leave_sign_in()  # she walked away: the next person gets the kiosk's own language
    assert kiosk.view.language == "en"


def test_a_typed_id_never_switches_the_language(kiosk: Kiosk) -> None:
    """A typed ID is not shown to be known: the screen stays as it was, in every way."""
    assert kiosk.begin_sign_in()
    for key in ALVAREZ[0]:
        kiosk.sign_in_intent("key", key)
    kiosk.sign_in_intent("enter")
    view = kiosk.view
    assert view.sign_in.step == "pin"
    assert view.language == "en" and view.sign_in.greeting == ""
