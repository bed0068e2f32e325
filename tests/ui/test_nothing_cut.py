"""Nothing cut, nothing broken mid-word: every screen of both kiosks, in English and Spanish, at
1280x800 and 1024x768.

The demo facility's kiosks are walked through as a resident, a visitor and a technician walk
through them (touches on the real widgets). On each screen, at each size and in each language,
every label in view is read as Kivy laid it out: its text must not be shortened with an ellipsis,
its rendered text must fit its box and the window, and its lines must break between words, never
inside one (Kivy breaks a word that is wider than the label: "Registrarm" / "e").
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from demo.facility import (
    DEMO_ATTORNEY,
    DEMO_CONFIRMATION_CODE,
    DEMO_TECHNICIAN_BADGE,
    DEMO_TECHNICIAN_PIN,
)
from demo.seed import seed
from kiosk.core.ports import PeerSignal
from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.ui.housing import (
    ALVAREZ,
    ALVAREZ_BADGE,
    PIN,
    demo_kiosk,
    enter,
    sign_out,
    type_pin,
    visible_rows,
)
from tests.ui.touches import press, type_keys
from tests.visits import visit_row

# Each walk lays its screens out some 70 times; a loaded 2-core machine needs the room.
pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]

SIZES = ((1280, 800), (1024, 768))
LANGUAGES = ("en", "es")
SLACK = 1  # px: Kivy rounds sizes to whole pixels
CHECK_S = 15.0  # a scrypt check on a loaded 2-core machine


def laid_out_lines(label) -> list[str]:
    """The label's text as Kivy laid it out, line by line."""
    return ["".join(word.text for word in line.words) for line in label._label._cached_lines]


def label_problems(label, window) -> list[str]:
    """What a person would see wrong with this label: shortened, broken mid-word, spilling."""
    problems = []
    lines = laid_out_lines(label)
    if label.is_shortened:
        problems.append(f"shortened to {' / '.join(lines)!r}")
    elif " ".join(lines).split() != label.text.split():
        # A word Kivy had to break (or a line it dropped) shows as words that differ.
        problems.append(f"laid out as {' / '.join(lines)!r}")
    width, height = label.texture_size
    if width > label.width + SLACK or height > label.height + SLACK:
        problems.append(f"text {width}x{height} in a box of {label.width:.0f}x{label.height:.0f}")
    uw, uh = label.text_size
    inner_w, inner_h = getattr(label._label, "_internal_size", (0, 0))
    if (uw is not None and inner_w > uw + SLACK) or (uh is not None and inner_h > uh + SLACK):
        problems.append(f"text {inner_w}x{inner_h} wider or taller than its text_size {uw}x{uh}")
    if not _inside_a_scroll_view(label):
        # Where the text is drawn: Kivy centres the texture on the label.
        cx, cy = label.to_window(label.center_x, label.center_y)
        x, y, right, top = cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2
        if x < -SLACK or y < -SLACK or right > window.width + SLACK or top > window.height + SLACK:
            problems.append(
                f"drawn beyond the window at ({x:.0f}, {y:.0f})-({right:.0f}, {top:.0f})"
            )
    return problems


def shown_labels(window):
    """Every label with words that a person can see: in the window, nothing around it
    transparent (the screen on show and any overlay, such as the walk-away warning)."""
    from kivy.uix.label import Label

    for root in window.children:
        for widget in root.walk(restrict=True):
            if isinstance(widget, Label) and widget.text.strip() and _seen(widget, window):
                yield widget


def _seen(widget, window) -> bool:
    while widget is not None and widget is not window:
        if widget.opacity == 0:
            return False
        widget = widget.parent
    return widget is window


def _inside_a_scroll_view(widget) -> bool:
    """In a list that scrolls (its rows may lie beyond the view)."""
    from kivy.uix.scrollview import ScrollView

    widget = widget.parent
    while widget is not None and widget.parent is not widget:  # the window is its own parent
        if isinstance(widget, ScrollView):
            return True
        widget = widget.parent
    return False


class Looker:
    """Looks at whatever is on show at every size, in every language, and keeps what is wrong."""

    def __init__(self, person, kiosk, window) -> None:
        self.person, self.kiosk, self.window = person, kiosk, window
        self.problems: list[str] = []
        self.looked_at: list[str] = []

    async def look(self, where: str) -> None:
        before = self.kiosk.view.language
        self.looked_at.append(where)
        for size in SIZES:
            self.window.size = size
            for code in LANGUAGES:
                self.kiosk.set_language(code)
                await self.person.frames(4)
                at = f"{where}, {size[0]}x{size[1]}, {code}"
                labels = list(shown_labels(self.window))
                assert len(labels) >= 3, f"{at}: hardly any words on screen"
                for label in labels:
                    for problem in label_problems(label, self.window):
                        self.problems.append(f"{at}: {label.text!r}: {problem}")
        self.window.size = SIZES[0]
        self.kiosk.set_language(before)
        await self.person.frames(3)

    def verdict(self) -> None:
        assert self.looked_at  # the walk reached its screens
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def restore_window(kivy_window):
    yield kivy_window
    kivy_window.size = SIZES[0]


