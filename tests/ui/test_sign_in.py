"""Signing in at the housing kiosk, touched key by key in the real app under Xvfb: by keypad and
by badge, wrong PINs, the pause after five, Back, and sign-in paused by a lockdown."""

from __future__ import annotations

import pytest

from kiosk.core.i18n import Language
from kiosk.sync.inbound import inbound_event
from tests.ui.housing import (
    ALVAREZ,
    ALVAREZ_BADGE,
    JOHNSON_BADGE,
    PIN,
    demo_kiosk,
    enter,
    es,
    present_badge,
    sign_in_by_keypad,
    sign_out,
    type_id,
    type_keys,
    type_pin,
)

pytestmark = pytest.mark.ui
NBSP = "\u00a0"


@pytest.fixture
def kiosk(tmp_path, clock):
    kiosk = demo_kiosk(tmp_path, clock)
    yield kiosk
    kiosk.close()


def drawn_as_itself(character: str, font_name: str) -> bool:
    """Whether ``font_name`` has ``character``: a font without it draws the same box it draws
    for a private-use code point nobody's font has."""
    from kivy.core.text import Label as CoreLabel

    def pixels(text: str) -> bytes:
        label = CoreLabel(text=text, font_name=font_name, font_size=40)
        label.refresh()
        return label.texture.pixels

    return pixels(character) != pixels("\ue000")


def test_sign_in_by_keypad_and_by_badge_and_back(ui, kiosk):
    async def scenario(person):
        screens = person.app.root
        screen = person.screen("sign_in")
        keypad = screen.ids.keypad

        await person.tap(person.screen("idle").ids.prompt)
        await person.until(lambda: screens.current == "sign_in")
        assert screen.ids.title.text == "Sign in"
        assert screen.ids.instruction.text == "Tap your badge, or type your ID or booking number"
        assert keypad.enter_text == "Next"
        await type_keys(person, keypad, "A", "1", "0", "2", "5", "Delete", "4")
        assert screen.ids.entered.text == ALVAREZ
        await enter(person, keypad)
        await person.until(lambda: screen.step == "pin")
        assert screen.ids.instruction.text == "Type your PIN"
        assert screen.ids.entered.text == ""
        assert screen.ids.greeting.text == ""  # a typed ID is not greeted: it may be anyone's

        # The PIN shows as dots only, nowhere as digits.
        await type_keys(person, screen.ids.keypad, *PIN)
        assert screen.ids.entered.text == "●●●●"
        assert drawn_as_itself("●", screen.ids.entered.font_name)  # dots, not empty boxes
        assert not any(PIN in text for text in person.texts())
        assert screen.ids.keypad.key_for("Sign in")

        # Back from the PIN goes to the ID (as typed), Back from the ID to the idle screen.
        await person.tap(screen.ids.back)
        await person.until(lambda: screen.step == "identify")
        assert screen.ids.entered.text == ALVAREZ
        assert screens.current == "sign_in"
        await person.tap(screen.ids.back)
        await person.until(lambda: screens.current == "idle")
        assert kiosk.sign_in is None

        await sign_in_by_keypad(person, ALVAREZ, PIN)
        inbox = person.screen("inbox")
        bar = inbox.ids.session_bar
        # Her screens are in her language (Spanish); the demo's visit ends her session in 15 min.
        assert bar.ids.resident_name.text == "M. Alvarez"
        assert bar.ids.credits.text == "12 créditos"
        countdown = Language("es").countdown(15 * 60)
        assert bar.ids.time_left.text == es("Time left {time}").format(time=countdown)
        assert bar.ids.sign_out.text == "Cerrar sesión"
        assert kiosk.session.method == "keypad"

        await sign_out(person)
        assert person.screen("idle").ids.prompt.text == "Tap your badge or touch to sign in"

        # A badge names the resident at once: greeted by name, then only the PIN.
        await present_badge(person, kiosk, JOHNSON_BADGE)
        screen = person.screen("sign_in")  # built anew after the session
        assert screens.current == "sign_in"
        assert screen.ids.greeting.text == "Hello, D. Johnson"
        assert screen.ids.instruction.text == "Type your PIN"
        await type_pin(person, PIN, wait_for="inbox")
        bar = person.screen("inbox").ids.session_bar
        assert bar.ids.resident_name.text == "D. Johnson"
        assert bar.ids.credits.text == "3 credits"
        assert bar.ids.sign_out.text == "Sign out"
        assert kiosk.session.method == "badge"

    ui(kiosk, scenario)


