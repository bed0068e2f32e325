"""Words shown whole: wrapped between words, in a smaller font when the box needs it, never
shortened with an ellipsis and never broken inside a word.

Translations and facility names vary in length ("Check in" is "Registrarme"; a facility may be
called "Riverside County Detention Center"): a label sized for one language must still show
every word of the other, at 1024x768 as at 1280x800.
"""

from __future__ import annotations

from collections.abc import Sequence

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.metrics import sp
from kivy.properties import NumericProperty
from kivy.uix.label import Label

SMALLEST_FONT_SIZE = sp(16)  # still read at arm's length
_STEP = sp(1)


def fitting_font_size(
    texts: Sequence[tuple[str, bool]],
    width: float,
    height: float,
    largest: float,
    smallest: float = SMALLEST_FONT_SIZE,
    font_name: str | None = None,
) -> float:
    """The largest font size from ``largest`` down to ``smallest`` at which the texts, each
    wrapped at ``width`` and stacked, fit: no word wider than ``width`` (Kivy would break it
    inside the word) and all of them no taller than ``height``. ``smallest`` when none does.

    ``texts`` are (text, bold) pairs.
    """
    size = largest
    while size > smallest and not _fits(texts, size, width, height, font_name):
        size = max(smallest, size - _STEP)
    return size


def _fits(
    texts: Sequence[tuple[str, bool]], size: float, width: float, height: float, font_name
) -> bool:
    total = 0.0
    for text, bold in texts:
        if not text.strip():
            continue
        options = {"font_size": size, "bold": bold, "text_size": (max(1, width), None)}
        if font_name:
            options["font_name"] = font_name
        core = CoreLabel(text=text, **options)
        if any(core.get_extents(word)[0] > width for word in text.split()):
            return False
        total += core.render()[1]  # laid out, not drawn
    return total <= height


class FittingLabel(Label):
    """A label whose words always show whole in its box: wrapped at its width, its font made
    smaller (down to ``smallest_font_size``) when they would not fit at ``largest_font_size``.

    Set ``largest_font_size`` where a Label would set ``font_size``; the font size is its own.
    """

    largest_font_size = NumericProperty(sp(26))
    smallest_font_size = NumericProperty(SMALLEST_FONT_SIZE)

    def __init__(self, **kwargs) -> None:
        self._fit_trigger = Clock.create_trigger(self._fit, -1)
        super().__init__(**kwargs)
        for name in ("text", "size", "padding", "bold", "font_name"):
            self.fbind(name, self._fit_trigger)
        self.fbind("largest_font_size", self._fit_trigger)
        self.fbind("smallest_font_size", self._fit_trigger)
        self._fit_trigger()

    def _fit(self, *_args) -> None:
        left, top, right, bottom = self.padding
        width = self.width - left - right
        height = self.height - top - bottom
        self.text_size = (max(1, self.width), max(1, self.height))
        self.font_size = fitting_font_size(
            [(self.text, self.bold)],
            width,
            height,
            self.largest_font_size,
            min(self.smallest_font_size, self.largest_font_size),
            self.font_name,
        )
