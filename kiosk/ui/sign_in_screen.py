"""Signing in: a badge or the ID on the keypad, then the PIN. The core checks; this shows."""

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.keypad import Keypad  # noqa: F401  (registers the kv rule's class)


class SignInScreen(Screen):
    step = StringProperty("identify")
    title = StringProperty("")
    instruction = StringProperty("")
    entered = StringProperty("")  # the ID as typed, or the PIN as dots
    greeting = StringProperty("")
    message = StringProperty("")
    wait = StringProperty("")
    back_text = StringProperty("Back")

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        sign_in = view.sign_in
        self.step = sign_in.step
        self.title = sign_in.title
        self.instruction = sign_in.instruction
        self.entered = sign_in.entered_id if sign_in.step == "identify" else sign_in.pin_mask
        self.greeting = sign_in.greeting
        self.message = sign_in.message
        self.wait = sign_in.wait
        self.back_text = view.words.back
        keypad = self.ids.keypad
        keypad.mode = "id" if sign_in.step == "identify" else "digits"
        keypad.enter_text = sign_in.enter_label
        keypad.backspace_text = view.words.delete
