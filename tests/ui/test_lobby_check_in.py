"""Checking in at a lobby station, as the visitor sees it: the confirmation code on the keypad,
the last name on the keyboard, the visit; wrong codes and the pause they bring; right codes
for visits that cannot start here now; Spanish; Back. Every step is a touch on the real
widgets of the running app."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ui.lobby import (
    begin_check_in,
    check_in,
    everything_held,
    lobby_kiosk,
    type_code,
    type_keys,
    type_name,
    verifier,
)
from tests.visits import visit_row

pytestmark = pytest.mark.ui

NBSP = "\u00a0"
RESIDENT = "M. Okafor"
CODE = "K7Q2"
NO_MATCH = (
    "The code or the last name does not match a visit at this station. "
    "Check both and try again. {tries} tries left."
)


@pytest.fixture
def open_lobby(tmp_path, clock):
    """``open_lobby(*rows)``: a lobby station with those visits; closed after the test."""
    opened = []

    def open_(*rows):
        kiosk = lobby_kiosk(tmp_path, clock, list(rows))
        opened.append(kiosk)
        return kiosk

    yield open_
    for kiosk in opened:
        kiosk.close()


def onsite_visit(clock, **fields):
    """An on-site visit here whose check-in is open (it begins in five minutes)."""
    row = {
        "visit_id": "v-onsite",
        "kind": "onsite",
        "inmate_name": RESIDENT,
        "visitor_name": "Ana de la Cruz",
        "code_verifier": verifier(CODE),
        **fields,
    }
    return visit_row(clock.now() + timedelta(minutes=5), 30, **row)


def field(screen, name):
    """What a field of the check-in screen shows as typed (the code or the last name)."""
    return screen.ids[name].value


def instruction(screen):
    return screen.ids.instruction.text


def holds(app, text):
    """Whether any widget of the app holds ``text`` (any case), shown or not."""
    wanted = text.casefold()
    return any(wanted in held.casefold() for held in everything_held(app))


def test_a_visitor_with_the_right_code_and_name_sees_their_visit(ui, open_lobby, clock):
    kiosk = open_lobby(onsite_visit(clock))

    async def scenario(person):
        app = person.app
        # Nobody at the lobby learns who a visit is with, before its visitor checks in.
        assert not any("Okafor" in text for text in person.texts())
        screen = await begin_check_in(person)
        assert screen.ids.title.text == "Check in for your visit"
        assert instruction(screen) == "Type your confirmation code"
        await type_code(person, screen, CODE)
        assert field(screen, "code_field") == CODE
        assert instruction(screen) == "Type your last name"
        assert screen.ids.keyboard.enter_text == "Check in"
        await type_keys(person, screen.ids.keyboard, "c", "r", "u", "z")
        assert field(screen, "name_field") == "cruz"
        assert not any("Okafor" in text for text in person.texts())

        await type_keys(person, screen.ids.keyboard, "Check in")
        await person.until(lambda: app.root.current == "visit", timeout=10)
        visit = person.screen("visit")
        await person.until(lambda: visit.ids.title.text != "")
        assert visit.ids.title.text == f"Your visit with {RESIDENT}"
        shown = person.texts()
        assert f"Your visit with {RESIDENT}" in shown
        # Checked in five minutes early: when it begins, and the time until then.
        assert f"Your visit begins at 1:05{NBSP}PM, in 5:00." in shown
        # A visit at the lobby is never sold: no price, no credits anywhere on the screen.
        for text in shown:
            words = text.casefold()
            assert "credit" not in words and "crédit" not in words, text
            assert "$" not in text and "price" not in words and "cost" not in words, text
        # What the visitor typed is gone from the screens once they are in their visit.
        assert not holds(app, CODE) and not holds(app, "cruz")

    ui(kiosk, scenario)


def test_wrong_codes_say_how_many_tries_are_left_then_pause_check_in(ui, open_lobby, clock):
    kiosk = open_lobby(onsite_visit(clock))

    async def scenario(person):
        app = person.app
        screen = await begin_check_in(person)
        await check_in(person, screen, "K7Q3", "c", "r", "u", "z")
        assert app.root.current == "check_in"
        assert instruction(screen) == NO_MATCH.format(tries=4)
        # Both answers stay typed, so a slip in either can be seen and fixed.
        assert field(screen, "code_field") == "K7Q3"
        assert field(screen, "name_field") == "cruz"
        assert {"K7Q3", "cruz"} <= set(person.texts())
        assert screen.ids.keypad.parent is not None  # back on the code, to correct it

        for tries in (3, 2, 1):
            await type_code(person, screen, "")  # Next: the code as it is
            await type_name(person, screen)  # Check in: the name as it is
            assert instruction(screen).startswith(NO_MATCH.split("{")[0])
            if tries > 1:
                assert instruction(screen) == NO_MATCH.format(tries=tries)
            else:
                assert instruction(screen).endswith("This is the last try before a pause.")
            assert field(screen, "code_field") == "K7Q3"

        # The fifth wrong code pauses check-in for everyone at this station.
        await type_code(person, screen, "")
        await type_name(person, screen)
        await person.until(lambda: "Please ask the lobby officer" in instruction(screen))
        assert instruction(screen) == (
            "Check-in is paused for 60 seconds. Please ask the lobby officer."
        )
        assert field(screen, "code_field") == "" and field(screen, "name_field") == ""
        keypad = screen.ids.keypad
        assert keypad.disabled
        await type_keys(person, keypad, "7", "K", keypad.enter_text)
        assert field(screen, "code_field") == ""
        assert screen.step == "code"

        clock.advance(30)
        kiosk.tick()
        await person.until(lambda: "paused for 30 seconds" in instruction(screen))

        clock.advance(31)
        kiosk.tick()
        await person.until(lambda: "paused" not in instruction(screen))
        assert not keypad.disabled
        # The pause is over, and so are its words: the keypad asks for a code again.
        assert instruction(screen) == "Type your confirmation code"
        assert "Too many wrong codes." not in person.texts()
        # Waiting out the pause is not walking away: nothing of the check-in is erased.
        assert app._still_there is None or not app._still_there.parent
        assert app.root.current == "check_in"

        # Check-in works again: the right code and name lead to the visit.
        await check_in(person, screen, CODE, "c", "r", "u", "z")
        await person.until(lambda: app.root.current == "visit", timeout=10)
        visit = person.screen("visit")
        await person.until(lambda: visit.ids.title.text == f"Your visit with {RESIDENT}")

    ui(kiosk, scenario)


def test_a_right_code_for_a_visit_that_cannot_start_here_now_says_why(ui, open_lobby, clock):
    now = clock.now()  # 1:00 PM at the facility (Chicago)
    early = now + timedelta(minutes=30)
    late = now - timedelta(minutes=29)  # a 30-minute visit: it ends in one minute
    rows = [
        visit_row(
            early,
            30,
            visit_id="v-early",
            kind="onsite",
            inmate_name="R. Early",
            visitor_name="Jo Lee",
            code_verifier=verifier("E3R1"),
        ),
        visit_row(
            late,
            30,
            visit_id="v-late",
            kind="onsite",
            inmate_name="R. Late",
            visitor_name="Max Diaz",
            code_verifier=verifier("L4T2"),
        ),
        visit_row(
            now + timedelta(minutes=5),
            30,
            visit_id="v-cancelled",
            kind="onsite",
            status="cancelled",
            inmate_name="R. Cancelled",
            visitor_name="Pat Khan",
            code_verifier=verifier("C5N3"),
        ),
        visit_row(
            now + timedelta(minutes=5),
            30,
            visit_id="v-elsewhere",
            kind="onsite",
            inmate_name="R. Elsewhere",
            visitor_name="Tia Ray",
            code_verifier=verifier("S6T4"),
            station=("lobby-02", "Station 2"),
        ),
    ]
    kiosk = open_lobby(*rows)
    expected = [
        (
            "E3R1",
            "lee",
            "Your visit begins at 1:30\u00a0PM; check in from 1:20\u00a0PM.",
        ),
        (
            "L4T2",
            "diaz",
            "Your visit ends at 1:01\u00a0PM: it is too late to check in. "
            "Please ask the lobby officer about a new time.",
        ),
        (
            "C5N3",
            "khan",
            "This visit was cancelled. Please ask the lobby officer about a new time.",
        ),
        ("S6T4", "ray", "Your visit is at Station 2. Please check in there."),
    ]

    async def scenario(person):
        app = person.app
        screen = await begin_check_in(person)
        for code, name, message in expected:
            await check_in(person, screen, code, *name)
            await person.until(lambda: instruction(screen) != "Checking…")
            assert app.root.current == "check_in", message
            assert instruction(screen) == message
            assert message in person.texts()
            # Told what to do instead, on the code again, with nothing of theirs left typed.
            assert screen.step == "code" and screen.ids.keypad.parent is not None
            assert field(screen, "code_field") == "" and field(screen, "name_field") == ""
            assert code not in person.texts()
        # A right code is no guess: none of the four counted towards the pause.
        await check_in(person, screen, "K0K0", "r", "a", "y")
        assert instruction(screen) == NO_MATCH.format(tries=4)

    ui(kiosk, scenario)


def test_a_visitor_checks_in_in_spanish(ui, open_lobby, clock):
    kiosk = open_lobby(
        onsite_visit(clock, visitor_name="Luis Muñoz", code_verifier=verifier("N9M5"))
    )

    async def scenario(person):
        app = person.app
        screen = await begin_check_in(person)
        switch = screen.ids.header.ids.language_switch
        espanol = next(button for button in switch.children if button.text == "Español")
        await person.tap(espanol)
        await person.until(lambda: screen.ids.title.text == "Regístrese para su visita")
        assert espanol.state == "down"
        assert instruction(screen) == "Escriba su código de confirmación"
        assert screen.ids.code_field.label == "Código de confirmación"
        assert screen.ids.name_field.label == "Apellido"
        assert screen.ids.back.text == "Atrás"
        keypad = screen.ids.keypad
        assert keypad.key_for("Siguiente") is not None and keypad.key_for("Borrar") is not None
        assert screen.ids.header.ids.clock.text == "13:00"

        await type_code(person, screen, "N9M5")
        assert instruction(screen) == "Escriba su apellido"
        keyboard = screen.ids.keyboard
        assert keyboard.key_for("ñ") is not None
        assert keyboard.shift_text == "Mayús" and keyboard.key_for("Mayús") is not None
        assert keyboard.key_for("Espacio") is not None
        assert keyboard.enter_text == "Registrarme"
        shown = set(person.texts())
        for english in ("Check in", "Back", "Delete", "Shift", "Space", "Last name", "Next"):
            assert english not in shown, english
        await type_name(person, screen, "Mayús", "M", "u", "ñ", "o", "z")

        await person.until(lambda: app.root.current == "visit", timeout=10)
        visit = person.screen("visit")
        await person.until(lambda: visit.ids.title.text == f"Su visita con {RESIDENT}")

    ui(kiosk, scenario)


def test_back_goes_from_the_name_to_the_code_then_to_an_empty_idle_screen(ui, open_lobby, clock):
    kiosk = open_lobby(onsite_visit(clock))

    async def scenario(person):
        app = person.app
        screen = await begin_check_in(person)
        await person.tap(
            next(b for b in screen.ids.header.ids.language_switch.children if b.text == "Español")
        )
        await person.until(lambda: screen.ids.title.text == "Regístrese para su visita")
        await type_code(person, screen, CODE)
        await type_keys(person, screen.ids.keyboard, "c", "r", "u", "z")
        assert field(screen, "name_field") == "cruz"

        await person.tap(screen.ids.back)
        await person.until(lambda: screen.step == "code")
        assert screen.ids.keypad.parent is not None and screen.ids.keyboard.parent is None
        assert instruction(screen) == "Escriba su código de confirmación"
        assert field(screen, "code_field") == CODE  # to correct it, not to type it again
        assert app.root.current == "check_in"

        await person.tap(screen.ids.back)
        await person.until(lambda: app.root.current == "idle")
        # Nothing typed stays in any widget, and the next visitor finds the station in English.
        assert not holds(app, CODE) and not holds(app, "cruz")
        idle = person.screen("idle")
        await person.until(lambda: idle.ids.prompt.text == "Check in for your visit")
        assert kiosk.lobby.check_in is None

        fresh = await begin_check_in(person)
        assert fresh.ids.title.text == "Check in for your visit"
        assert field(fresh, "code_field") == "" and field(fresh, "name_field") == ""
        assert fresh.step == "code"

    ui(kiosk, scenario)
