"""The bar under the header during a session: whose it is, credits, time left, Sign out."""

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout


class SessionBar(BoxLayout):
    resident_name = StringProperty("")
    credits = StringProperty("")
    time_left = StringProperty("")
    sign_out_text = StringProperty("Sign out")

    __events__ = ("on_sign_out",)

    def on_sign_out(self) -> None:
        """The resident touched Sign out."""

    def show(self, session, sign_out_text: str) -> None:
        self.resident_name = session.resident_name
        self.credits = session.credits
        self.time_left = session.time_left
        self.sign_out_text = sign_out_text
