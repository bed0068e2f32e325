"""The demo's keys stand in for the hardware, and never for the lockdown's combinations."""

from __future__ import annotations

import pytest

from demo.keys import KEY_F4, DemoKeys
from demo.seed import seed
from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.ui.test_lockdown import _window_id, _x

pytestmark = pytest.mark.ui


@pytest.fixture
def kiosk(tmp_path, clock):
    kiosk = make_kiosk(make_config(tmp_path, demo=True), clock)
    seed(kiosk)
    yield kiosk
    kiosk.close()


@pytest.fixture
def demo_ui(ui, monkeypatch):
    """``ui``, with the app as ``kiosk run --demo`` makes it: the demo's keys handed in."""
    from kiosk.ui import app

    plain = app.KioskApp
    monkeypatch.setattr(
        app, "KioskApp", lambda kiosk: plain(kiosk, keys=DemoKeys.for_devices(kiosk.devices))
    )
    return ui


def test_f4_taps_the_demo_technicians_badge_and_alt_f4_stays_an_attempt(demo_ui, kiosk):
    async def scenario(person):
        window_id = await _window_id()
        await _x("xdotool", "windowfocus", "--sync", str(window_id))
        await _x("xdotool", "key", "--window", str(window_id), "alt+F4")
        await person.frames(3)
        assert kiosk.tamper_attempts["alt_f4"] == 1 and kiosk.technician is None

        await _x("xdotool", "key", "--window", str(window_id), "F4")
        await person.until(lambda: person.app.root.current == "technician")
        assert kiosk.view.technician.name == "J. Ruiz"
        assert kiosk.view.technician.step == "pin"

    demo_ui(kiosk, scenario)


def test_an_app_not_handed_the_demo_keys_reads_no_badge_on_f4(ui, kiosk):
    async def scenario(person):
        from kivy.core.window import Window

        keys, badges = [], []

        def seen(_window, key, *_args):
            keys.append(key)
            return False  # on to the app's own handlers, in the same dispatch

        Window.bind(on_keyboard=seen)
        unsubscribe = kiosk.devices.badge_reader.subscribe(badges.append)
        try:
            window_id = await _window_id()
            await _x("xdotool", "windowfocus", "--sync", str(window_id))
            await _x("xdotool", "key", "--window", str(window_id), "F4")
            await person.until(lambda: KEY_F4 in keys)
        finally:
            Window.unbind(on_keyboard=seen)
            unsubscribe()
        assert badges == []
        assert person.app.root.current == "idle" and kiosk.technician is None

    ui(kiosk, scenario)
