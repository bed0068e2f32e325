"""A large button that shows its pressed state at once (ui.md: within 100 ms)."""

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.behaviors import ButtonBehavior, ToggleButtonBehavior
from kivy.uix.label import Label


class KioskButton(ButtonBehavior, Label):
    """Primary action: filled, darker while pressed."""


class LanguageButton(ToggleButtonBehavior, Label):
    """One language of the switch; the chosen one is filled, the others outlined."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.allow_no_selection = False


class SecondaryButton(ButtonBehavior, Label):
    """Back, Sign out, Cancel: outlined, so the one filled button stays the screen's action.

    Sized by its words, unless a layout gives it its width: then its words wrap to it.
    """

    # The words' width on one line, measured apart: a width taken from the texture would chase
    # the layout's once the words wrap to it (Kivy's "too much iteration").
    words_width = NumericProperty(0)

    def __init__(self, **kwargs) -> None:
        self._measure_trigger = Clock.create_trigger(self._measure, -1)
        super().__init__(**kwargs)
        for name in ("text", "font_size", "bold", "font_name"):
            self.fbind(name, self._measure_trigger)
        self._measure()

    def _measure(self, *_args) -> None:
        core = CoreLabel(font_size=self.font_size, bold=self.bold, font_name=self.font_name)
        lines = self.text.split("\n")
        self.words_width = max(core.get_extents(line)[0] if line else 0 for line in lines)


class DisplayModeButton(ButtonBehavior, Label):
    """Larger text or high contrast: filled while the mode is on."""

    active = BooleanProperty(False)
