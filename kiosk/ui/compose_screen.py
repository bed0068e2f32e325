"""Writing a message on the kiosk's own keyboard: the count against the limit, the cost, Send."""

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.keyboard import TouchKeyboard  # noqa: F401  (kv rule's class)
from kiosk.ui.widgets.session_bar import SessionBar  # noqa: F401  (kv rule's class)


class ComposeScreen(Screen):
    to = StringProperty("")
    count = StringProperty("")
    cost = StringProperty("")
    problem = StringProperty("")
    over_limit = BooleanProperty(False)
    can_send = BooleanProperty(False)
    back_text = StringProperty("")
    send_text = StringProperty("")

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        session = view.session
        self.ids.session_bar.show(session, view.words.sign_out)
        compose = session.compose
        if compose is None:
            return
        words = view.words
        self.back_text, self.send_text = words.back, words.send
        self.to, self.count, self.cost = compose.to, compose.count, compose.cost
        self.problem, self.over_limit = compose.problem, compose.over_limit
        self.can_send = compose.can_send
        keyboard = self.ids.keyboard
        keyboard.layout = view.language
        keyboard.shift_text, keyboard.space_text = words.shift, words.space
        keyboard.enter_text, keyboard.backspace_text = words.new_line, words.delete
        keyboard.symbols_text, keyboard.letters_text = words.symbols, words.letters

    def clear(self) -> None:
        """A new message: an empty box with its cursor showing (no system keyboard opens)."""
        draft = self.ids.draft
        draft.text = ""
        draft.focus = True

    # The keyboard types into the text box at its cursor; the core hears the whole draft.
    def type_text(self, text: str) -> None:
        self.ids.draft.insert_text(text)

    def backspace(self) -> None:
        self.ids.draft.do_backspace()

    def draft_changed(self, text: str) -> None:
        from kivy.app import App

        App.get_running_app().session_intent("set_draft", text)
