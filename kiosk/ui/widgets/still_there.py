"""The full-screen "Are you still there?" over a session or a check-in left untouched."""

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

            App.get_running_app().still_here()
        return True

    def show(self, view) -> None:
        """A resident's session, or a visitor checking in at the lobby."""
        words = view.words
        self.title = words.still_there
        self.still_here_text = words.still_here
        if view.session is not None:
            self.countdown = view.session.still_there
            self.detail = view.session.still_there_detail
            self.sign_out_text = words.sign_out_now
        else:
            self.countdown = view.lobby.still_there
            self.detail = view.lobby.still_there_detail
            self.sign_out_text = words.start_over
