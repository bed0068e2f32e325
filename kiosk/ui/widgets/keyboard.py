"""The on-screen keyboard for writing messages: large keys, English or Spanish, no system keyboard.

Each page (lower case, upper case, symbols) is built once per layout and swapped whole on Shift or
123/ABC: a key press never rebuilds widgets or re-renders the other keys' labels, so the character
reaches the screen in the next frame.

Spanish has four rows, like English and like a Spanish physical keyboard: ñ after l, then the
accent key "´", and ¿ ¡ either side of the space bar. The accent is a dead key: tap ´ and it
stays lit (like Shift) until the next key, then a vowel comes out accented, as one character:
´ a → á, Shift ´ a (or ´ Shift a) → Á. Tapping ´ again while it is lit turns it into "¨"
(´ ´ u → ü, as Shift+´ gives ¨ on a physical keyboard); a third tap puts it away. After ´ or ¨
any key that takes no accent (a consonant, the space, a symbol) types just itself: a stray accent
mark is never what a message wants, and ' is its own key. Delete while the accent is lit only
puts the accent away, since that undoes the last tap.
"""

from __future__ import annotations

import unicodedata

from kivy.clock import Clock
from kivy.metrics import dp, sp
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.widgets.fitting import fitting_font_size

# A row is a tuple of keys. A one-character string is a letter key one unit wide; a (text, units)
# pair is a wider letter key, a function key (named below) or, for "gap", empty space. Every row of
# a page adds up to the same units, so the keys line up in columns.
FUNCTION_KEYS = ("shift", "backspace", "enter", "space", "symbols", "letters", "accent", "gap")

_QWERTY = (
    (*"qwertyuiop", ("backspace", 2)),
    (("gap", 0.5), *"asdfghjkl", ("enter", 2.5)),
    (("shift", 2), *"zxcvbnm,.?"),
    (("symbols", 2), "'", ("space", 8), "!"),
)
# Spanish: the same four rows (so the same height), 13 units wide for ñ and the accent key, which
# sit where a Spanish physical keyboard has them; ¿ and ¡ flank the space bar.
_SPANISH = (
    (*"qwertyuiop", ("backspace", 3)),
    (*"asdfghjklñ", ("accent", 1), ("enter", 2)),
    (("shift", 3), *"zxcvbnm,.?"),
    (("symbols", 2), "'", "¿", ("space", 7), "¡", "!"),
)
_SYMBOLS = (
    (*"1234567890", ("backspace", 2)),
    (*'-/:;()$&@"', ("enter", 2)),
    (("gap", 1), *".,?!'%+=*#", ("gap", 1)),
    (("letters", 2), "_", ("space", 8), "~"),
)
_SPANISH_SYMBOLS = (*_SYMBOLS[:2], tuple(".,¿?¡!'%+=*#"), _SYMBOLS[3])

# The dead key's marks and the combining characters they add to a vowel.
ACCENTS = {"´": "\u0301", "¨": "\u0308"}
_NEXT_ACCENT = {"": "´", "´": "¨", "¨": ""}  # each tap on the accent key


def compose(accent: str, char: str) -> str:
    """``char`` with ``accent`` ("´", "¨" or "") on it if it is a vowel, else ``char`` alone."""
    if accent in ACCENTS and len(char) == 1 and char.lower() in "aeiou":
        return unicodedata.normalize("NFC", char + ACCENTS[accent])
    return char


def rows_for(layout: str, page: str) -> tuple:
    """The rows of one page ("lower", "upper" or "symbols") of a layout ("en" or "es")."""
    letters = _SPANISH if layout == "es" else _QWERTY
    if page == "symbols":
        return _SPANISH_SYMBOLS if layout == "es" else _SYMBOLS
    if page == "upper":
        return tuple(tuple(_upper(key) for key in row) for row in letters)
    return letters


def _upper(key):
    if isinstance(key, str):
        return key.upper()
    text, units = key
    return (text.upper(), units) if text not in FUNCTION_KEYS else key


