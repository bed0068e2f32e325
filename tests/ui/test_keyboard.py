"""The on-screen keyboard and the ID/PIN keypad, touched key by key in the real app under Xvfb."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_config
from tests.kiosks import make_kiosk

pytestmark = pytest.mark.ui
SCREENSHOTS = Path("/tmp")
KEY_HEIGHT = 88  # ui.md: keypad and keyboard keys at least 88 px
KEY_GAP = 16  # ui.md: 16 px between touch targets


@pytest.fixture
def kiosk(tmp_path, clock):
    kiosk = make_kiosk(make_config(tmp_path), clock)
    yield kiosk
    kiosk.close()


def _mount(person, widget):
    """Put ``widget`` at the bottom of the idle screen under a text field wired to its typing."""
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.textinput import TextInput

    field = TextInput(size_hint=(0.9, None), height=120, pos_hint={"center_x": 0.5, "top": 0.98})
    widget.size_hint_x = 1
    widget.pos_hint = {"x": 0, "y": 0}
    widget.bind(
        on_text_key=lambda _w, text: field.insert_text(text),
        on_backspace=lambda _w: field.do_backspace(),
    )
    overlay = FloatLayout()
    overlay.add_widget(field)
    overlay.add_widget(widget)
    person.screen().add_widget(overlay)
    return field, overlay


async def _type(person, widget, *labels):
    """Tap keys one after the other through Kivy's input events, quicker than a person types.

    ``person.tap`` waits three frames a key; the pressed state gets its own test below.
    """
    from kivy.tests.common import UnitTestTouch

    for label in labels:
        key = widget.key_for(label)
        touch = UnitTestTouch(*key.to_window(*key.center))
        touch.touch_down()
        touch.touch_up()
    await person.frames(1)


def _keys(widget):
    from kiosk.ui.widgets.keyboard import KeyboardKey

    return [key for key in widget.walk(restrict=True) if isinstance(key, KeyboardKey)]


def _check_key_geometry(widget, window_width):
    """Every key in view is tall enough, inside the widget and the window, and clear of the rest."""
    keys = _keys(widget)
    assert keys
    boxes = []
    for key in keys:
        x, y = key.to_window(key.x, key.y)
        assert key.height >= KEY_HEIGHT - 0.5, (key.text, key.height)
        assert widget.x - 0.5 <= key.x and key.right <= widget.right + 0.5, key.text
        assert x >= -0.5 and x + key.width <= window_width + 0.5, (key.text, window_width)
        # The label is readable: it fits its key rather than spilling over the edge.
        assert key.texture_size[0] <= key.width and key.texture_size[1] <= key.height, key.text
        boxes.append((x, y, x + key.width, y + key.height, key.text))
    for i, (x1, y1, r1, t1, a) in enumerate(boxes):
        for x2, y2, r2, t2, b in boxes[i + 1 :]:
            apart = max(x2 - r1, x1 - r2, y2 - t1, y1 - t2)
            assert apart >= KEY_GAP - 0.5, (a, b, apart)


def test_keyboard_types_a_message_in_english_and_spanish(ui, kiosk, kivy_window):
    async def scenario(person):
        from kiosk.ui.widgets.keyboard import TouchKeyboard

        keyboard = TouchKeyboard()
        field, overlay = _mount(person, keyboard)
        keyboard.bind(on_enter=lambda _w: field.insert_text("\n"))
        await person.frames(3)
        try:
            await person.tap(keyboard.key_for("h"))
            await person.tap(keyboard.key_for("i"))
            assert field.text == "hi"

            # The pressed state shows while the finger is still down, before anything is typed.
            key = keyboard.key_for("a")
            touch = await person.press_down(key)
            assert key.state == "down"
            assert field.text == "hi"
            touch.touch_up()
            await person.frames(2)
            assert key.state == "normal"
            assert field.text == "hia"

            await _type(person, keyboard, "Delete", "Space", "Shift")
            assert keyboard.key_for("Shift").active  # on: filled, and the letters are capitals
            person.screenshot(SCREENSHOTS / "keyboard_en_shift.png")
            await _type(person, keyboard, "H", "i")
            assert field.text == "hi Hi"  # Shift holds for one letter only
            await _type(person, keyboard, "Shift", "Shift")
            assert not keyboard.shifted and keyboard.key_for("a")

            await _type(person, keyboard, "123", "1", "@", "ABC", "New line", "o")
            assert field.text == "hi Hi1@\no"
            person.screenshot(SCREENSHOTS / "keyboard_en.png")

            # The screen translates the words on the keys; the keys stay where they are.
            keyboard.backspace_text = "Borrar"
            keyboard.layout = "es"
            await person.frames(2)
            field.text = ""
            with pytest.raises(KeyError):
                keyboard.key_for("á")  # no accent row: the accent is a dead key, as on a PC
            # The dead key: ´ stays lit (like Shift) until the vowel, which comes out accented.
            await _type(person, keyboard, "ñ", "´")
            accent = keyboard.key_for("´")
            assert accent.active and field.text == "ñ"
            await _type(person, keyboard, "a")
            assert field.text == "ñá" and not accent.active
            await _type(person, keyboard, "Borrar", "¿", "Shift", "´", "A")
            assert field.text == "ñ¿Á"
            await _type(person, keyboard, "´", "´")  # a second tap turns ´ into ¨
            assert keyboard.key_for("¨").active
            await _type(person, keyboard, "u", "¡")
            assert field.text == "ñ¿Áü¡"
            # A key that takes no accent types just itself; Delete only puts the accent away.
            await _type(person, keyboard, "´", "n", "´", "Borrar", "´", "´", "¨", "e")
            assert field.text == "ñ¿Áü¡ne" and not keyboard.accent
            await _type(person, keyboard, "123", "¿", "¡", "ABC")
            assert field.text == "ñ¿Áü¡ne¿¡"
            with pytest.raises(KeyError):
                keyboard.key_for("Delete")
            keyboard.shift_text, keyboard.space_text = "Mayús", "Espacio"
            keyboard.enter_text = "Nueva línea"
            await _type(person, keyboard, "´")
            await person.frames(2)
            person.screenshot(SCREENSHOTS / "keyboard_es.png")  # with ´ lit, waiting for a vowel
            await _type(person, keyboard, "o")
            assert field.text.endswith("¡ó")
        finally:
            person.screen().remove_widget(overlay)
            await person.frames(1)

        # Every key of every page is large, apart and inside the window at each kiosk size, with
        # the Spanish words, which run longer than the English.
        spanish = dict(
            layout="es",
            shift_text="Mayús",
            space_text="Espacio",
            enter_text="Nueva línea",
            backspace_text="Borrar",
        )
        keyboards = [TouchKeyboard(), TouchKeyboard(**spanish)]
        _field, overlay = _mount(person, keyboards[0])
        overlay.add_widget(keyboards[1])  # stacked: each is measured on its own
        keyboards[1].pos_hint, keyboards[1].size_hint_x = {"x": 0, "y": 0}, 1
        try:
            for size in ((1024, 768), (1920, 1080), (1280, 800)):
                kivy_window.size = size
                for page, shifted in (("letters", False), ("letters", True), ("symbols", False)):
                    for keyboard in keyboards:
                        keyboard.page, keyboard.shifted = page, shifted
                    await person.frames(2)
                    for keyboard in keyboards:
                        _check_key_geometry(keyboard, kivy_window.width)
                        assert keyboard.height < 0.7 * kivy_window.height  # room for the message
                    # Spanish is four rows like English: the compose screen keeps its message.
                    assert keyboards[1].height == keyboards[0].height == 4 * 88 + 3 * 16 + 2 * 12
                if size == (1024, 768):
                    person.screenshot(SCREENSHOTS / "keyboard_es_1024.png")
        finally:
            kivy_window.size = (1280, 800)
            person.screen().remove_widget(overlay)
            await person.frames(1)

    ui(kiosk, scenario)


def test_accent_key_composes_one_character():
    from kiosk.ui.widgets.keyboard import compose, rows_for

    assert [compose("´", c) for c in "aeiouAEIOU"] == list("áéíóúÁÉÍÓÚ")
    assert compose("¨", "u") + compose("¨", "U") == "üÜ"
    assert compose("´", "n") + compose("´", " ") + compose("", "a") == "n a"
    for page in ("lower", "upper", "symbols"):
        assert len(rows_for("es", page)) == len(rows_for("en", page)) == 4


def test_keypad_types_an_inmate_id_and_a_pin(ui, kiosk, kivy_window):
    async def scenario(person):
        from kiosk.ui.widgets.keypad import Keypad

        keypad = Keypad(mode="id", enter_text="Next")
        field, overlay = _mount(person, keypad)
        entered = []
        keypad.bind(on_enter=lambda _w: entered.append(field.text))
        await person.frames(3)
        try:
            await _type(person, keypad, "A", "1", "0", "2", "4", "Next")
            assert entered == ["A1024"]
            field.text = ""
            await _type(person, keypad, "B", "2", "-", "0", "1", "Delete")
            assert field.text == "B2-0"

            key = keypad.key_for("7")
            touch = await person.press_down(key)
            assert key.state == "down"
            touch.touch_up()
            await person.frames(2)
            person.screenshot(SCREENSHOTS / "keypad_id.png")

            keypad.mode = "digits"
            keypad.enter_text = "Sign in"
            await person.frames(3)
            with pytest.raises(KeyError):
                keypad.key_for("A")
            field.text = ""
            await _type(person, keypad, "4", "8", "1", "9", "Delete", "6", "Sign in")
            assert entered[-1] == "4816"
            person.screenshot(SCREENSHOTS / "keypad.png")

            # Spanish words, longer than the English, still fit their keys at every size.
            keypad.backspace_text = "Borrar"
            keypad.enter_text = "Iniciar sesión"
            for mode in ("digits", "id"):
                keypad.mode = mode
                for size in ((1024, 768), (1920, 1080), (1280, 800)):
                    kivy_window.size = size
                    await person.frames(2)
                    _check_key_geometry(keypad, kivy_window.width)
            person.screenshot(SCREENSHOTS / "keypad_id_es.png")
        finally:
            kivy_window.size = (1280, 800)
            person.screen().remove_widget(overlay)
            await person.frames(2)

    ui(kiosk, scenario)
