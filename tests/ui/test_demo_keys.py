"""The demo's keys stand in for the hardware, and never for the lockdown's combinations."""

from __future__ import annotations

import pytest

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


def test_f4_taps_the_demo_technicians_badge_and_alt_f4_stays_an_attempt(ui, kiosk):
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

    ui(kiosk, scenario)