class KeyboardKey(ButtonBehavior, Label):
    """One key: shows its pressed state on touch down and acts on release."""

    kind = StringProperty("char")  # "char" types `value`; otherwise one of FUNCTION_KEYS
    value = StringProperty("")
    active = BooleanProperty(False)  # Shift while it is on, the accent key while it is armed
    primary = BooleanProperty(False)  # the keypad's Enter: the screen's action
    fitted_font_size = NumericProperty(0)  # the kv rule's size, made smaller when a word won't fit

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._fit_trigger = Clock.create_trigger(self._fit, -1)
        if self.kind != "char":
            # Translated words vary in length ("Delete", "Borrar"): shrink a word that won't fit.
            self.fbind("texture_size", self._fit_trigger)
            self.fbind("size", self._refit)
            self.fbind("text", self._refit)

    def _refit(self, *_args) -> None:
        self.fitted_font_size = 0
        self._fit_trigger()

    def _fit(self, *_args) -> None:
        # A word wider than the key would be broken inside it ("Registrarm" / "e"), which the
        # label's own size does not show: its wrapped text is exactly as wide as the key.
        if not self.text or self.width <= 1 or self.fitted_font_size:
            return
        size = fitting_font_size(
            [(self.text, self.bold)],
            self.width - dp(12),
            self.height - dp(8),
            self.font_size,
            sp(16),
            self.font_name,
        )
        if size < self.font_size:
            self.fitted_font_size = size


class TypingEvents:
    """What a keyboard or a keypad tells the screen that owns the text (neither holds it)."""

    __events__ = ("on_text_key", "on_backspace", "on_enter")

    def on_text_key(self, text: str) -> None:
        """A character (or string) to insert at the cursor."""

    def on_backspace(self) -> None:
        """Delete the character before the cursor."""

    def on_enter(self) -> None:
        """Enter: a new line in a message, "Next" or "Sign in" on a keypad."""


