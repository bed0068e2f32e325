"""The header every screen shares: facility and kiosk name, clock, language switch."""

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.metrics import sp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.widgets.buttons import DisplayModeButton, LanguageButton  # noqa: F401
from kiosk.ui.widgets.fitting import fitting_font_size


class Header(BoxLayout):
    facility_name = StringProperty("")
    kiosk_name = StringProperty("")
    clock = StringProperty("")
    date = StringProperty("")
    language = StringProperty("")
    languages = ListProperty([])  # [(code, name in itself)]
    compact = BooleanProperty(False)  # one line less: the clock without the date
    # The date's own width, measured apart: sized from its label's texture, the column would
    # grow the text box, which grows the texture, which grows the column (30 layout passes).
    date_width = NumericProperty(0)
    DATE_FONT_SIZE = 24  # sp
    # The facility's and the kiosk's names share one font size: the largest (the theme's body
    # size) at which both fit their column whole; at 1024 px the column is narrow.
    names_largest_font_size = NumericProperty(sp(26))
    names_font_size = NumericProperty(0)

    __events__ = ("on_language_chosen",)

    def __init__(self, **kwargs) -> None:
        self._fit_names_trigger = Clock.create_trigger(self._fit_names, -1)
        super().__init__(**kwargs)
        for name in ("facility_name", "kiosk_name", "names_largest_font_size"):
            self.fbind(name, self._fit_names_trigger)

    def on_kv_post(self, _base_widget) -> None:
        self.ids.names.fbind("size", self._fit_names_trigger)

    def _fit_names(self, *_args) -> None:
        names = self.ids.names
        self.names_font_size = fitting_font_size(
            [(self.facility_name, True), (self.kiosk_name, False)],
            names.width,
            names.height,
            self.names_largest_font_size,
        )

    def on_date(self, _header, date: str) -> None:
        label = CoreLabel(text=date, font_size=sp(self.DATE_FONT_SIZE))
        self.date_width = label.get_extents(date)[0] if date else 0

    def on_language_chosen(self, code: str) -> None:
        """Dispatched with the language code a reader tapped."""

    def on_languages(self, _header, languages):
        box = self.ids.language_switch
        box.clear_widgets()
        for code, name in languages:
            button = LanguageButton(text=name, group=f"language-{id(self)}")
            button.language_code = code
            button.state = "down" if code == self.language else "normal"
            button.bind(on_release=self._chosen)
            box.add_widget(button)

    def on_language(self, _header, language):
        for button in self.ids.language_switch.children:
            button.state = "down" if button.language_code == language else "normal"

    def _chosen(self, button):
        self.dispatch("on_language_chosen", button.language_code)


def fill_header(header: Header, view) -> None:
    """The header every screen shares, from the core's view."""
    header.facility_name = view.facility_name
    header.kiosk_name = view.kiosk_name
    header.clock = view.clock
    header.date = view.date
    header.language = view.language
    languages = [list(pair) for pair in view.languages]
    if header.languages != languages:
        header.languages = languages
