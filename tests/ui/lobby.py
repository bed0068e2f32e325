"""Shared steps for the lobby station's UI tests: a lobby kiosk with its schedule, typing the
confirmation code and the last name on the screen's own keys, and searches of everything the
app and the database hold for what a visitor typed or showed the camera."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from kiosk.core.credentials import make_verifier
from kiosk.core.kiosk import Kiosk
from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.ui.touches import press, type_keys

__all__ = [
    "KIOSK_ID",
    "begin_check_in",
    "check_in",
    "database_rows_holding",
    "everything_held",
    "images_held",
    "lobby_kiosk",
    "press",
    "type_keys",
    "verifier",
]

KIOSK_ID = "lobby-01"


@cache
def verifier(code: str) -> str:
    """The schedule's scrypt verifier for ``code`` (about 50 ms each: made once per code)."""
    return make_verifier(code)


def lobby_kiosk(tmp_path: Path, clock, rows: list[dict[str, Any]]) -> Kiosk:
    """A lobby station (simulated camera, no cloud) whose schedule holds ``rows``."""
    config = make_config(
        tmp_path,
        role="lobby",
        kiosk_id=KIOSK_ID,
        kiosk_name="Visitor Lobby · Station 1",
        housing_unit=None,
    )
    kiosk = make_kiosk(config, clock)
    assert kiosk.apply_schedule(1, rows)
    kiosk.tick()
    return kiosk


async def begin_check_in(person) -> Any:
    """From the idle screen: touch "Check in for your visit"; returns the check-in screen."""
    await person.tap(person.screen("idle").ids.prompt)
    await person.until(lambda: person.app.root.current == "check_in")
    screen = person.screen("check_in")
    await person.frames(2)  # the keypad is laid out
    return screen


async def type_code(person, screen, code: str) -> None:
    """On the code step: the code on the keypad, then Next; waits for the keyboard."""
    keypad = screen.ids.keypad
    await type_keys(person, keypad, *code)
    await type_keys(person, keypad, keypad.enter_text)
    await person.until(lambda: screen.step == "name")
    await person.frames(3)  # the keyboard is laid out where the keypad was


async def type_name(person, screen, *letters: str) -> None:
    """On the name step: the last name key by key, then Check in; waits for the check."""
    keyboard = screen.ids.keyboard
    await type_keys(person, keyboard, *letters)
    await type_keys(person, keyboard, keyboard.enter_text)
    app = person.app
    await person.until(lambda: app.root.current != "check_in" or not screen.checking, 10)
    await person.frames(2)


async def check_in(person, screen, code: str, *letters: str) -> None:
    await type_code(person, screen, code)
    await type_name(person, screen, *letters)


def _widgets(app) -> Iterator[Any]:
    """Every widget of the app: each screen (current or not) and the window's overlays."""
    from kivy.core.window import Window

    roots = [*Window.children, *app.root.screens]
    if app._still_there is not None:
        roots.append(app._still_there)
    seen = set()
    for root in roots:
        for widget in root.walk(restrict=False):
            if id(widget) not in seen:
                seen.add(id(widget))
                yield widget


def everything_held(app) -> Iterator[str]:
    """Every string the app's widgets hold, shown or not: their string and list properties."""
    for widget in _widgets(app):
        for name in widget.properties():
            try:
                value = getattr(widget, name)
                yield from _flatten(value)
            except ReferenceError:  # a weak reference to a widget already gone
                continue


def _flatten(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)


def images_held(app) -> Iterator[Any]:
    """Every picture's texture (Image or Picture), in every screen (shown or not) and the
    window's overlays."""
    from kivy.uix.image import Image

    from kiosk.ui.widgets.picture import Picture

    for widget in _widgets(app):
        if isinstance(widget, Image | Picture) and widget.texture is not None:
            yield widget.texture


def database_rows_holding(database, needle: str) -> list[tuple[str, tuple]]:
    """(table, row) for every row of every table with a value containing ``needle`` (any case)."""
    wanted = needle.casefold()
    found = []
    for table in Database(database).table_names():
        for row in database.execute(f"SELECT * FROM [{table}]").fetchall():
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    value = bytes(value).decode("utf-8", "replace")
                if isinstance(value, str) and wanted in value.casefold():
                    found.append((table, row))
                    break
    return found