def test_wrong_pins_then_the_pause_refuses_even_the_right_pin(ui, kiosk, clock):
    async def scenario(person):
        screens = person.app.root
        screen = person.screen("sign_in")
        message = screen.ids.message

        await type_id(person, ALVAREZ)
        await type_pin(person, "9999")
        # A typed ID goes back to the ID, kept, with what went wrong and what comes next.
        assert screens.current == "sign_in" and screen.step == "identify"
        assert message.text == (
            "The ID or the PIN is not right. 4 tries left before a 5-minute pause."
        )
        assert message.opacity == 1 and message.text in person.texts()
        assert screen.ids.entered.text == ALVAREZ
        for tries_left in (3, 2):
            await enter(person, screen.ids.keypad)
            await person.until(lambda: screen.step == "pin")
            await type_pin(person, "9999")
            assert f"{tries_left} tries left" in message.text
        # The fourth wrong PIN at this kiosk makes it wait before it takes another.
        await enter(person, screen.ids.keypad)
        await person.until(lambda: screen.step == "pin")
        await type_pin(person, "9999")
        assert message.text.startswith("The ID or the PIN is not right. 1 try left")
        await enter(person, screen.ids.keypad)
        await person.until(lambda: screen.step == "pin")
        assert "Please wait 2 seconds before the next try." in message.text
        await type_keys(person, screen.ids.keypad, *"9999")
        await enter(person, screen.ids.keypad)
        assert screen.step == "pin" and screen.ids.entered.text == "●●●●"  # kept, not taken
        clock.advance(3)
        await person.until(lambda: "Please wait" not in message.text)
        await enter(person, screen.ids.keypad)
        await person.until(lambda: "Too many wrong tries" in message.text, 10)
        assert message.text.startswith(
            "Too many wrong tries. Sign-in for this ID is paused for 5 minutes, "
            f"until 1:05{NBSP}PM."
        )
        assert screens.current == "sign_in" and kiosk.session is None

        # Paused: her own badge and her right PIN are refused until then.
        clock.advance(5)  # past the kiosk's wait after the fifth wrong PIN
        await present_badge(person, kiosk, ALVAREZ_BADGE)
        # Her badge names her: from now on the kiosk speaks to her in Spanish, her language.
        paused_es = es("Sign-in for this ID is paused until {time}. Please try again then.")
        paused_es = paused_es.format(time="13:05")
        assert message.text == paused_es and paused_es.startswith("El inicio de sesión")
        await type_pin(person, PIN)
        await person.frames(3)
        assert screens.current == "sign_in" and kiosk.session is None
        assert message.text == paused_es
        paused = f"Sign-in for this ID is paused until 1:05{NBSP}PM. Please try again then."
        # The typed ID is refused at Next.
        await person.tap(screen.ids.back)
        await person.until(lambda: screen.step == "identify")
        await person.tap(screen.ids.back)
        await person.until(lambda: screens.current == "idle")
        await person.tap(person.screen("idle").ids.prompt)
        await person.until(lambda: screens.current == "sign_in")
        await type_keys(person, screen.ids.keypad, *ALVAREZ)
        await enter(person, screen.ids.keypad)
        await person.until(lambda: message.text == paused)
        assert screen.step == "identify"

        # Once the pause is over, the right PIN signs her in.
        clock.advance(5 * 60)  # the half-typed sign-in is abandoned meanwhile
        await person.until(lambda: screens.current == "idle")
        await sign_in_by_keypad(person, ALVAREZ, PIN)
        assert person.screen("inbox").ids.session_bar.ids.resident_name.text == "M. Alvarez"

    ui(kiosk, scenario)


def test_a_lockdown_pauses_sign_in_on_the_idle_screen(ui, kiosk, clock):
    async def scenario(person):
        screens = person.app.root
        idle = person.screen("idle")
        # Someone is at the keypad when the lockdown comes: back to the idle screen.
        await person.tap(idle.ids.prompt)
        await person.until(lambda: screens.current == "sign_in")
        kiosk.receive(
            inbound_event("notice", {"notice_id": "n1", "text": "Lockdown", "severity": "lockdown"})
        )
        clock.advance(1)
        await person.until(lambda: screens.current == "idle")

        assert idle.ids.paused.text == "Sign-in is paused during the lockdown."
        assert idle.ids.paused.opacity == 1
        assert idle.ids.prompt.text == "Sign-in is paused"
        assert idle.ids.banner_label.text == "Lockdown"
        await person.tap(idle.ids.prompt)
        await person.frames(3)
        assert screens.current == "idle" and kiosk.sign_in is None
        assert kiosk.devices.badge_reader.present(ALVAREZ_BADGE)
        await person.frames(3)
        assert screens.current == "idle" and kiosk.sign_in is None

        kiosk.receive(inbound_event("notice", {"notice_id": "n2", "text": ""}))
        await person.until(lambda: idle.ids.paused.text == "")
        await person.tap(idle.ids.prompt)
        await person.until(lambda: screens.current == "sign_in")

    ui(kiosk, scenario)
