"""What keeps a resident or visitor inside the kiosk: keys, clicks and gestures that would leave it.

The display session (a kiosk compositor, VT switching and the X "zap" off: docs/) stops these
below the app; the app swallows what still reaches it, so neither Kivy (Escape quits, F1 opens
its settings) nor a widget acts on them, and reports each as an attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KEY_BACKSPACE = 8
KEY_TAB = 9
KEY_ESCAPE = 27
KEY_F1 = 282  # opens Kivy's settings panel by default
KEY_F4 = 285
KEY_F12 = 293
KEY_SUPER = (309, 310)  # left and right "Windows" keys: a desktop's menu
KEY_CTRL_ALT = (305, 306, 307, 308)  # right and left Ctrl, right and left Alt

# A press held this long without moving is a long press (a context menu elsewhere).
LONG_PRESS_S = 1.0
# A drag that starts this close to an edge and travels this far inward is an edge swipe (a
# desktop's panels and app switchers live there).
EDGE_PX = 12
SWIPE_PX = 80


def key_attempt(key: int, modifiers: list[str] | tuple[str, ...]) -> str | None:
    """What escape attempt a key press is, or None for a key the kiosk may use."""
    held = set(modifiers)
    if {"ctrl", "alt"} <= held and (key in KEY_CTRL_ALT or KEY_F1 <= key <= KEY_F12):
        # X turns Ctrl+Alt+F1..F12 into VT switches before the app sees the F-key: what
        # reaches it is Ctrl and Alt held together, which nothing in the kiosk uses.
        return "ctrl_alt"
    if {"ctrl", "alt"} <= held and key == KEY_BACKSPACE:
        return "zap"
    if "alt" in held and key == KEY_F4:
        return "alt_f4"
    if "alt" in held and key == KEY_TAB:
        return "alt_tab"
    if key == KEY_ESCAPE:
        return "escape"
    if key == KEY_F1:
        return "f1"
    if key in KEY_SUPER:
        return "super"
    return None


class Lockdown:
    """Swallows escape keys, close requests and right clicks; reports them and long presses
    and edge swipes (which nothing in the kiosk acts on) as attempts."""

    def __init__(
        self,
        window: Any,
        on_attempt: Callable[[str], None],
        monotonic: Callable[[], float],
    ) -> None:
        self._window = window
        self._on_attempt = on_attempt
        self._monotonic = monotonic
        self._handlers: dict[str, Callable[..., bool]] = {
            "on_request_close": self._on_request_close,
            "on_keyboard": self._on_keyboard,
            "on_touch_down": self._on_touch_down,
            "on_touch_up": self._on_touch_up,
        }
        # Handlers bound last run first: these see the events before Kivy's and the widgets'.
        window.bind(**self._handlers)

    def release(self) -> None:
        self._window.unbind(**self._handlers)

    def _on_request_close(self, *args: Any, **kwargs: Any) -> bool:
        self._on_attempt("window_close")
        return True  # True keeps the window open

    def _on_keyboard(
        self, window: Any, key: int, scancode: int = 0, codepoint: Any = None, modifiers: Any = ()
    ) -> bool:
        attempt = key_attempt(key, modifiers or ())
        if attempt is None:
            return False
        self._on_attempt(attempt)
        return True

    def _on_touch_down(self, window: Any, touch: Any) -> bool:
        button = getattr(touch, "button", None)
        if button is not None and button != "left" and not button.startswith("scroll"):
            self._on_attempt("right_click" if button == "right" else "other_click")
            return True  # a touch screen has no second button: nothing may act on it
        touch.ud["lockdown_down_at"] = self._monotonic()
        return False

    def _on_touch_up(self, window: Any, touch: Any) -> bool:
        down_at = touch.ud.get("lockdown_down_at")
        if down_at is None:
            return False
        width, height = window.size
        x0, y0 = touch.opos
        dx, dy = touch.x - x0, touch.y - y0
        moved = max(abs(dx), abs(dy))
        # Seen, never swallowed: the kiosk itself acts on neither, and the touch may be a
        # resident's slow tap or a scroll that began near the bezel.
        if self._monotonic() - down_at >= LONG_PRESS_S and moved < EDGE_PX:
            self._on_attempt("long_press")
        elif (
            (x0 <= EDGE_PX and dx >= SWIPE_PX)
            or (x0 >= width - EDGE_PX and -dx >= SWIPE_PX)
            or (y0 <= EDGE_PX and dy >= SWIPE_PX)
            or (y0 >= height - EDGE_PX and -dy >= SWIPE_PX)
        ):
            self._on_attempt("edge_swipe")
        return False
