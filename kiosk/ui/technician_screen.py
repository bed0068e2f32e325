"""The technician's maintenance screen: the PIN, then the kiosk's state, the self-test, restart
and reboot. Its words are English, the field technicians' working language, whatever the kiosk
shows: none of them go through the translation catalogs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.core.technician import MaintenanceRow
from kiosk.ui.theme import rgb
from kiosk.ui.widgets.children import show_only
from kiosk.ui.widgets.header import fill_header
from kiosk.ui.widgets.keypad import Keypad  # noqa: F401  (registers the kv rule's class)

# Widths in body-text sizes, so that A+ widens them too.
MARK_EMS = 5.8  # "Missing" on its mark
LABEL_EMS = 9.2  # the labels' column: "Residents version" on one line
NARROW_EMS = 28  # a row narrower than this puts each value under its label


def state_word(state: str) -> str:
    """A device's state in a word: the mark's colour is never all that says it."""
    return {"ok": "OK", "missing": "Missing", "error": "Error"}.get(state, state.capitalize())


def state_colours(state: str) -> tuple[list[float], list[float]]:
    """The mark's fill and border; the word on it is dark text, 12:1 or better on each fill."""
    fills = {
        "ok": ("#D3EEDA", "#1E7B34"),
        "missing": ("#FFE3A3", "#9A6700"),
        "error": ("#F6D0D0", "#8B1111"),
    }
    fill, border = fills.get(state, ("#E3E1DA", "#8A9099"))
    return rgb(fill), rgb(border)


class StateMark(Label):
    """OK, Missing or Error: a word on a coloured mark."""

    state = StringProperty("")
    fill = ColorProperty([0, 0, 0, 0])
    border = ColorProperty([0, 0, 0, 0])

    def on_state(self, _mark, state: str) -> None:
        self.text = state_word(state) if state else ""
        self.fill, self.border = state_colours(state) if state else ([0, 0, 0, 0],) * 2


class MaintenanceLine(BoxLayout):
    """One row of the maintenance list: its state, what it is, and its value."""

    label = StringProperty("")
    value = StringProperty("")
    state = StringProperty("")
    narrow = BooleanProperty(False)  # the value under the label rather than beside it

    def on_kv_post(self, base_widget) -> None:
        self._place_label()

    def on_narrow(self, *_args) -> None:
        self._place_label()

    def _place_label(self) -> None:
        label = self.ids.row_label
        # A column of its own beside the value, or the value's whole width above it.
        label.size_hint_x = 1 if self.narrow else None
        if not self.narrow:
            label.width = App.get_running_app().theme.body * LABEL_EMS


class ErrorLine(Label):
    """One of the log's newest warnings or errors, as the log wrote it."""


class AskFirst(AnchorLayout):
    """The "Are you sure?" layer: while it shows, nothing beneath it takes a touch (Close, or
    the button that asked, touched again)."""

    shown = BooleanProperty(False)

    def on_touch_down(self, touch) -> bool:
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True


class TechnicianScreen(Screen):
    step = StringProperty("pin")  # pin | checking | open
    title = StringProperty("")
    pin_mask = StringProperty("")
    message = StringProperty("")
    closes = StringProperty("")
    selftest = StringProperty("")  # "", "running", or what the last self-test found
    can_restart = BooleanProperty(False)
    can_reboot = BooleanProperty(False)
    confirming = StringProperty("")  # "restart" or "reboot" while "Are you sure?" shows

    def on_kv_post(self, base_widget) -> None:
        # The widgets themselves, not the ids' weak proxies: those off screen must live on.
        self._pin_body = self.ids.pin_body.__self__
        self._open_body = self.ids.open_body.__self__
        self._self_test = self.ids.selftest.__self__
        self._selftest_result = self.ids.selftest_result.__self__
        self._restart = self.ids.restart.__self__
        self._reboot = self.ids.reboot.__self__
        self._place()

    def show(self, view) -> None:
        fill_header(self.ids.header, view)
        technician = view.technician
        if technician is None:
            return
        self.step = technician.step
        self.title = f"Technician: {technician.name}"
        # Apart: the font's dots touch, and four would read as a bar.
        self.pin_mask = " ".join(technician.pin_mask)
        self.message = technician.message
        self.closes = f"Closes in {technician.closes_in_s} s"
        self.selftest = technician.selftest
        self.can_restart, self.can_reboot = technician.can_restart, technician.can_reboot
        _fill(self.ids.rows, technician.rows, MaintenanceLine, _put_row)
        errors = technician.errors or ("No warnings or errors since the kiosk started.",)
        _fill(self.ids.errors, errors, ErrorLine, _put_error)
        self._place()

    def on_touch_down(self, touch) -> bool:
        # Any touch, scrolling too: the screen must not close under a technician who reads.
        self._intent("touch")
        return super().on_touch_down(touch)

    def ask(self, action: str) -> None:
        """Restart or Reboot: the first touch only asks "Are you sure?"."""
        self.confirming = action

    def cancel(self) -> None:
        self.confirming = ""

    def confirm(self) -> None:
        action, self.confirming = self.confirming, ""
        if action:
            self._intent(action)

    def _intent(self, name: str, *args) -> None:
        app = App.get_running_app()
        if app is not None:
            app.kiosk.technician_intent(name, *args)

    def _place(self) -> None:
        """The step's body and the actions the kiosk can carry out; a hidden button would still
        take touches, so those that cannot act are taken out."""
        if not hasattr(self, "_pin_body"):
            return
        opened = self.step == "open"
        show_only(self.ids.body, [self._open_body if opened else self._pin_body])
        actions: list[Widget] = [self._self_test, self._selftest_result]
        if self.can_restart:
            actions.append(self._restart)
        if self.can_reboot:
            actions.append(self._reboot)
        show_only(self.ids.actions, actions)
        if not opened:
            self.confirming = ""


def _put_row(line: MaintenanceLine, row: MaintenanceRow) -> None:
    line.label, line.value, line.state = row.label, row.value, row.state


def _put_error(line: ErrorLine, text: str) -> None:
    line.text = text


def _fill(
    container: Widget,
    items: Sequence[Any],
    make: Callable[[], Widget],
    put: Callable[[Any, Any], None],
) -> None:
    """``container`` shows one widget per item, reused in place: the list is refreshed every
    second and under a finger that is scrolling it, which new widgets would interrupt."""
    lines = list(reversed(container.children))
    for line in lines[len(items) :]:
        container.remove_widget(line)
    for index, item in enumerate(items):
        if index < len(lines):
            line = lines[index]
        else:
            line = make()
            container.add_widget(line)
        put(line, item)
