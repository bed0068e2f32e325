"""The keypad for an inmate ID, a booking number or a PIN: digits, and in "id" mode letters too.

In "id" mode every letter is in view at once, in alphabetical order beside the digits, so an ID
like "B2026-00123" needs no switching between pages.
"""

from __future__ import annotations

from string import ascii_uppercase

from kivy.metrics import dp
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.ui.widgets.children import show_only
from kiosk.ui.widgets.keyboard import KeyboardKey, TypingEvents

ROWS = 4
LETTER_COLUMNS = 7
DIGIT_COLUMNS = 3
# Letters, then the dash of a booking number; the grid's one spare cell stays empty.
_LETTERS = (*ascii_uppercase, "-")
_DIGITS = (*"123456789", "backspace", "0", "enter")


class Keypad(TypingEvents, AnchorLayout):
    """Large keys for IDs and PINs; the screen owns the text and listens to the events.

    Events: ``on_text_key(text)``, ``on_backspace()``, ``on_enter()``.
    """

    mode = StringProperty("digits")  # "digits" or "id" (digits, letters A-Z and "-")
    enter_text = StringProperty("OK")  # the screen's word for going on: "Next", "Sign in"
    backspace_text = StringProperty("Delete")
    key_height = NumericProperty(dp(88))
    key_spacing = NumericProperty(dp(16))
    # Widest a key gets: a PIN pad on a wide screen stays a pad, centred.
    digit_width = NumericProperty(dp(144))
    letter_width = NumericProperty(dp(104))
    natural_width = NumericProperty(0)  # the keys' width when the keypad has room for it

    def __init__(self, **kwargs) -> None:
        self._ready = False  # kwargs and the kv rule set properties before the keys exist
        super().__init__(**kwargs)
        self.fbind("backspace_text", self._relabel, "backspace")
        self.fbind("enter_text", self._relabel, "enter")
        for name in ("key_height", "key_spacing", "digit_width", "letter_width", "padding"):
            self.fbind(name, self._measure)

    def on_kv_post(self, base_widget) -> None:
        # Only now are the rule's ids there, also when the keypad is a child in another rule.
        self._ready = True
        self._build()

    def key_for(self, label: str) -> KeyboardKey:
        """The key that shows ``label`` ("7", "A", "Delete", or the enter key's text)."""
        for key in self.walk(restrict=True):
            if isinstance(key, KeyboardKey) and key.text == label:
                return key
        raise KeyError(f"no key {label!r} on the keypad")

    def on_mode(self, *_args) -> None:
        if self._ready:
            self._build()

    def _build(self) -> None:
        # Both blocks are made once and only put in or taken out: a badge switches the keypad
        # from the ID to the PIN, and building 50 keys then set off a full garbage collection
        # (0.2 s) in one read out of seven.
        if not hasattr(self, "_letters"):
            self._letters = self._grid(_LETTERS, LETTER_COLUMNS)
            self._digits = self._grid(_DIGITS, DIGIT_COLUMNS)
        wanted = [self._letters, self._digits] if self.mode == "id" else [self._digits]
        show_only(self.ids.content, wanted)
        self._measure()

    def _grid(self, keys: tuple, columns: int) -> GridLayout:
        grid = GridLayout(cols=columns, rows=ROWS)
        for spec in keys:
            grid.add_widget(self._key(spec))
        for _ in range(columns * ROWS - len(keys)):
            grid.add_widget(Widget())
        return grid

    def _key(self, spec: str) -> KeyboardKey:
        if spec == "backspace":
            key = KeyboardKey(kind="backspace", text=self.backspace_text)
        elif spec == "enter":
            key = KeyboardKey(kind="enter", text=self.enter_text, primary=True)
        else:
            key = KeyboardKey(value=spec, text=spec)
        key.bind(on_release=self._pressed)
        return key

    def _measure(self, *_args) -> None:
        if not self._ready:
            return
        grids = self.ids.content.children
        for grid in grids:
            grid.spacing = self.key_spacing
            key_width = self.letter_width if grid.cols == LETTER_COLUMNS else self.digit_width
            # The blocks share the width in proportion to their widths with room to spare.
            grid.size_hint_x = grid.cols * key_width + (grid.cols - 1) * self.key_spacing
        gaps = (len(grids) - 1) * self.ids.content.spacing
        self.natural_width = sum(grid.size_hint_x for grid in grids) + gaps
        self.height = (
            ROWS * self.key_height + (ROWS - 1) * self.key_spacing + sum(self.padding[1::2])
        )

    def _pressed(self, key: KeyboardKey) -> None:
        if key.kind == "char":
            self.dispatch("on_text_key", key.value)
        elif key.kind == "backspace":
            self.dispatch("on_backspace")
        elif key.kind == "enter":
            self.dispatch("on_enter")

    def _relabel(self, kind: str, _keypad, text: str) -> None:
        # Both blocks, shown or not: the one taken out keeps its words for when it returns.
        for grid in (getattr(self, "_letters", None), getattr(self, "_digits", None)):
            for key in grid.children if grid is not None else ():
                if isinstance(key, KeyboardKey) and key.kind == kind:
                    key.text = text
