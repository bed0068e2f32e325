"""Choosing whom to write to: the people who have written to the resident."""

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.buttons import KioskButton
from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.session_bar import SessionBar  # noqa: F401  (kv rule's class)


class ContactsScreen(Screen):
    title = StringProperty("")
    empty = StringProperty("")
    back_text = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._contacts = None

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        session = view.session
        self.ids.session_bar.show(session, view.words.sign_out)
        self.title, self.back_text = view.words.write_to, view.words.back
        self.empty = view.words.no_contacts if not session.contacts else ""
        if session.contacts != self._contacts:
            self._contacts = session.contacts
            box = self.ids.contacts
            box.clear_widgets()
            for contact_id, name in session.contacts:
                button = KioskButton(text=name)
                button.contact_id = contact_id
                button.bind(on_release=self._chosen)
                box.add_widget(button)

    def _chosen(self, button) -> None:
        from kivy.app import App

        App.get_running_app().session_intent("write_to", button.contact_id)