def test_the_housing_kiosk_shows_every_word_whole(ui, tmp_path, clock, restore_window):
    kiosk = demo_kiosk(tmp_path, clock)
    # Her video visit in 40 minutes, her family at home (the longest words a visit has): the idle
    # screen's notice; 35 minutes on, the visit to walk through.
    kiosk.apply_schedule(
        10**12,
        [
            visit_row(
                clock.now() + timedelta(minutes=40),
                30,
                visit_id="v-cut",
                kind="remote",
                inmate_id=ALVAREZ,
                inmate_name="M. Alvarez",
                visitor_name="R. Alvarez",
            )
        ],
    )

    # Her message without a photo had two, which retention removed: it says so (its words read
    # here with the rest of the message's screen).
    kiosk.database.execute(
        "UPDATE messages SET photos_removed = 2 WHERE inmate_id = ? "
        "AND message_id NOT IN (SELECT message_id FROM photos)",
        [ALVAREZ],
    )

    async def scenario(person):
        app = person.app
        screens = app.root
        looker = Looker(person, kiosk, restore_window)
        kiosk.tick()
        idle = person.screen("idle")
        await person.until(lambda: idle.notice_title != "")
        await looker.look("idle")

        # The technician: the PIN, then the maintenance screen, then Close.
        reader = kiosk.devices.badge_reader
        await person.until(lambda: reader.present(DEMO_TECHNICIAN_BADGE), timeout=10)
        await person.until(lambda: screens.current == "technician")
        technician = person.screen("technician")
        await looker.look("technician, PIN")
        await type_keys(person, technician.ids.keypad, *DEMO_TECHNICIAN_PIN)
        await press(person, technician.ids.keypad.key_for("Enter"))
        await person.until(lambda: technician.step == "open", CHECK_S)
        await looker.look("technician, maintenance")
        await person.tap(technician.ids.close)
        await person.until(lambda: screens.current == "idle")

        # A resident signs in: her ID, a wrong PIN, the right one.
        await person.tap(idle.ids.prompt)
        await person.until(lambda: screens.current == "sign_in")
        sign_in = person.screen("sign_in")
        await looker.look("sign-in, ID")
        keypad = sign_in.ids.keypad
        await type_keys(person, keypad, *ALVAREZ)
        await enter(person, keypad)
        await person.until(lambda: sign_in.step == "pin")
        await looker.look("sign-in, PIN")
        await type_keys(person, keypad, "1", "1", "1", "1")
        await enter(person, keypad)
        await person.until(lambda: sign_in.ids.message.text != "" and sign_in.step != "checking")
        await looker.look("sign-in, wrong PIN")
        await enter(person, keypad)  # Next: her ID is kept
        await type_pin(person, PIN, wait_for="inbox")
        inbox = person.screen("inbox")
        await person.until(lambda: inbox.ids.rows.layout_manager.children)
        await looker.look("inbox")

        # Her message with its photo, the photo, her reply.
        rows = visible_rows(person)
        await person.tap(rows[-1] if len(rows) > 1 else rows[0])
        message = person.screen("message")
        await person.until(lambda: screens.current == "message")
        await looker.look("message")
        if not message.ids.photos.children:
            await person.tap(message.ids.back)
            await person.until(lambda: screens.current == "inbox")
            await person.tap(visible_rows(person)[0])
            await person.until(lambda: screens.current == "message")
        await person.until(lambda: message.ids.photos.children)
        await looker.look("message with a photo")
        await person.tap(message.ids.photos.children[0])
        await person.until(lambda: screens.current == "photo")
        await looker.look("photo")
        await person.tap(person.screen("photo").ids.close)
        await person.until(lambda: screens.current == "message")
        await person.tap(message.ids.reply)
        await person.until(lambda: screens.current == "compose")
        await looker.look("compose")
        await person.tap(person.screen("compose").ids.back)
        await person.until(lambda: screens.current != "compose")

        # A new message: whom to write to.
        if screens.current != "inbox":
            await person.tap(person.screen(screens.current).ids.back)
            await person.until(lambda: screens.current == "inbox")
        await person.tap(inbox.ids.new_message)
        await person.until(lambda: screens.current == "contacts")
        await looker.look("contacts")

        # She walks away: the warning over the screen.
        clock.advance(kiosk.settings.session_idle_s)
        kiosk.tick()
        await person.until(lambda: app._still_there is not None and app._still_there.parent)
        await looker.look("still there")
        await press(person, app._still_there.ids.still_here)
        await person.until(lambda: app._still_there.parent is None)
        await sign_out(person)

        # Her visit: the handset lifted, her badge and PIN, the visit, Hang up asking first.
        clock.advance(35 * 60)
        kiosk.tick()
        await person.until(lambda: idle.notice_title.startswith("Your video visit"))
        await looker.look("idle, visit ready")
        kiosk.devices.handset.lift()
        await person.until(lambda: screens.current == "sign_in")
        await looker.look("sign-in for a visit")
        assert kiosk.devices.badge_reader.present(ALVAREZ_BADGE)
        sign_in = person.screen("sign_in")
        await person.until(lambda: sign_in.step == "pin")
        await type_pin(person, PIN, wait_for="visit")
        visit = person.screen("visit")
        await person.until(lambda: visit.peer_status != "")
        await looker.look("visit, waiting")
        waiting = visit.instruction
        kiosk.receive(
            PeerSignal(
                "v-cut", {"visit_id": "v-cut", "kind": "ready", "from_kiosk_id": "media-gateway"}
            )
        )
        await person.until(lambda: visit.instruction != waiting)
        clock.advance(30 * 60)
        kiosk.tick()
        await person.until(lambda: visit.warning != "")
        await looker.look("visit, five minutes left")
        await press(person, visit.ids.hang_up)
        await person.until(lambda: visit.confirming)
        await looker.look("visit, hang up?")
        await press(person, visit.ids.end_visit)
        await person.until(lambda: visit.ended != "")
        await looker.look("visit, ended")
        looker.verdict()

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()


