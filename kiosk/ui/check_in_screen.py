"""Checking in at a lobby station: the confirmation code on the keypad, then the last name on the
keyboard. The core checks; this shows."""

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.children import show_only
from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.keyboard import TouchKeyboard  # noqa: F401  (registers the kv rule's class)
from kiosk.ui.widgets.keypad import Keypad  # noqa: F401


class CheckInScreen(Screen):
    step = StringProperty("code")
    title = StringProperty("")
    instruction = StringProperty("")
    code = StringProperty("")
    name_typed = StringProperty("")  # ``name`` is the Screen's own
    code_label = StringProperty("")
    name_label = StringProperty("")
    message = StringProperty("")
    paused = StringProperty("")
    back_text = StringProperty("Back")
    checking = BooleanProperty(False)

    def on_kv_post(self, base_widget) -> None:
        # The widgets themselves, not the ids' weak proxies: the one off screen must live on.
        self._inputs = {"code": self.ids.keypad.__self__, "name": self.ids.keyboard.__self__}
        self._show_input("code")

    def on_step(self, _screen, step: str) -> None:
        if hasattr(self, "_inputs"):
            self._show_input(step)

    def _show_input(self, step: str) -> None:
        show_only(self.ids.input_area, [self._inputs[step]])

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        check_in, words = view.lobby.check_in, view.words
        if check_in is None:
            return
        self.step = "name" if check_in.step == "name" else "code"
        self.checking = check_in.step == "checking"
        self.title, self.instruction = check_in.title, check_in.instruction
        self.code, self.name_typed = check_in.code, check_in.name
        self.code_label, self.name_label = words.confirmation_code, words.last_name
        self.message, self.paused = check_in.message, check_in.paused
        self.back_text = words.back
        keypad, keyboard = self.ids.keypad, self.ids.keyboard
        keypad.enter_text = keyboard.enter_text = check_in.enter_label
        keypad.backspace_text = keyboard.backspace_text = words.delete
        keyboard.shift_text, keyboard.space_text = words.shift, words.space
        keyboard.symbols_text, keyboard.letters_text = words.symbols, words.letters
        keyboard.layout = view.language
