"""A large button that shows its pressed state at once (ui.md: within 100 ms)."""

from kivy.properties import BooleanProperty
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
    """Back, Sign out, Cancel: outlined, so the one filled button stays the screen's action."""


class DisplayModeButton(ButtonBehavior, Label):
    """Larger text or high contrast: filled while the mode is on."""

    active = BooleanProperty(False)
