"""Colours and sizes from ui.md: dark text on light, body text at 7:1 or better, large targets."""

from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty


def rgb(hex_colour: str) -> list[float]:
    """``#RRGGBB`` as Kivy's ``[r, g, b, 1.0]``."""
    value = hex_colour.lstrip("#")
    return [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0]


LARGE_TEXT_SCALE = 1.3
_SCALED = ("body", "heading", "touch_height")
# White and yellow on black: 21:1 and 19:1.
_HIGH_CONTRAST = {
    "background": rgb("#000000"),
    "surface": rgb("#000000"),
    "text": rgb("#FFFFFF"),
    "muted": rgb("#FFFFFF"),
    "line": rgb("#FFFFFF"),
    "primary": rgb("#FFD400"),
    "primary_pressed": rgb("#FFFFFF"),
    "over_primary": rgb("#000000"),
    "primary_text": rgb("#FFD400"),
    "header": rgb("#1A1A1A"),
    "unread": rgb("#262626"),
    "problem": rgb("#FFD400"),
    "notice_info": rgb("#000000"),
    "notice_warning": rgb("#000000"),
}


class Theme(EventDispatcher):
    """One per app; the .kv files read every colour and size from here."""

    background = ColorProperty(rgb("#F4F3EF"))
    surface = ColorProperty(rgb("#FFFFFF"))
    text = ColorProperty(rgb("#14171A"))  # 17:1 on the background
    muted = ColorProperty(rgb("#3D4349"))  # 9.6:1 on the background: still AAA for body text
    line = ColorProperty(rgb("#8A9099"))
    primary = ColorProperty(rgb("#0B3D91"))  # white on it: 11:1
    primary_pressed = ColorProperty(rgb("#061F4A"))
    over_primary = ColorProperty(rgb("#FFFFFF"))
    primary_text = ColorProperty(rgb("#0B3D91"))  # outlined buttons' words: 10:1 on surface
    header = ColorProperty(rgb("#E3E1DA"))
    unread = ColorProperty(rgb("#E8EEF9"))  # an unread row's background (the word "New" too)
    problem = ColorProperty(rgb("#8B1111"))  # error words: 8.6:1 on the background

    notice_info = ColorProperty(rgb("#DCE8F7"))  # text on it: 15:1
    notice_warning = ColorProperty(rgb("#FFE3A3"))  # text on it: 15:1
    notice_lockdown = ColorProperty(rgb("#7A0E0E"))  # white on it: 11:1

    body = NumericProperty(sp(26))
    heading = NumericProperty(sp(38))
    notice_time = NumericProperty(sp(104))
    notice_who = NumericProperty(sp(52))
    touch_height = NumericProperty(dp(72))
    spacing = NumericProperty(dp(16))
    padding = NumericProperty(dp(24))

    large_text = BooleanProperty(False)
    high_contrast = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._normal = {name: list(getattr(self, name)) for name in _HIGH_CONTRAST}
        self._sizes = {name: getattr(self, name) for name in _SCALED}

    def on_large_text(self, _theme, large: bool) -> None:
        scale = LARGE_TEXT_SCALE if large else 1.0
        for name, size in self._sizes.items():
            setattr(self, name, size * scale)

    def on_high_contrast(self, _theme, high: bool) -> None:
        for name, colour in (_HIGH_CONTRAST if high else self._normal).items():
            setattr(self, name, colour)

    def reset(self) -> None:
        """Back to the defaults: a resident's choices end with their session."""
        self.large_text = False
        self.high_contrast = False

    def severity_background(self, severity: str) -> list[float]:
        return {
            "info": self.notice_info,
            "warning": self.notice_warning,
            "lockdown": self.notice_lockdown,
        }.get(severity, self.background)

    def severity_text(self, severity: str) -> list[float]:
        return self.over_primary if severity == "lockdown" else self.text
