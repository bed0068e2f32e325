"""A resident's session in the real app under Xvfb: the inbox, reading, a photo, writing and
sending on the on-screen keyboard, no credits, the idle warning, the language switch, and
nothing of one resident left for the next."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from tests.ui.housing import (
    ALVAREZ_BADGE,
    JOHNSON,
    JOHNSON_BADGE,
    demo_kiosk,
    es,
    everything_held,
    sign_in_by_badge,
    sign_in_by_keypad,
    sign_out,
    type_keys,
    visible_rows,
)

pytestmark = pytest.mark.ui
HER_TEXTS = (
    "Alvarez",
    "Hola mijo",
    "Te queremos",
    "Public Defender",
    "hearing has been moved",
    "A1024",
)


@pytest.fixture
def kiosk(tmp_path, clock):
    kiosk = demo_kiosk(tmp_path, clock)  # its outbox records what it says
    yield kiosk
    kiosk.close()


def _outbox(kiosk) -> int:
    return Database(kiosk.database)["outbox"].count


def test_read_a_message_view_its_photo_reply_and_switch_language(ui, kiosk):
    async def scenario(person):
        screens = person.app.root
        await sign_in_by_badge(person, kiosk, ALVAREZ_BADGE)
        inbox = person.screen("inbox")
        await person.frames(2)

        # Newest first, both unread: "New" in words, not only a shade.
        rows = visible_rows(person)
        assert [row.message_id for row in rows] == ["m-demo-1", "m-demo-2"]
        assert rows[0].who == "De R. Alvarez"  # her screens are in her language, Spanish
        assert rows[0].first_line.startswith("Hola mijo")
        assert rows[1].who == es("From {name}").format(name="Public Defender's Office")
        assert all(row.unread and row.unread_label == "Nuevo" for row in rows)
        assert inbox.ids.unread.text == "2 mensajes nuevos"
        assert inbox.ids.session_bar.ids.sign_out.text == "Cerrar sesión"
        assert inbox.ids.empty.text == ""

        # Open the first: the whole text, the photo; reading it marks it read.
        await person.tap(rows[0])
        await person.until(lambda: screens.current == "message")
        message = person.screen("message")
        assert message.ids.who.text == es("From {name}").format(name="R. Alvarez")
        assert message.ids.body.text == (
            "Hola mijo, we will see you on the video visit. Te queremos."
        )
        assert message.ids.reply.opacity == 1 and not message.ids.reply.disabled
        thumbnails = message.ids.photos.children
        assert len(thumbnails) == 1 and thumbnails[0].texture is not None

        await person.tap(thumbnails[0])
        await person.until(lambda: screens.current == "photo")
        photo = person.screen("photo")
        assert photo.ids.picture.texture is thumbnails[0].texture
        assert photo.ids.scatter.scale == pytest.approx(1.0)
        assert photo.ids.close.text == es("Close")
        await person.tap(photo.ids.zoom_in)
        assert photo.ids.scatter.scale == pytest.approx(1.5)
        await person.tap(photo.ids.zoom_in)
        assert photo.ids.scatter.scale == pytest.approx(2.25)
        await person.tap(photo.ids.zoom_out)
        assert photo.ids.scatter.scale == pytest.approx(1.5)
        await person.tap(photo.ids.close)
        await person.until(lambda: screens.current == "message")
        assert message.ids.body.text.startswith("Hola mijo")

        await person.tap(message.ids.back)
        await person.until(lambda: screens.current == "inbox")
        await person.frames(2)
        assert inbox.ids.unread.text == "1 mensaje nuevo"
        first, second = visible_rows(person)
        assert not first.unread and first.unread_label == ""
        assert second.unread and second.unread_label == es("New")

        # Reply on the kiosk's keyboard, in her language's layout (ñ, the accent key).
        await person.tap(first)
        await person.until(lambda: screens.current == "message")
        await person.tap(message.ids.reply)
        await person.until(lambda: screens.current == "compose")
        compose = person.screen("compose")
        keyboard = compose.ids.keyboard
        await person.frames(2)
        assert compose.ids.to.text == "Para R. Alvarez"
        assert compose.ids.cost.text == "Enviar cuesta 1 crédito. Tiene 12 créditos."
        assert compose.ids.send.text == "Enviar"
        assert compose.ids.count.text == "0 / 2000"
        assert compose.ids.draft.text == ""
        assert keyboard.layout == "es" and keyboard.key_for("ñ") and keyboard.key_for("´")
        await type_keys(person, keyboard, "h", "o", "l", "a", keyboard.space_text, "´", "n", "ñ")
        await person.frames(1)
        assert compose.ids.draft.text == "hola nñ"
        assert compose.ids.count.text == "7 / 2000"
        await type_keys(person, keyboard, keyboard.backspace_text, keyboard.backspace_text, "a")
        assert compose.ids.draft.text == "hola a"
        assert compose.ids.count.text == "6 / 2000"

        await person.tap(compose.ids.send)
        await person.until(lambda: screens.current == "inbox")
        await person.frames(2)
        top = visible_rows(person)[0]
        assert top.who == es("To {name}").format(name="R. Alvarez")
        assert top.first_line == "hola a"
        assert top.status == es("Waiting to send")
        assert es("Waiting to send") in person.texts()
        bar = inbox.ids.session_bar
        assert bar.ids.credits.text == "11 créditos"
        assert _outbox(kiosk) == 1

        # The language switch changes the words at once, on the screen she is on.
        switch = inbox.ids.header.ids.language_switch
        english = next(b for b in switch.children if b.text == "English")
        espanol = next(b for b in switch.children if b.text == "Español")
        assert espanol.state == "down"
        clock_shown = inbox.ids.header.ids.clock
        spanish_when = visible_rows(person)[1].when
        assert clock_shown.text == "13:00"
        await person.tap(english)
        await person.until(lambda: clock_shown.text == "1:00\u00a0PM")
        await person.frames(2)
        assert bar.ids.sign_out.text == "Sign out"
        assert bar.ids.credits.text == "11 credits"
        assert inbox.ids.unread.text == "1 new message"
        rows = visible_rows(person)
        assert rows[0].status == "Waiting to send"
        assert rows[1].who == "From R. Alvarez"
        assert rows[1].when != spanish_when  # the time in the English way
        await person.tap(espanol)
        await person.until(lambda: clock_shown.text == "13:00")
        await person.frames(2)
        assert visible_rows(person)[1].when == spanish_when
        assert bar.ids.sign_out.text == "Cerrar sesión"
        assert visible_rows(person)[0].status == "Esperando para enviar"

        # A new message: whom to write to, among those who wrote to her.
        await person.tap(inbox.ids.new_message)
        await person.until(lambda: screens.current == "contacts")
        contacts = person.screen("contacts")
        names = sorted(button.text for button in contacts.ids.contacts.children)
        assert names == ["Public Defender's Office", "R. Alvarez"]
        defender = next(b for b in contacts.ids.contacts.children if b.contact_id == "c-2")
        await person.tap(defender)
        await person.until(lambda: screens.current == "compose")
        assert compose.ids.to.text == es("To {name}").format(name="Public Defender's Office")
        assert compose.ids.draft.text == ""  # a new message starts empty

    ui(kiosk, scenario)


def test_no_credits_and_the_idle_warning(ui, kiosk, clock):
    kiosk.database.execute("UPDATE residents SET message_credits = 0 WHERE inmate_id = 'A2048'")
    kiosk.database.commit()

    async def scenario(person):
        from kiosk.ui.widgets.still_there import StillThere

        screens = person.app.root
        await sign_in_by_badge(person, kiosk, JOHNSON_BADGE)
        inbox = person.screen("inbox")
        assert inbox.ids.session_bar.ids.credits.text == "0 credits"
        await person.frames(2)
        await person.tap(visible_rows(person)[0])
        await person.until(lambda: screens.current == "message")
        await person.tap(person.screen("message").ids.reply)
        await person.until(lambda: screens.current == "compose")
        compose = person.screen("compose")
        assert compose.ids.cost.text == (
            "You have no message credits left. Ask staff how to get more credits."
        )
        assert compose.ids.send.opacity < 1  # shown as not ready
        await type_keys(person, compose.ids.keyboard, "o", "k")
        assert compose.ids.draft.text == "ok"

        # Send is refused, in words, and nothing is queued or charged.
        await person.tap(compose.ids.send)
        await person.frames(2)
        assert screens.current == "compose"
        assert compose.ids.cost.text == (
            "You have no message credits left. Your message was not sent. "
            "Ask staff how to get more credits."
        )
        assert compose.ids.cost.text in person.texts()
        assert compose.ids.draft.text == "ok"
        assert _outbox(kiosk) == 0
        assert Database(kiosk.database)["messages"].count_where("direction = 'out'") == 0

        # Untouched for the idle time: the full-screen warning with its countdown, and the
        # draft's fate in words.
        clock.advance(kiosk.settings.session_idle_s)
        await person.until(lambda: _still_there(person) is not None)
        warning = _still_there(person)
        assert isinstance(warning, StillThere)
        assert warning.size == list(person.app.root.get_root_window().size)
        assert warning.ids.title.text == "Are you still there?"
        assert warning.ids.countdown.text == "Signing you out in 15 seconds."
        assert warning.ids.detail.text == "Your unsent message will be discarded."
        clock.advance(5)
        await person.until(lambda: warning.ids.countdown.text == "Signing you out in 10 seconds.")
        await person.tap(warning.ids.still_here)
        await person.until(lambda: _still_there(person) is None)
        assert screens.current == "compose" and compose.ids.draft.text == "ok"
        assert kiosk.session is not None

        # Untouched again: the warning, then 15 s later the session ends.
        clock.advance(kiosk.settings.session_idle_s)
        await person.until(lambda: _still_there(person) is not None)
        clock.advance(10)
        await person.frames(2)
        assert kiosk.session is not None
        clock.advance(5)
        await person.until(lambda: screens.current == "idle")
        assert _still_there(person) is None
        assert kiosk.session is None
        logouts = [detail for kind, detail in kiosk.outbox.events if kind == "logout"]
        assert [d["reason"] for d in logouts] == ["idle"]
        assert "ok" not in list(everything_held(person.app))

        # "Sign out now" on the warning signs out at once; the touch reaches nothing beneath.
        await sign_in_by_keypad(person, JOHNSON)
        clock.advance(kiosk.settings.session_idle_s)
        await person.until(lambda: _still_there(person) is not None)
        await person.tap(_still_there(person).ids.sign_out)
        await person.until(lambda: screens.current == "idle")
        assert _still_there(person) is None
        logouts = [detail for kind, detail in kiosk.outbox.events if kind == "logout"]
        assert [d["reason"] for d in logouts] == ["idle", "user"]

    ui(kiosk, scenario)


def test_nothing_of_one_resident_remains_for_the_next(ui, kiosk, clock):
    # No visit naming her on the idle screen's notice: only her session could leave her name.
    kiosk.apply_schedule(int(clock.now().timestamp()) + 1, [])
    draft = "secreto para mama"

    async def scenario(person):
        from kiosk.ui.app import SESSION_SCREENS
        from kiosk.ui.message_screen import PhotoThumbnail

        screens = person.app.root
        await sign_in_by_badge(person, kiosk, ALVAREZ_BADGE)
        await person.frames(2)
        await person.tap(visible_rows(person)[0])
        await person.until(lambda: screens.current == "message")
        message = person.screen("message")
        await person.tap(message.ids.photos.children[0])
        await person.until(lambda: screens.current == "photo")
        await person.tap(person.screen("photo").ids.close)
        await person.until(lambda: screens.current == "message")
        await person.tap(message.ids.reply)
        await person.until(lambda: screens.current == "compose")
        keyboard = person.screen("compose").ids.keyboard
        await type_keys(person, keyboard, *[keyboard.space_text if c == " " else c for c in draft])
        assert person.screen("compose").ids.draft.text == draft
        held = " ".join(everything_held(person.app))
        assert all(text in held for text in ("Alvarez", "Hola mijo", draft))  # the search works
        session_screens = [s for s in screens.screens if isinstance(s, SESSION_SCREENS)]

        await sign_out(person)
        idle = person.screen("idle")
        assert screens.current == "idle"
        assert idle.ids.prompt.text == "Tap your badge or touch to sign in"  # her Spanish gone
        assert not any(screen in screens.screens for screen in session_screens)  # built anew
        _assert_nothing_of_her(person, draft)

        await sign_in_by_badge(person, kiosk, JOHNSON_BADGE)
        await person.frames(2)
        assert person.screen("inbox").ids.session_bar.ids.resident_name.text == "D. Johnson"
        assert [row.message_id for row in visible_rows(person)] == ["m-demo-3"]
        _assert_nothing_of_her(person, draft)
        for screen in screens.screens:
            assert not [w for w in screen.walk() if isinstance(w, PhotoThumbnail)]
        photo = person.screen("photo")
        assert photo.texture is None and photo.ids.picture.texture is None
        assert person.screen("message").textures == []

    ui(kiosk, scenario)


def _assert_nothing_of_her(person, draft: str) -> None:
    shown = " ".join(person.texts())
    held = " ".join(everything_held(person.app))
    for text in (*HER_TEXTS, draft):
        assert text not in shown, text
        assert text not in held, text
    assert person.screen("compose").ids.draft.text == ""


def _still_there(person):
    from kivy.core.window import Window

    from kiosk.ui.widgets.still_there import StillThere

    return next((w for w in Window.children if isinstance(w, StillThere)), None)
