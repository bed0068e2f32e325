"""The technician's maintenance screen in the real app under Xvfb: a technician's badge on the
idle screen, the PIN on the keypad (a wrong one, then the right one), the kiosk's state row by
row, the self-test, Restart asked twice, touches that keep it open, and Close leaving nothing
of it behind. Every step is a touch on the real widgets."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest

from demo.facility import DEMO_BADGE_KEY
from hardware.interfaces import DeviceState
from kiosk.core.credentials import badge_lookup
from kiosk.core.ports import Actions
from kiosk.core.technician import IDLE_CLOSE_S
from tests.core.residents import verifier
from tests.kiosks import apply_config
from tests.ui.housing import demo_kiosk, everything_held
from tests.ui.touches import press, type_keys

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TECH_BADGE, TECH_PIN = "0412345678", "2468"
TECH_NAME = "J. Ruiz"
BROKER = "mqtts://cloud.facility.example:8883"  # configured, never reached: not connected
CHECK_S = 15.0  # a scrypt check or the self-test, on a loaded 2-core machine
SELFTEST_S = 60.0


@pytest.fixture
def actions():
    """What carries out Restart and Reboot: nothing, until a test says so."""
    return Actions()


@pytest.fixture
def kiosk(tmp_path, clock, actions):
    """The demo housing kiosk, whose cloud config names one technician."""
    kiosk = demo_kiosk(tmp_path, clock, actions=actions, brokers=(BROKER,))
    apply_config(
        kiosk,
        {
            "badge_key_b64": base64.b64encode(DEMO_BADGE_KEY).decode(),
            "technicians": [
                {
                    "technician_id": "t-17",
                    "display_name": TECH_NAME,
                    "badge_lookup": badge_lookup(TECH_BADGE, DEMO_BADGE_KEY),
                    "pin_verifier": verifier(TECH_PIN),
                }
            ],
        },
    )
    yield kiosk
    kiosk.close()


def screen(person):
    return person.screen("technician")


async def badge_in(person, kiosk) -> None:
    """The technician's badge on the reader (a repeat within its debounce is not read)."""
    reader = kiosk.devices.badge_reader
    await person.until(lambda: reader.present(TECH_BADGE), timeout=10)
    await person.until(lambda: person.app.root.current == "technician")


async def type_pin(person, pin: str) -> None:
    keypad = screen(person).ids.keypad
    await type_keys(person, keypad, *pin)
    await press(person, keypad.key_for("Enter"))
    await person.until(lambda: screen(person).step != "checking", CHECK_S)


async def open_maintenance(person, kiosk) -> None:
    await badge_in(person, kiosk)
    await type_pin(person, TECH_PIN)
    await person.until(lambda: screen(person).step == "open")


def lines(person) -> dict[str, tuple[str, str]]:
    """The maintenance list as shown: label -> (the state's word, the value)."""
    rows = screen(person).ids.rows.children
    return {row.ids.row_label.text: (_mark(row).text, row.ids.row_value.text) for row in rows}


def _mark(row):
    from kiosk.ui.technician_screen import StateMark

    return next(w for w in row.walk(restrict=True) if isinstance(w, StateMark))


def in_window(widget) -> bool:
    """Whether the widget is in the window's tree (a button taken out is not)."""
    from kivy.core.window import Window

    while widget is not None and widget is not Window:
        widget = widget.parent
    return widget is Window


