"""The resident's inbox: newest first, unread marked, paged from SQLite as they scroll."""

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.screenmanager import Screen

from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.session_bar import SessionBar  # noqa: F401  (kv rule's class)

# Ask for the next page when the list is scrolled to within this fraction of its end.
LOAD_MORE_AT = 0.15


class InboxRowView(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """One message in the list; RecycleView reuses a few of these for thousands of rows."""

    message_id = StringProperty("")
    who = StringProperty("")
    first_line = StringProperty("")
    when = StringProperty("")
    unread = BooleanProperty(False)
    unread_label = StringProperty("")
    status = StringProperty("")


class InboxScreen(Screen):
    unread = StringProperty("")
    empty = StringProperty("")
    title = StringProperty("")
    new_message_text = StringProperty("")
    more = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows = None

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        session = view.session
        self.ids.session_bar.show(session, view.words.sign_out)
        self.title = view.words.messages
        self.new_message_text = view.words.new_message
        self.unread = session.unread
        self.empty = session.inbox_empty if not session.inbox else ""
        self.more = session.inbox_more
        if session.inbox is not self._rows:
            # The same tuple comes every second while nothing changed: no new layout then.
            older_page = bool(self._rows) and session.inbox[: len(self._rows)] == self._rows
            shown = len(self._rows or ())
            self._rows = session.inbox
            rows = self.ids.rows
            rows.data = [
                {
                    "message_id": row.message_id,
                    "who": row.who,
                    "first_line": row.first_line,
                    "when": row.when,
                    "unread": row.unread,
                    "unread_label": row.unread_label,
                    "status": row.status,
                }
                for row in session.inbox
            ]
            if older_page:
                self._keep_place(shown, len(session.inbox))

    def _keep_place(self, before: int, after: int) -> None:
        """Older rows came in below: the rows in view stay where the resident's finger left
        them (scroll_y is a fraction of the height, which just grew)."""
        rows = self.ids.rows
        row_height = rows.layout_manager.default_size[1]
        old_travel = max(0.0, before * row_height - rows.height)
        new_travel = max(1.0, after * row_height - rows.height)
        from_top = (1 - rows.scroll_y) * old_travel
        rows.scroll_y = max(0.0, 1 - from_top / new_travel)

    def scrolled(self, scroll_y: float) -> None:
        if self.more and scroll_y <= LOAD_MORE_AT and self._rows:
            self.dispatch_load_more()

    def dispatch_load_more(self) -> None:
        from kivy.app import App

        App.get_running_app().session_intent("load_more")