def test_the_lobby_kiosk_shows_every_word_whole(ui, tmp_path, clock, restore_window):
    config = make_config(
        tmp_path,
        role="lobby",
        kiosk_id="demo-lobby-01",
        kiosk_name="Visitor Lobby · Station 1",
        housing_unit=None,
    )
    kiosk = make_kiosk(config, clock)
    seed(kiosk)  # the demo's attorney visit: check-in open, three photos

    async def scenario(person):
        from hardware.simulated.scenes import document_scene, face_scene

        app = person.app
        screens = app.root
        looker = Looker(person, kiosk, restore_window)
        camera = kiosk.devices.camera
        card = document_scene(camera.width, camera.height)
        blurred = document_scene(camera.width, camera.height, blur=6)
        face = face_scene(camera.width, camera.height, faces=1)
        kiosk.tick()
        idle = person.screen("idle")
        await person.until(lambda: idle.prompt != "")
        await looker.look("idle")

        await person.tap(idle.ids.prompt)
        await person.until(lambda: screens.current == "check_in")
        check_in = person.screen("check_in")
        await person.frames(2)
        await looker.look("check-in, code")
        keypad = check_in.ids.keypad
        await type_keys(person, keypad, *DEMO_CONFIRMATION_CODE)
        await type_keys(person, keypad, keypad.enter_text)
        await person.until(lambda: check_in.step == "name")
        await looker.look("check-in, last name")
        keyboard = check_in.ids.keyboard
        await type_keys(person, keyboard, *DEMO_ATTORNEY.split()[-1].lower())
        await type_keys(person, keyboard, keyboard.enter_text)
        await person.until(lambda: screens.current == "capture", timeout=CHECK_S)
        capture = person.screen("capture")
        await person.until(lambda: capture.title != "")
        await looker.look("capture, preview")

        camera.hold(blurred)
        await person.frames(3)
        await press(person, capture.ids.take)
        await person.until(lambda: capture.stage == "still", timeout=10)
        await looker.look("capture, a still that failed its check")
        await press(person, capture.ids.retake)
        await person.until(lambda: capture.stage == "preview")

        # Walked away mid-capture: the warning over the screen.
        clock.advance(61)
        kiosk.tick()
        await person.until(lambda: app._still_there is not None and app._still_there.parent)
        await looker.look("still there")
        await press(person, app._still_there.ids.still_here)
        await person.until(lambda: app._still_there.parent is None)

        for step, picture in enumerate((card, card, face), start=1):
            camera.hold(picture)
            await person.frames(3)
            await press(person, capture.ids.take)
            await person.until(lambda: capture.stage == "still", timeout=10)
            await person.until(lambda: capture.ids.accept.parent is not None)
            await looker.look(f"capture, photo {step} taken")
            await press(person, capture.ids.accept)
            await person.until(lambda: capture.stage == "preview" or screens.current != "capture")
        await person.until(lambda: screens.current == "photo_review")
        review = person.screen("photo_review")
        await person.until(lambda: len(review.ids.photos.children) == 3)
        await looker.look("photo review")
        await press(person, review.ids.submit)
        await person.until(lambda: screens.current == "visit", timeout=10)
        visit = person.screen("visit")
        await person.until(lambda: visit.ids.photos.text != "")
        await looker.look("visit, photos sending")
        looker.verdict()

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()
