"""Colours and sizes from ui.md: dark text on light, body text at 7:1 or better, large targets."""

from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.metrics import dp, sp
from kivy.properties import ColorProperty, NumericProperty


def _rgb(hex_colour: str) -> list[float]:
    value = hex_colour.lstrip("#")
    return [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0]


class Theme(EventDispatcher):
    """One per app; the .kv files read every colour and size from here."""

    background = ColorProperty(_rgb("#F4F3EF"))
    surface = ColorProperty(_rgb("#FFFFFF"))
    text = ColorProperty(_rgb("#14171A"))  # 17:1 on the background
    muted = ColorProperty(_rgb("#3D4349"))  # 9.6:1 on the background: still AAA for body text
    line = ColorProperty(_rgb("#8A9099"))
    primary = ColorProperty(_rgb("#0B3D91"))  # white on it: 11:1
    primary_pressed = ColorProperty(_rgb("#061F4A"))
    on_primary = ColorProperty(_rgb("#FFFFFF"))
    header = ColorProperty(_rgb("#E3E1DA"))

    notice_info = ColorProperty(_rgb("#DCE8F7"))  # text on it: 15:1
    notice_warning = ColorProperty(_rgb("#FFE3A3"))  # text on it: 15:1
    notice_lockdown = ColorProperty(_rgb("#7A0E0E"))  # white on it: 11:1

    body = NumericProperty(sp(26))
    heading = NumericProperty(sp(38))
    notice_time = NumericProperty(sp(104))
    notice_who = NumericProperty(sp(52))
    touch_height = NumericProperty(dp(72))
    spacing = NumericProperty(dp(16))
    padding = NumericProperty(dp(24))

    def severity_background(self, severity: str) -> list[float]:
        return {
            "info": self.notice_info,
            "warning": self.notice_warning,
            "lockdown": self.notice_lockdown,
        }.get(severity, self.background)

    def severity_text(self, severity: str) -> list[float]:
        return self.on_primary if severity == "lockdown" else self.text
