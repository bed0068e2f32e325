"""The README's screenshots, taken from the real app under Xvfb at 1280x800."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.core.kiosk import Kiosk
from kiosk.demo import seed
from tests.conftest import make_config

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.parametrize(
    ("role", "language", "name"),
    [
        ("housing", "en", "idle-housing.png"),
        ("housing", "es", "idle-housing-es.png"),
        ("lobby", "en", "idle-lobby.png"),
    ],
)
def test_screenshot_of_the_demo_idle_screen(ui, tmp_path, clock, role, language, name):
    overrides = {"role": role}
    if role == "lobby":
        overrides.update(
            kiosk_id="demo-lobby-01", kiosk_name="Visitor Lobby · Station 1", housing_unit=None
        )
    kiosk = Kiosk.open(make_config(tmp_path, **overrides), clock)
    seed(kiosk)  # the demo facility: a visit five minutes from now
    kiosk.set_language(language)

    async def scenario(person):
        screen = person.screen()
        await person.until(lambda: screen.ids.notice_time.text != "")
        path = person.screenshot(SCREENSHOTS / name)
        assert path.stat().st_size > 10_000  # a real picture, not an empty frame

        from kivy.core.image import Image

        picture = Image.load(str(path), keep_data=True)
        assert (picture.width, picture.height) == (1280, 800)
        # The header band and the primary button are drawn (not a black or blank frame).
        header = picture.read_pixel(20, 20)
        button = picture.read_pixel(640, 770)
        assert header != button and sum(header[:3]) > 2.0

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()


HOUSING_SHOTS = (
    "sign-in.png",
    "sign-in-wrong-pin.png",
    "inbox.png",
    "message.png",
    "compose.png",
    "compose-es.png",
    "inbox-high-contrast.png",
    "still-there.png",
)


def test_screenshots_of_a_residents_session(ui, tmp_path, clock):
    """Sign-in, inbox, a message with its photo, compose in English and Spanish, high contrast."""
    kiosk = Kiosk.open(make_config(tmp_path), clock)
    seed(kiosk)

    async def scenario(person):
        app = person.app
        shots = []

        def shot(name):
            shots.append(person.screenshot(SCREENSHOTS / name))

        await person.tap(person.screen().ids.prompt)
        await person.until(lambda: app.root.current == "sign_in")
        keypad = person.screen("sign_in").ids.keypad
        for label in "A1024":
            await person.tap(keypad.key_for(label))
        shot("sign-in.png")
        await person.tap(keypad.key_for(keypad.enter_text))
        for label in "1111":
            await person.tap(keypad.key_for(label))
        await person.tap(keypad.key_for(keypad.enter_text))
        sign_in = person.screen("sign_in")
        await person.until(lambda: "not right" in sign_in.ids.message.text)
        shot("sign-in-wrong-pin.png")
        await person.tap(keypad.key_for(keypad.enter_text))  # Next: the ID is kept
        for label in "1234":
            await person.tap(keypad.key_for(label))
        await person.tap(keypad.key_for(keypad.enter_text))
        await person.until(lambda: app.root.current == "inbox", timeout=10)
        kiosk.set_language("en")  # her screens come in Spanish; the README shows English
        inbox = person.screen("inbox")
        await person.until(lambda: inbox.ids.rows.layout_manager.children)
        await person.frames(2)
        shot("inbox.png")
        rows = sorted(inbox.ids.rows.layout_manager.children, key=lambda row: -row.y)
        await person.tap(rows[0])
        message = person.screen("message")
        await person.until(lambda: app.root.current == "message" and message.ids.photos.children)
        await person.frames(2)
        shot("message.png")
        await person.tap(message.ids.reply)
        compose = person.screen("compose")
        await person.until(lambda: app.root.current == "compose")
        keyboard = compose.ids.keyboard
        for label in ("Shift", "T", "h", "a", "n", "k", "Space", "y", "o", "u"):
            await person.tap(keyboard.key_for(label))
        await person.frames(2)
        shot("compose.png")
        kiosk.set_language("es")
        await person.until(lambda: keyboard.key_for("ñ") is not None)
        await person.frames(2)
        shot("compose-es.png")
        await person.tap(compose.ids.back)
        await person.tap(person.screen("message").ids.back)
        kiosk.set_language("en")
        app.theme.high_contrast = True
        await person.frames(3)
        shot("inbox-high-contrast.png")
        app.theme.high_contrast = False
        clock.advance(kiosk.settings.session_idle_s + 3)
        await person.until(lambda: app._still_there is not None and app._still_there.parent)
        await person.frames(3)
        shot("still-there.png")
        for path in shots:
            assert path.stat().st_size > 10_000

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()
