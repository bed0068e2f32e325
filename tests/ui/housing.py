"""Shared steps for the housing kiosk's UI tests: the demo residents, typing, signing in, and a
search of everything the app holds for a resident's words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from demo.facility import DEMO_BADGES, DEMO_PIN
from demo.seed import seed
from kiosk.core.i18n import Language
from kiosk.core.kiosk import Kiosk
from kiosk.core.ports import Actions
from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.ui.touches import press, type_keys

ALVAREZ = "A1024"  # M. Alvarez: Spanish, 12 credits, two messages (the first with a photo)
JOHNSON = "A2048"  # D. Johnson: English, 3 credits, one message
ALVAREZ_BADGE, JOHNSON_BADGE = DEMO_BADGES
PIN = DEMO_PIN
SPANISH = Language("es")


def es(words: str) -> str:
    """What the Spanish catalog says for ``words`` (the English itself while it lacks them)."""
    return SPANISH.text(words)


def demo_kiosk(tmp_path: Path, clock, actions: Actions | None = None, **overrides) -> Kiosk:
    """A housing kiosk on the demo facility's residents and messages."""
    kiosk = make_kiosk(make_config(tmp_path, **overrides), clock, actions=actions)
    seed(kiosk)
    return kiosk


async def enter(person, keypad) -> None:
    """Touch the keypad's Enter key (Next, Sign in)."""
    await press(person, keypad.key_for(keypad.enter_text))


async def type_id(person, inmate_id: str) -> None:
    """From the idle screen: touch the prompt, type the ID, touch Next."""
    idle = person.screen("idle")
    await person.tap(idle.ids.prompt)
    await person.until(lambda: person.app.root.current == "sign_in")
    keypad = person.screen("sign_in").ids.keypad
    await type_keys(person, keypad, *inmate_id)
    await enter(person, keypad)
    await person.until(lambda: person.screen("sign_in").step == "pin")


async def type_pin(person, pin: str, wait_for: str | None = None) -> None:
    """On the PIN step: type the PIN, touch Sign in; then wait until the check is over."""
    screen = person.screen("sign_in")
    keypad = screen.ids.keypad
    await type_keys(person, keypad, *pin)
    await enter(person, keypad)
    await person.until(
        lambda: person.app.root.current != "sign_in" or screen.step != "checking", 10
    )
    if wait_for is not None:
        await person.until(lambda: person.app.root.current == wait_for, 10)


async def sign_in_by_keypad(person, inmate_id: str = ALVAREZ, pin: str = PIN) -> None:
    await type_id(person, inmate_id)
    await type_pin(person, pin, wait_for="inbox")


async def present_badge(person, kiosk: Kiosk, badge: str) -> None:
    """Hold a wristband to the simulated reader (its events reach the core on the loop)."""
    assert kiosk.devices.badge_reader.present(badge), "the reader did not take the badge"
    await person.until(lambda: person.screen("sign_in").step == "pin")


async def sign_in_by_badge(person, kiosk: Kiosk, badge: str = ALVAREZ_BADGE) -> None:
    await present_badge(person, kiosk, badge)
    await type_pin(person, PIN, wait_for="inbox")


def visible_rows(person):
    """The inbox rows on the screen, top to bottom."""
    rows = person.screen("inbox").ids.rows
    return sorted(rows.layout_manager.children, key=lambda row: -row.y)


async def sign_out(person) -> None:
    screen = person.app.root.current_screen
    await person.tap(screen.ids.session_bar.ids.sign_out)
    await person.until(lambda: person.app.root.current == "idle")


def everything_held(app) -> Iterator[str]:
    """Every string the app's widgets hold, shown or not: each screen (current or not), the
    window's overlays, every widget's string and list properties, RecycleView data and
    TextInput text."""
    from kivy.core.window import Window

    roots = [*Window.children, *app.root.screens]
    if app._still_there is not None:
        roots.append(app._still_there)
    seen = set()
    for root in roots:
        for widget in root.walk(restrict=False):
            if id(widget) in seen:
                continue
            seen.add(id(widget))
            yield from _strings(widget)


def _strings(widget) -> Iterator[str]:
    for name in widget.properties():
        try:
            value = getattr(widget, name)
        except Exception:
            continue
        yield from _flatten(value)
    data = getattr(widget, "data", None)  # a RecycleView's rows
    if isinstance(data, list):
        yield from _flatten(data)


def _flatten(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str | dict | list | tuple):
                yield from _flatten(item)