def test_a_technician_signs_in_reads_the_kiosk_and_runs_the_self_test(ui, kiosk, actions):
    async def scenario(person):
        await badge_in(person, kiosk)
        shown = screen(person)
        assert shown.ids.title.text == f"Technician: {TECH_NAME}"
        assert shown.ids.message.text == "Enter your technician PIN, then Enter."
        assert not in_window(shown.ids.scroll), "the list waits for the PIN"

        keypad = shown.ids.keypad
        await type_keys(person, keypad, "1", "1", "1")
        assert shown.ids.pin_mask.text == "● ● ●"  # dots only, never the digits
        await press(person, keypad.key_for("Delete"))
        assert shown.ids.pin_mask.text == "● ●"
        await type_keys(person, keypad, "1", "1")
        await press(person, keypad.key_for("Enter"))
        await person.until(lambda: shown.ids.message.text == "Wrong PIN. Try again.", CHECK_S)
        assert shown.ids.message.color == person.app.theme.problem
        assert shown.ids.pin_mask.text == ""
        assert "Last errors" not in person.texts()

        await type_pin(person, TECH_PIN)
        await person.until(lambda: shown.step == "open")
        assert in_window(shown.ids.scroll) and not in_window(keypad)
        shown_lines = lines(person)
        assert shown_lines["Camera"][0] == "OK"
        assert shown_lines["Handset"][0] == "OK"
        assert shown_lines["Badge reader"][0] == "OK"
        assert shown_lines["Facility network"] == ("Error", f"not connected ({BROKER})")
        # The refused PIN's event waits in the outbox for the network, which is down.
        assert shown_lines["Outbox"][0] == "Missing"
        assert shown_lines["Outbox"][1].endswith("waiting to be sent")
        assert shown_lines["Kiosk"][1].startswith(kiosk.config.kiosk_id)
        assert {"Schedule version", "Residents version", "Running for"} <= set(shown_lines)
        assert shown_lines["Schedule version"][0] == ""  # a plain fact has no state mark
        assert shown.ids.closes.text == f"Closes in {IDLE_CLOSE_S} s"

        # The self-test: the button says it runs, then the result line says what it found.
        run = shown.ids.selftest
        await person.tap(run)
        await person.until(lambda: run.text == "Running…")
        await person.until(lambda: run.text == "Run self-test", SELFTEST_S)
        assert shown.ids.selftest_result.text == "Self-test: all devices passed"
        assert "Self-test: all devices passed" in person.texts()

        # A device pulled: its row says so in a word, and the self-test names it.
        kiosk.devices.handset.unplug()
        kiosk.devices.hotplug.announce("handset", DeviceState.MISSING, "unplugged")
        await person.until(lambda: lines(person)["Handset"][0] == "Missing")
        await person.tap(run)
        result = shown.ids.selftest_result
        await person.until(lambda: result.text.startswith("Self-test: failed"), SELFTEST_S)
        assert result.text == "Self-test: failed: handset"
        errors = [line.text for line in reversed(shown.ids.errors.children)]
        assert any("handset is now missing" in line for line in errors), errors

        assert shown.ids.errors_title.text == "Last errors"
        actions.reboot = lambda: None  # only now can this kiosk carry out a reboot
        actions.restart = lambda: None
        kiosk.refresh()
        await person.until(lambda: in_window(shown.ids.reboot))
        # The picture shows a row of each state and the last errors.
        handset = next(row for row in shown.ids.rows.children if row.label == "Handset")
        shown.ids.scroll.scroll_y = 0
        await person.frames(2)
        shown.ids.scroll.scroll_to(handset, padding=0, animate=False)
        await person.frames(3)
        person.screenshot(SCREENSHOTS / "technician.png")

    ui(kiosk, scenario)


def test_restart_asks_first_and_touches_keep_the_screen_open(ui, kiosk, clock, actions):
    restarts = []

    async def scenario(person):
        await open_maintenance(person, kiosk)
        shown = screen(person)
        # Nothing on this kiosk carries out a reboot or a restart: neither button is there.
        assert not in_window(shown.ids.reboot) and not in_window(shown.ids.restart)
        actions.restart = lambda: restarts.append("restart")
        kiosk.refresh()
        await person.until(lambda: in_window(shown.ids.restart))
        assert not in_window(shown.ids.reboot)

        # Almost two minutes alone, then a finger scrolls the list: it stays open.
        clock.advance(IDLE_CLOSE_S - 5)
        kiosk.tick()
        await person.until(lambda: shown.ids.closes.text == "Closes in 5 s")
        await scroll(person, shown.ids.scroll)
        await person.until(lambda: shown.ids.closes.text == f"Closes in {IDLE_CLOSE_S} s")
        clock.advance(10)
        kiosk.tick()
        await person.frames(2)
        assert person.app.root.current == "technician"

        # Restart: the first touch only asks; Cancel keeps the kiosk running.
        await person.tap(shown.ids.restart)
        assert shown.ids.confirm_question.text == "Are you sure?"
        assert shown.ids.confirm.opacity == 1 and restarts == []
        await person.tap(shown.ids.close)  # beneath the question: it takes no touch
        assert person.app.root.current == "technician" and shown.confirming == "restart"
        await person.tap(shown.ids.cancel)
        await person.until(lambda: shown.ids.confirm.opacity == 0)
        assert restarts == [] and person.app.root.current == "technician"
        await person.tap(shown.ids.restart)
        await person.tap(shown.ids.confirm_action)
        await person.until(lambda: restarts == ["restart"])
        await person.until(lambda: person.app.root.current == "idle")
        assert kiosk.technician is None

    ui(kiosk, scenario)


async def scroll(person, view) -> None:
    """A finger drags the list up, as a person scrolls: the touch goes down on the list."""
    from kivy.tests.common import UnitTestTouch

    x, y = view.to_window(view.center_x, view.y + view.height * 0.3)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    for step in range(1, 9):
        touch.touch_move(x, y + step * 30)
    touch.touch_up()
    await person.frames(3)


