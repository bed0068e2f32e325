"""A visit: the other side large, yourself small, the time left always in view, Hang up."""

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header


class VisitScreen(Screen):
    title = StringProperty("")
    instruction = StringProperty("")
    peer_status = StringProperty("")
    time_left = StringProperty("")
    ends_at = StringProperty("")
    warning = StringProperty("")
    monitoring = StringProperty("")
    privileged = BooleanProperty(False)
    ended = StringProperty("")
    hang_up_text = StringProperty("")
    hang_up_sure = StringProperty("")
    keep_talking_text = StringProperty("")
    end_visit_text = StringProperty("")
    confirming = BooleanProperty(False)  # "End your visit now?" is showing

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        visit, words = view.visit, view.words
        if visit is None:
            return
        self.title, self.instruction = visit.title, visit.instruction
        self.peer_status, self.time_left, self.ends_at = (
            visit.peer_status,
            visit.time_left,
            visit.ends_at,
        )
        self.warning, self.monitoring = visit.warning, visit.monitoring
        self.privileged, self.ended = visit.privileged, visit.ended
        self.hang_up_text, self.hang_up_sure = words.hang_up, words.hang_up_sure
        self.keep_talking_text, self.end_visit_text = words.keep_talking, words.end_visit
        if visit.ended:
            self.confirming = False

    def ask_to_hang_up(self) -> None:
        self.confirming = True

    def keep_talking(self) -> None:
        self.confirming = False
