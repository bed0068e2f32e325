"""Quick touches for the UI tests: a finger down and up in one frame, through Kivy's input
events (``Driver.tap`` holds the finger for frames; pressed states have tests of their own)."""

from __future__ import annotations


async def type_keys(person, keys, *labels: str) -> None:
    """Tap keys one after another through Kivy's input events, quicker than a person types.

    ``keys`` is a Keypad or a TouchKeyboard (anything with ``key_for(label)``).
    """
    from kivy.tests.common import UnitTestTouch

    for label in labels:
        key = keys.key_for(label)
        touch = UnitTestTouch(*key.to_window(*key.center))
        touch.touch_down()
        touch.touch_up()
    await person.frames(1)


async def press(person, widget) -> None:
    """A quick touch on ``widget`` (``person.tap`` holds it; pressed states have their tests)."""
    from kivy.tests.common import UnitTestTouch

    touch = UnitTestTouch(*widget.to_window(*widget.center))
    touch.touch_down()
    touch.touch_up()
    await person.frames(1)
