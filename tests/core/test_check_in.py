"""Checking in at a lobby station, as a visitor and the lobby officer see it: the confirmation
code, the last name, then the visit; a wrong code, a pause, and the visits that cannot start here.

The code is checked against the schedule's scrypt verifiers in a worker thread: the flows run
inside ``asyncio.run`` and wait (real time, bounded) until the check is over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import pytest

from kiosk.core.check_in import last_name_matches
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import make_verifier
from kiosk.core.kiosk import Kiosk
from kiosk.sync.inbound import inbound_event
from tests.conftest import make_config
from tests.core.residents import NBSP, START, open_kiosk
from tests.visits import visit_row
from tests.waiting import until

# The clock fixture's time is 1:00 PM in Chicago; this visit's window opened at 12:55 PM.
VISIT_START = START + timedelta(minutes=5)
CODE = "K7Q2"
WRONG = (
    "The code or the last name does not match a visit at this station. Check both and try again."
)
LAST_TRY = "This is the last try before a pause."  # not "1 tries left"
PAUSED = "Check-in is paused for 60 seconds. Please ask the lobby officer."
LOCKDOWN = {"notice_id": "n-1", "text": "Lockdown", "severity": "lockdown"}


@cache
def verifier(code: str) -> str:
    """One scrypt verifier per code for the whole run (about 50 ms each)."""
    return make_verifier(code)


@pytest.fixture
def lobby(tmp_path: Path, clock: FakeClock) -> Iterator[Kiosk]:
    kiosk = open_kiosk(make_config(tmp_path, role="lobby", kiosk_id="lobby-01"), clock)
    schedule(
        kiosk,
        visit_row(
            VISIT_START,
            visit_id="v1",
            kind="onsite",
            visitor_name="Ana de la Cruz",
            code_verifier=verifier(CODE),
        ),
    )
    yield kiosk
    kiosk.close()


def schedule(kiosk: Kiosk, *rows: dict[str, object], version: int = 1) -> None:
    assert kiosk.apply_schedule(version, list(rows))
    kiosk.tick()


def type_keys(kiosk: Kiosk, text: str) -> None:
    for ch in text:
        kiosk.lobby_intent("key", ch)


def clear(kiosk: Kiosk, field: str) -> None:
    while getattr(kiosk.view.lobby.check_in, field):
        kiosk.lobby_intent("backspace")


async def checked(kiosk: Kiosk, timeout: float = 5.0) -> None:
    """Wait (real time) until the code check is over."""
    await until(
        lambda: kiosk.view.lobby.check_in is None or kiosk.view.lobby.check_in.step != "checking",
        timeout,
        "the code check to finish",
    )


async def attempt(kiosk: Kiosk, code: str, name: str) -> None:
    """Touch Check in (unless the keypad shows), the code, Next, the last name, Check in; wait."""
    if kiosk.view.lobby.check_in is None:
        assert kiosk.begin_check_in()
    assert kiosk.view.lobby.check_in.step == "code"
    clear(kiosk, "code")
    type_keys(kiosk, code)
    kiosk.lobby_intent("enter")
    if kiosk.view.lobby.check_in.step != "name":
        return  # refused at the code (a pause)
    clear(kiosk, "name")
    type_keys(kiosk, name)
    kiosk.lobby_intent("enter")
    await checked(kiosk)


def message(kiosk: Kiosk) -> str:
    return kiosk.view.lobby.check_in.message


# --- the right code and name -----------------------------------------------------------------


def test_the_right_code_and_last_name_join_the_visit(lobby: Kiosk) -> None:
    assert lobby.view.screen == "idle"
    assert lobby.view.prompt == "Check in for your visit"
    assert lobby.begin_check_in()
    view = lobby.view
    assert view.screen == "check_in"
    assert (view.lobby.check_in.title, view.lobby.check_in.instruction) == (
        "Check in for your visit",
        "Type your confirmation code",
    )
    assert view.lobby.check_in.enter_label == "Next"
    type_keys(lobby, CODE.lower())  # the keyboard's case does not matter
    assert lobby.view.lobby.check_in.code == CODE
    lobby.lobby_intent("enter")
    view = lobby.view.lobby.check_in
    assert (view.step, view.instruction, view.enter_label) == (
        "name",
        "Type your last name",
        "Check in",
    )

    async def scenario() -> None:
        type_keys(lobby, "de la Cruz")
        lobby.lobby_intent("enter")
        assert lobby.view.lobby.check_in.instruction == "Checking…"  # at once, off the UI's way
        await checked(lobby)

    asyncio.run(scenario())

    assert lobby.view.screen == "visit"
    assert lobby.visit is not None and lobby.visit.visit.visit_id == "v1"
    assert lobby.visit.joined_at is not None
    assert lobby.view.lobby.check_in is None  # nothing typed stays behind
    assert lobby.outbox.of("visitor_checked_in") == [{"visit_id": "v1"}]
    assert lobby.outbox.of("check_in_failed") == []
    assert lobby.begin_check_in() is False  # the station is taken by the visit


@pytest.mark.parametrize(
    ("display_name", "typed", "matches"),
    [
        ("Ana de la Cruz", "de la Cruz", True),
        ("Ana de la Cruz", "Cruz", True),
        ("Ana de la Cruz", "DELACRUZ", True),
        ("Ana de la Cruz", "dela cruz", True),
        ("Ana de la Cruz", "Ana", False),  # a first name is not a last name
        ("Ana de la Cruz", "Ana de la Cruz", False),
        ("Ana de la Cruz", "Cruz Ana", False),
        ("José Núñez", "nunez", True),
        ("José Núñez", "NÚÑEZ", True),
        ("Jose Nunez", "Núñez", True),
        ("José Núñez", "Nunes", False),
        ("M. García-López", "Garcia-Lopez", True),
        ("M. García-López", "garcia lopez", True),
        ("M. García-López", "López", True),
        ("M. García-López", "Garcia", False),
        ("Sean O'Brien", "O'Brien", True),
        ("Sean O'Brien", "obrien", True),
        ("Sean O'Brien", "O’Brien", True),  # a phone's curly apostrophe
        ("Sean O'Brien", "Brien", False),
        ("K. Strauß", "STRAUSS", True),
        ("Cher", "cher", True),  # a single name is the last name
        ("B. Visitor", "", False),
        ("B. Visitor", " -. ", False),
        ("B. Visitor", "Visitors", False),
        ("", "Visitor", False),
    ],
)
def test_last_name_matching(display_name: str, typed: str, matches: bool) -> None:
    assert last_name_matches(display_name, typed) is matches


def test_the_keypad_takes_code_characters_only_and_back_steps(lobby: Kiosk) -> None:
    assert lobby.begin_check_in()
    lobby.lobby_intent("enter")
    assert message(lobby) == "Type the confirmation code from your visit letter or text message."
    assert lobby.view.lobby.check_in.step == "code"
    type_keys(lobby, "k7 q2!")
    assert lobby.view.lobby.check_in.code == CODE
    lobby.lobby_intent("enter")
    lobby.lobby_intent("enter")  # no name yet
    assert message(lobby) == "Type your last name, as you gave it when you booked the visit."
    type_keys(lobby, "Cruz")
    lobby.lobby_intent("back")  # to the code, still typed
    view = lobby.view.lobby.check_in
    assert (view.step, view.code, view.message) == ("code", CODE, "")
    lobby.lobby_intent("back")  # from the code: the idle screen, with nothing kept
    assert lobby.view.screen == "idle"
    assert lobby.begin_check_in()
    view = lobby.view.lobby.check_in
    assert (view.step, view.code, view.name) == ("code", "", "")


# --- wrong codes and the pause ---------------------------------------------------------------


def test_a_wrong_code_says_how_many_tries_are_left_and_keeps_both_fields(lobby: Kiosk) -> None:
    asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))
    view = lobby.view.lobby.check_in
    assert view.message == f"{WRONG} 4 tries left."
    assert (view.step, view.code, view.name) == ("code", "ZZZZ", "Cruz")  # a slip can be seen
    assert lobby.view.screen == "check_in"
    assert lobby.visit.joined_at is None
    assert lobby.outbox.of("check_in_failed") == [{"paused": False}]
    assert lobby.outbox.of("visitor_checked_in") == []

    # The right code with the wrong name is told the same words: neither is given away.
    asyncio.run(attempt(lobby, CODE, "Smith"))
    assert message(lobby) == f"{WRONG} 3 tries left."
    assert lobby.visit.joined_at is None

    # Fixing the slip is enough, and a right code starts the count again.
    asyncio.run(attempt(lobby, CODE, "Cruz"))
    assert lobby.view.screen == "visit"


def test_a_right_code_starts_the_count_of_wrong_ones_again(lobby: Kiosk) -> None:
    schedule(
        lobby,
        visit_row(
            VISIT_START,
            visit_id="v-cxl",
            kind="onsite",
            status="cancelled",
            visitor_name="C. Cancel",
            code_verifier=verifier("C4NC"),
        ),
        version=2,
    )
    for _ in range(4):
        asyncio.run(attempt(lobby, "ZZZZ", "Cancel"))
    assert message(lobby) == f"{WRONG} {LAST_TRY}"
    asyncio.run(attempt(lobby, "C4NC", "Cancel"))  # the right code, for a cancelled visit
    asyncio.run(attempt(lobby, "ZZZZ", "Cancel"))
    assert message(lobby) == f"{WRONG} 4 tries left."


def test_five_wrong_codes_pause_check_in_for_a_minute(lobby: Kiosk, clock: FakeClock) -> None:
    for tries_left in (4, 3, 2):
        asyncio.run(attempt(lobby, f"BAD{tries_left}", "Cruz"))
        assert message(lobby) == f"{WRONG} {tries_left} tries left."
        assert lobby.view.lobby.check_in.paused == ""
    asyncio.run(attempt(lobby, "BAD1", "Cruz"))
    assert message(lobby) == f"{WRONG} {LAST_TRY}"
    assert lobby.view.lobby.check_in.paused == ""
    asyncio.run(attempt(lobby, "BAD0", "Cruz"))

    view = lobby.view.lobby.check_in
    assert view.paused == PAUSED
    assert view.message == "Too many wrong codes."
    assert (view.code, view.name) == ("", "")  # the guesses are not left for the next one
    assert lobby.outbox.of("check_in_failed") == [{"paused": False}] * 4 + [{"paused": True}]

    # While paused, even the right code goes nowhere, for whoever stands there.
    type_keys(lobby, CODE)
    lobby.lobby_intent("enter")
    assert lobby.view.lobby.check_in.step == "code"
    lobby.lobby_intent("leave")
    assert lobby.view.screen == "idle"
    assert lobby.begin_check_in()
    assert lobby.view.lobby.check_in.paused == PAUSED
    type_keys(lobby, CODE)
    lobby.lobby_intent("enter")
    assert lobby.view.lobby.check_in.step == "code"

    clock.advance(59)
    lobby.tick()
    assert lobby.view.lobby.check_in.paused == (
        "Check-in is paused for 1 second. Please ask the lobby officer."
    )
    lobby.lobby_intent("enter")
    assert lobby.view.lobby.check_in.step == "code"

    clock.advance(1)
    lobby.tick()
    assert lobby.view.lobby.check_in.paused == ""
    asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))  # a fresh count after the pause
    assert message(lobby) == f"{WRONG} 4 tries left."
    asyncio.run(attempt(lobby, CODE, "Cruz"))
    assert lobby.view.screen == "visit"
    assert lobby.visit.joined_at is not None


PAUSE_WORDS = {
    "en": ("Too many wrong codes.", PAUSED),
    "es": (
        "Demasiados códigos incorrectos.",
        "El registro está en pausa durante 60 segundos. Pida ayuda al oficial del vestíbulo.",
    ),
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_when_the_pause_is_over_the_screen_no_longer_says_it_is_paused(
    lobby: Kiosk, clock: FakeClock, language: str
) -> None:
    lobby.set_language(language)
    for _ in range(5):
        asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))
    view = lobby.view.lobby.check_in
    assert (view.message, view.paused) == PAUSE_WORDS[language]

    clock.advance(60)  # the visitor waits it out at the keypad
    lobby.tick()
    view = lobby.view.lobby.check_in
    assert lobby.view.screen == "check_in"
    assert (view.step, view.code, view.name) == ("code", "", "")
    assert view.paused == ""
    assert view.message == ""  # "Too many wrong codes." belonged to the pause, which is over
    type_keys(lobby, CODE)
    lobby.lobby_intent("enter")
    assert lobby.view.lobby.check_in.step == "name"  # and the keypad takes a code again


def test_a_wrong_code_after_the_pause_is_told_as_usual(lobby: Kiosk, clock: FakeClock) -> None:
    for _ in range(5):
        asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))
    clock.advance(60)
    lobby.tick()
    asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))
    assert message(lobby) == f"{WRONG} 4 tries left."
    assert lobby.view.lobby.check_in.paused == ""


# --- right codes for visits that cannot start here now ---------------------------------------


def _refusal_schedule(kiosk: Kiosk) -> None:
    schedule(
        kiosk,
        visit_row(
            START + timedelta(hours=1),  # 2:00 PM
            visit_id="v-early",
            kind="onsite",
            visitor_name="E. Early",
            code_verifier=verifier("E4RL"),
        ),
        visit_row(
            START - timedelta(minutes=29),  # 12:31 PM to 1:01 PM: a minute left
            visit_id="v-late",
            kind="onsite",
            visitor_name="L. Late",
            code_verifier=verifier("L4TE"),
        ),
        visit_row(
            VISIT_START,
            visit_id="v-cancelled",
            kind="onsite",
            status="cancelled",
            visitor_name="C. Cancel",
            code_verifier=verifier("C4NC"),
        ),
        visit_row(
            VISIT_START,
            visit_id="v-elsewhere",
            kind="privileged",
            visitor_name="S. Elsewhere",
            code_verifier=verifier("S7AT"),
            station=("lobby-02", "Station 2"),
        ),
        version=2,
    )


REFUSALS = [
    pytest.param(
        "E4RL",
        "Early",
        "v-early",
        "early",
        f"Your visit begins at 2:00{NBSP}PM; check in from 1:50{NBSP}PM.",
        id="early",
    ),
    pytest.param(
        "L4TE",
        "Late",
        "v-late",
        "late",
        f"Your visit ends at 1:01{NBSP}PM: it is too late to check in. "
        "Please ask the lobby officer about a new time.",
        id="late",
    ),
    pytest.param(
        "C4NC",
        "Cancel",
        "v-cancelled",
        "cancelled",
        "This visit was cancelled. Please ask the lobby officer about a new time.",
        id="cancelled",
    ),
    pytest.param(
        "S7AT",
        "Elsewhere",
        "v-elsewhere",
        "elsewhere",
        "Your visit is at Station 2. Please check in there.",
        id="another_station",
    ),
]


@pytest.mark.parametrize(("code", "name", "visit_id", "reason", "words"), REFUSALS)
def test_a_visit_that_cannot_start_here_now_says_what_to_do_instead(
    lobby: Kiosk, code: str, name: str, visit_id: str, reason: str, words: str
) -> None:
    _refusal_schedule(lobby)
    asyncio.run(attempt(lobby, code, name))
    view = lobby.view.lobby.check_in
    assert view.message == words
    assert (view.step, view.code, view.name) == ("code", "", "")
    assert view.paused == ""
    assert lobby.view.screen == "check_in"
    assert lobby.visit is None or lobby.visit.joined_at is None
    assert lobby.outbox.of("check_in_refused") == [{"visit_id": visit_id, "reason": reason}]
    assert lobby.outbox.of("check_in_failed") == []
    assert lobby.outbox.of("visitor_checked_in") == []


def test_refused_visits_do_not_count_toward_the_pause(lobby: Kiosk) -> None:
    _refusal_schedule(lobby)
    for code, name, *_rest in [param.values for param in REFUSALS] * 2:
        asyncio.run(attempt(lobby, code, name))
        assert lobby.view.lobby.check_in.paused == ""
    assert len(lobby.outbox.of("check_in_refused")) == 8
    asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))
    assert message(lobby) == f"{WRONG} 4 tries left."


def test_a_visit_on_another_day_names_its_day(lobby: Kiosk) -> None:
    schedule(
        lobby,
        visit_row(
            START + timedelta(days=1),
            visit_id="v-tomorrow",
            kind="onsite",
            visitor_name="T. Morrow",
            code_verifier=verifier("T0MR"),
        ),
        version=2,
    )
    asyncio.run(attempt(lobby, "T0MR", "Morrow"))
    assert message(lobby) == (
        f"Your visit is on Tuesday, November 24 at 1:00{NBSP}PM. "
        f"Please check in from 12:50{NBSP}PM that day."
    )


@pytest.mark.parametrize(
    ("seconds_from_start", "joined"),
    [
        (-10 * 60 - 1, False),  # a second before the window opens
        (-10 * 60, True),  # the window opens
        (30 * 60 - 2 * 60 - 1, True),  # the last second worth the walk
        (30 * 60 - 2 * 60, False),  # two minutes before the end: too late
    ],
    ids=["before_window", "window_opens", "last_chance", "two_minutes_left"],
)
def test_check_in_is_open_from_the_join_window_until_two_minutes_before_the_end(
    lobby: Kiosk, clock: FakeClock, seconds_from_start: int, joined: bool
) -> None:
    clock.set(VISIT_START + timedelta(seconds=seconds_from_start))
    lobby.tick()
    asyncio.run(attempt(lobby, CODE, "Cruz"))
    assert (lobby.view.screen == "visit") is joined
    assert (lobby.outbox.of("visitor_checked_in") == [{"visit_id": "v1"}]) is joined


def test_a_remote_visits_code_never_matches(lobby: Kiosk) -> None:
    # Remote visits have no confirmation code verifier: they never come to the lobby.
    schedule(
        lobby,
        visit_row(VISIT_START, visit_id="v-remote", kind="remote", visitor_name="R. Remote"),
        version=2,
    )
    asyncio.run(attempt(lobby, "R3M0", "Remote"))
    assert message(lobby) == f"{WRONG} 4 tries left."
    assert lobby.outbox.of("check_in_failed") == [{"paused": False}]
    assert lobby.outbox.of("check_in_refused") == []
    assert lobby.visit is None or lobby.visit.joined_at is None


# --- one minute for one time, on every screen ------------------------------------------------

# 1:41:40 PM in Chicago: the seconds a schedule may carry must not move the minute shown.
WITH_SECONDS = START + timedelta(minutes=41, seconds=40)
TIMES_WITH_SECONDS = {
    "en": {
        "start": f"1:41{NBSP}PM",
        "early": f"Your visit begins at 1:41{NBSP}PM; check in from 1:31{NBSP}PM.",
        "starts": f"Your visit begins at 1:41{NBSP}PM, in 9:59.",
        "ends": f"Ends at 2:11{NBSP}PM",
    },
    "es": {
        "start": "13:41",
        "early": "Su visita empieza a las 13:41; puede registrarse desde las 13:31.",
        "starts": "Su visita empieza a las 13:41, en 9:59.",
        "ends": "Termina a las 14:11",
    },
}


def _visit_with_seconds(kiosk: Kiosk, version: int = 2, at: datetime = WITH_SECONDS) -> None:
    schedule(
        kiosk,
        visit_row(
            at, visit_id="v-sec", kind="onsite", visitor_name="Ana de la Cruz",
            code_verifier=verifier(CODE),
        ),
        version=version,
    )  # fmt: skip


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_visit_at_a_time_with_seconds_shows_one_minute_on_every_screen(
    lobby: Kiosk, clock: FakeClock, language: str
) -> None:
    words = TIMES_WITH_SECONDS[language]
    _visit_with_seconds(lobby)
    lobby.set_language(language)
    assert lobby.view.notice.time == words["start"]  # the idle screen
    asyncio.run(attempt(lobby, CODE, "Cruz"))  # too early: check-in opens at 1:31:40
    assert message(lobby) == words["early"]
    lobby.lobby_intent("leave")

    clock.set(WITH_SECONDS - timedelta(minutes=9, seconds=59))  # 1:31:41 PM: the window is open
    lobby.tick()
    lobby.set_language(language)
    assert lobby.view.notice.time == words["start"]
    asyncio.run(attempt(lobby, CODE, "Cruz"))
    assert lobby.view.screen == "visit"
    visit = lobby.view.visit
    assert (visit.starts, visit.ends_at) == (words["starts"], words["ends"])


def test_a_visit_moved_by_seconds_shows_its_new_minute_on_the_visit_screen(
    lobby: Kiosk, clock: FakeClock
) -> None:
    """The demo's lobby: the kiosk seeds a visit at now + 5 min, then the cloud sends the
    same visit at its own now + 5 min, a few seconds later and across a minute."""
    _visit_with_seconds(lobby, version=2, at=START + timedelta(minutes=5, seconds=50))
    lobby.tick()  # its join window is open: the station holds it, waiting for its visitor
    assert lobby.view.notice.time == f"1:05{NBSP}PM"
    _visit_with_seconds(lobby, version=3, at=START + timedelta(minutes=6, seconds=5))
    assert lobby.view.notice.time == f"1:06{NBSP}PM"
    asyncio.run(attempt(lobby, CODE, "Cruz"))
    assert lobby.view.screen == "visit"
    assert lobby.view.visit.starts == f"Your visit begins at 1:06{NBSP}PM, in 6:05."


# --- lockdown --------------------------------------------------------------------------------


def test_a_lockdown_pauses_check_in_and_wipes_what_was_typed(lobby: Kiosk) -> None:
    assert lobby.begin_check_in()
    type_keys(lobby, CODE)
    lobby.lobby_intent("enter")
    type_keys(lobby, "Cruz")
    lobby.receive(inbound_event("notice", LOCKDOWN))
    lobby.tick()
    assert lobby.view.screen == "idle"
    assert lobby.view.prompt == "Check-in is paused"
    assert lobby.view.lobby.check_in is None
    assert lobby.begin_check_in() is False
    assert lobby.view.screen == "idle"

    lobby.receive(inbound_event("notice", {"notice_id": "n-1", "text": ""}))
    assert lobby.view.prompt == "Check in for your visit"
    assert lobby.begin_check_in()
    view = lobby.view.lobby.check_in
    assert (view.step, view.code, view.name) == ("code", "", "")


def test_a_lockdown_during_the_check_joins_no_visit(lobby: Kiosk) -> None:
    async def scenario() -> None:
        assert lobby.begin_check_in()
        type_keys(lobby, CODE)
        lobby.lobby_intent("enter")
        type_keys(lobby, "Cruz")
        lobby.lobby_intent("enter")
        lobby.receive(inbound_event("notice", LOCKDOWN))
        await checked(lobby)

    asyncio.run(scenario())
    assert lobby.visit is None or lobby.visit.joined_at is None
    assert lobby.view.screen != "visit"


# --- Spanish ---------------------------------------------------------------------------------


def test_a_spanish_reader_gets_spanish_words_and_24_hour_times(lobby: Kiosk) -> None:
    _refusal_schedule(lobby)
    lobby.set_language("es")
    assert lobby.view.prompt == "Regístrese para su visita"
    assert lobby.begin_check_in()
    view = lobby.view.lobby.check_in
    assert (view.title, view.instruction, view.enter_label) == (
        "Regístrese para su visita",
        "Escriba su código de confirmación",
        "Siguiente",
    )

    asyncio.run(attempt(lobby, "E4RL", "Early"))
    assert message(lobby) == "Su visita empieza a las 14:00; puede registrarse desde las 13:50."
    asyncio.run(attempt(lobby, "S7AT", "Elsewhere"))
    assert message(lobby) == "Su visita es en Station 2. Regístrese allí, por favor."
    asyncio.run(attempt(lobby, "C4NC", "Cancel"))
    assert message(lobby) == (
        "Esta visita fue cancelada. Pregunte al oficial del vestíbulo por una nueva hora."
    )
    asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))
    assert message(lobby) == (
        "El código o el apellido no corresponden a una visita en esta estación. "
        "Revise ambos e inténtelo de nuevo. Le quedan 4 intentos."
    )
    for _ in range(4):
        asyncio.run(attempt(lobby, "ZZZZ", "Cruz"))
    view = lobby.view.lobby.check_in
    assert view.message == "Demasiados códigos incorrectos."
    assert view.paused == (
        "El registro está en pausa durante 60 segundos. Pida ayuda al oficial del vestíbulo."
    )