class TouchKeyboard(TypingEvents, Widget):
    """A keyboard for messages; the screen owns the text and listens to the events.

    Events: ``on_text_key(text)``, ``on_backspace()``, ``on_enter()``.
    """

    layout = StringProperty("en")  # "en" or "es"; any other language gets the English keys
    page = OptionProperty("letters", options=["letters", "symbols"])
    shifted = BooleanProperty(False)  # one-shot: the next letter is a capital, then lower case
    accent = OptionProperty("", options=["", *ACCENTS])  # armed dead key: goes on the next vowel
    key_height = NumericProperty(dp(88))
    key_spacing = NumericProperty(dp(16))  # ui.md: 16 px between touch targets
    padding = NumericProperty(dp(12))

    # Words on keys, set translated by the screen.
    shift_text = StringProperty("Shift")
    space_text = StringProperty("Space")
    enter_text = StringProperty("New line")
    backspace_text = StringProperty("Delete")
    symbols_text = StringProperty("123")
    letters_text = StringProperty("ABC")

    current = ObjectProperty(None, allownone=True)  # the page in view

    def __init__(self, **kwargs) -> None:
        self._pages: dict[str, BoxLayout] = {}
        self._ready = False  # kwargs and the kv rule set properties before the pages exist
        super().__init__(**kwargs)
        self.fbind("pos", self._place)
        self.fbind("size", self._place)
        self.fbind("key_height", self._resize)
        self.fbind("padding", self._resize)
        self.fbind("key_spacing", self.on_layout)
        for kind in FUNCTION_KEYS:
            if kind not in ("gap", "accent"):
                self.fbind(f"{kind}_text", self._relabel, kind)
        self._ready = True
        self._build()

    def key_for(self, label: str) -> KeyboardKey:
        """The key in view that shows ``label`` (as a person reads it: "a", "A", "Shift")."""
        for key in self._keys(self.current):
            if key.text == label:
                return key
        raise KeyError(f"no key {label!r} on the {self.page} page")

    def on_layout(self, *_args) -> None:
        if self._ready:
            self._build()

    def on_page(self, *_args) -> None:
        self._show()

    def on_shifted(self, *_args) -> None:
        self._show()

    def on_accent(self, *_args) -> None:
        for page in self._pages.values():
            for key in self._keys(page):
                if key.kind == "accent":
                    key.text, key.active = self.accent or "´", bool(self.accent)

    def _build(self) -> None:
        layout = "es" if self.layout == "es" else "en"
        self.accent = ""
        if self.current is not None:
            self.remove_widget(self.current)
            self.current = None
        self._pages = {
            name: self._page(rows_for(layout, name), shift_on=name == "upper")
            for name in ("lower", "upper", "symbols")
        }
        self._resize()
        self._show()

    def _resize(self, *_args) -> None:
        if not self._ready:
            return
        # Rows share the height evenly, so this height gives every key exactly key_height.
        rows = len(self._pages["lower"].children) if self._pages else 0
        self.height = rows * self.key_height + (rows - 1) * self.key_spacing + 2 * self.padding
        self._place()

    def _page(self, rows: tuple, shift_on: bool) -> BoxLayout:
        page = BoxLayout(orientation="vertical", spacing=self.key_spacing)
        for spec in rows:
            row = BoxLayout(spacing=self.key_spacing)
            for key in spec:
                row.add_widget(self._key(key, shift_on))
            page.add_widget(row)
        return page

    def _key(self, spec, shift_on: bool) -> Widget:
        text, units = (spec, 1) if isinstance(spec, str) else spec
        if text == "gap":
            return Widget(size_hint_x=units)
        if text == "accent":
            key = KeyboardKey(
                kind=text, text=self.accent or "´", active=bool(self.accent), size_hint_x=units
            )
        elif text in FUNCTION_KEYS:
            key = KeyboardKey(
                kind=text,
                text=getattr(self, f"{text}_text"),
                active=shift_on and text == "shift",
                size_hint_x=units,
            )
        else:
            key = KeyboardKey(value=text, text=text, size_hint_x=units)
        key.bind(on_release=self._pressed)
        return key

    def _place(self, *_args) -> None:
        # Every page is laid out, shown or not, so swapping pages is only a swap.
        pad = self.padding
        for page in self._pages.values():
            page.pos = (self.x + pad, self.y + pad)
            page.size = (max(0, self.width - 2 * pad), max(0, self.height - 2 * pad))

    def _show(self) -> None:
        name = "symbols" if self.page == "symbols" else "upper" if self.shifted else "lower"
        page = self._pages.get(name)
        if page is None or page is self.current:
            return
        if self.current is not None:
            self.remove_widget(self.current)
        self.add_widget(page)
        self.current = page

    def _pressed(self, key: KeyboardKey) -> None:
        kind = key.kind
        accent = self.accent
        if kind not in ("accent", "shift"):
            self.accent = ""  # any other key uses up the armed accent, or puts it away
        if kind == "char":
            self.dispatch("on_text_key", compose(accent, key.value))
            self.shifted = False
        elif kind == "accent":
            self.accent = _NEXT_ACCENT[accent]
        elif kind == "space":
            self.dispatch("on_text_key", " ")
        elif kind == "backspace":
            if not accent:  # with the accent armed, Delete only puts the accent away
                self.dispatch("on_backspace")
        elif kind == "enter":
            self.dispatch("on_enter")
        elif kind == "shift":
            self.shifted = not self.shifted
        elif kind == "symbols":
            self.shifted = False
            self.page = "symbols"
        elif kind == "letters":
            self.page = "letters"

    def _relabel(self, kind: str, _keyboard, text: str) -> None:
        for page in self._pages.values():
            for key in self._keys(page):
                if key.kind == kind:
                    key.text = text

    @staticmethod
    def _keys(page) -> list[KeyboardKey]:
        if page is None:
            return []
        return [
            key for row in page.children for key in row.children if isinstance(key, KeyboardKey)
        ]
