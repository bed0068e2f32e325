"""The idle screen: the next-visit notice and how to begin. Housing and lobby share it."""

from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header


class IdleScreen(Screen):
    notice_title = StringProperty("")
    notice_time = StringProperty("")
    notice_who = StringProperty("")
    prompt = StringProperty("")
    banner = StringProperty("")
    banner_label = StringProperty("")
    banner_severity = StringProperty("")
    messages_waiting = StringProperty("")
    connection = StringProperty("")
    paused = StringProperty("")

    def show(self, view) -> None:
        """Take the core's idle view; Kivy redraws only the labels whose text changed."""
        fill_header(self.ids.header, view)
        self.notice_title = view.notice.title
        self.notice_time = view.notice.time
        self.notice_who = view.notice.who
        self.prompt = view.prompt
        self.banner = view.banner
        self.banner_label = view.banner_label
        self.banner_severity = view.banner_severity
        self.messages_waiting = view.messages_waiting
        self.connection = view.connection
        self.paused = view.paused
        if view.lobby is not None and view.lobby.problem:
            self.paused = view.lobby.problem  # why the last check-in could not go on