def test_close_leaves_no_pin_and_no_maintenance_row_in_the_window(ui, kiosk):
    async def scenario(person):
        app = person.app
        # Digits typed, then Close: the dots go with the screen.
        await badge_in(person, kiosk)
        await type_keys(person, screen(person).ids.keypad, "2", "4", "6")
        assert screen(person).ids.pin_mask.text == "● ● ●"
        await person.tap(screen(person).ids.close)
        await person.until(lambda: app.root.current == "idle")
        assert not any("●" in text for text in everything_held(app))
        assert not any(TECH_NAME in text for text in everything_held(app))

        # Open, read, Close: nothing of the list stays in any widget.
        await open_maintenance(person, kiosk)
        logging.getLogger("kiosk.test").warning("a warning for the technician's eyes")
        await person.tap(screen(person).ids.selftest)  # a touch: the list is refreshed
        await person.until(lambda: screen(person).ids.errors.children)
        shown = lines(person)
        errors = [line.text for line in screen(person).ids.errors.children]
        assert any("a warning for the technician's eyes" in line for line in errors)
        await person.until(lambda: screen(person).selftest != "running", SELFTEST_S)
        await person.tap(screen(person).ids.close)
        await person.until(lambda: app.root.current == "idle")
        assert kiosk.technician is None
        held = list(everything_held(app))
        private = [
            TECH_NAME,
            "technician's eyes",
            "all devices passed",
            *(value for _state, value in shown.values() if value),
        ]
        for words in private:
            assert not any(words in text for text in held), words
        assert not any(text in held for text in ("Facility network", "Badge reader", "Outbox"))
        assert "Close" not in person.texts()  # the idle screen, not a copy of the old one

    ui(kiosk, scenario)


def test_nothing_is_clipped_at_common_kiosk_sizes_and_larger_text(ui, kiosk, kivy_window, actions):
    async def scenario(person):
        app = person.app
        await badge_in(person, kiosk)
        shown = screen(person)
        await type_keys(person, shown.ids.keypad, "1", "2")
        try:
            for size in SIZES:
                kivy_window.size = size
                for large in (False, True):
                    app.theme.large_text = large
                    await person.frames(3)
                    _check_fits(shown, kivy_window, ("pin", size, large))
                    keys = shown.ids.keypad
                    assert keys.to_window(keys.x, keys.y)[1] >= -1, (size, large)
            app.theme.large_text = False
            kivy_window.size = (1280, 800)
            await person.frames(2)
            await press(person, shown.ids.keypad.key_for("Delete"))
            await press(person, shown.ids.keypad.key_for("Delete"))
            await type_pin(person, TECH_PIN)
            await person.until(lambda: shown.step == "open")
            actions.restart = actions.reboot = lambda: None
            kiosk.refresh()
            for size in SIZES:
                kivy_window.size = size
                for large in (False, True):
                    app.theme.large_text = large
                    for asking in ("", "reboot"):
                        shown.confirming = asking
                        await person.frames(3)
                        _check_fits(shown, kivy_window, ("open", size, large, asking))
        finally:
            shown.confirming = ""
            app.theme.large_text = False
            kivy_window.size = (1280, 800)
            await person.frames(2)

    ui(kiosk, scenario)


SIZES = ((1024, 768), (1920, 1080), (1280, 800))


def _check_fits(shown, window, where) -> None:
    """Every label in view lies inside the window with room for its words; the list's rows
    may lie above or below the view (it scrolls) but never beside it."""
    from kivy.uix.label import Label

    scrolled, header = shown.ids.scrolled.__self__, shown.ids.header.__self__
    for label in shown.walk(restrict=True):
        if not isinstance(label, Label) or not label.text or not _seen(label):
            continue
        if _inside(label, header):
            continue  # every screen's header, measured by its own tests
        x, y = label.to_window(label.x, label.y)
        at = (*where, label.text)
        assert x >= 0 and x + label.width <= window.width + 1, at
        assert label.texture_size[0] <= label.width + 2, at
        if not _inside(label, scrolled):
            assert y >= -1 and y + label.height <= window.height + 1, at


def _seen(widget) -> bool:
    """In the window, and neither it nor anything around it transparent."""
    from kivy.core.window import Window

    while widget is not None and widget is not Window:
        if widget.opacity == 0:
            return False
        widget = widget.parent
    return widget is Window


def _inside(widget, container) -> bool:
    from kivy.core.window import Window

    while widget is not None and widget is not Window:
        if widget is container:
            return True
        widget = widget.parent
    return False
