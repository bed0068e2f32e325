"""The README's screenshots, taken from the real app under Xvfb at 1280x800."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.seed import seed
from tests.conftest import make_config
from tests.kiosks import make_kiosk

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
    kiosk = make_kiosk(make_config(tmp_path, **overrides), clock)
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
    kiosk = make_kiosk(make_config(tmp_path), clock)
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


LOBBY_SHOTS = (
    "check-in-code.png",
    "check-in-name-es.png",
    "check-in-too-early.png",
    "capture-id.png",
    "capture-blurred.png",
    "capture-face.png",
    "photo-review.png",
    "lobby-visit-waiting.png",
)


def test_screenshots_of_a_visitor_checking_in(ui, tmp_path, clock):
    """The demo lobby: an attorney checks in and photographs an ID, a bar card and a face."""
    from demo.facility import DEMO_CONFIRMATION_CODE, DEMO_FAMILY_CODE
    from hardware.simulated.scenes import document_scene, face_scene

    config = make_config(
        tmp_path,
        role="lobby",
        kiosk_id="demo-lobby-01",
        kiosk_name="Visitor Lobby · Station 1",
        housing_unit=None,
    )
    kiosk = make_kiosk(config, clock)
    seed(kiosk)
    camera = kiosk.devices.camera

    async def scenario(person):
        app = person.app
        shots = []

        def shot(name):
            shots.append(person.screenshot(SCREENSHOTS / name))

        async def type_code(code):
            keypad = person.screen("check_in").ids.keypad
            for label in code:
                await person.tap(keypad.key_for(label))
            await person.tap(keypad.key_for(keypad.enter_text))

        async def type_name(letters):
            keyboard = person.screen("check_in").ids.keyboard
            for label in letters:
                await person.tap(keyboard.key_for(label))
            await person.tap(keyboard.key_for(keyboard.enter_text))

        kiosk.tick()
        await person.tap(person.screen().ids.prompt)
        await person.until(lambda: app.root.current == "check_in")
        check_in = person.screen("check_in")
        keypad = check_in.ids.keypad
        for label in DEMO_FAMILY_CODE:
            await person.tap(keypad.key_for(label))
        shot("check-in-code.png")
        await person.tap(keypad.key_for(keypad.enter_text))
        shift = check_in.ids.keyboard.shift_text
        await type_name((shift, "A", "l", "v", "a", "r", "e", "z"))
        await person.until(lambda: "check in from" in check_in.ids.instruction.text)
        shot("check-in-too-early.png")
        kiosk.set_language("es")
        await type_code(DEMO_CONFIRMATION_CODE)
        keyboard = check_in.ids.keyboard
        for label in (keyboard.shift_text, "O", "r", "t", "e", "g", "a"):
            await person.tap(keyboard.key_for(label))
        shot("check-in-name-es.png")
        kiosk.set_language("en")
        await person.frames(3)  # the English keys are laid out
        await person.tap(keyboard.key_for(keyboard.enter_text))
        await person.until(lambda: app.root.current == "capture", timeout=10)
        capture = person.screen("capture")
        camera.hold(document_scene(1280, 720))
        await person.until(lambda: capture.ids.picture.texture is not None)
        await person.frames(3)
        shot("capture-id.png")
        camera.hold(document_scene(1280, 720, blur=6))
        await person.frames(3)
        await person.tap(capture.ids.take)
        await person.until(lambda: capture.problem != "")
        shot("capture-blurred.png")
        await person.tap(capture.ids.retake)
        camera.hold(document_scene(1280, 720))
        await person.frames(3)
        await person.tap(capture.ids.take)
        await person.until(lambda: capture.can_accept)
        await person.tap(capture.ids.accept)
        await person.until(lambda: capture.stage == "preview" and "2 of 3" in capture.title)
        await person.frames(3)
        await person.tap(capture.ids.take)
        await person.until(lambda: capture.can_accept)
        await person.tap(capture.ids.accept)
        camera.hold(face_scene(1280, 720))
        await person.until(lambda: capture.frame_shape == "face")
        await person.frames(4)
        shot("capture-face.png")
        await person.tap(capture.ids.take)
        await person.until(lambda: capture.can_accept)
        await person.tap(capture.ids.accept)
        await person.until(lambda: app.root.current == "photo_review")
        await person.frames(3)
        shot("photo-review.png")
        await person.tap(person.screen("photo_review").ids.submit)
        visit = person.screen("visit")
        await person.until(lambda: app.root.current == "visit" and visit.photos != "")
        await person.frames(3)
        shot("lobby-visit-waiting.png")
        for path in shots:
            assert path.stat().st_size > 10_000

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()
