"""The full-screen "Are you still there?" over a session left untouched, with its countdown."""

from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView


class StillThere(ModalView):
    title = StringProperty("")
    countdown = StringProperty("")
    detail = StringProperty("")  # "Your unsent message will be discarded."
    still_here_text = StringProperty("")
    sign_out_text = StringProperty("")

    def on_touch_down(self, touch) -> bool:
        """Every touch is the warning's (none reaches the screen beneath); any but one on "Sign
        out now" says the resident is still here."""
        super().on_touch_down(touch)
        if not self.ids.sign_out.collide_point(*touch.pos):
            from kivy.app import App

            App.get_running_app().session_intent("touched")
        return True

    def show(self, view) -> None:
        session, words = view.session, view.words
        self.title = words.still_there
        self.countdown = session.still_there
        self.detail = session.still_there_detail
        self.still_here_text = words.still_here
        self.sign_out_text = words.sign_out_now
