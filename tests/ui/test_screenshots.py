"""The README's screenshots, taken from the real app under Xvfb at 1280x800."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.core.kiosk import Kiosk
from kiosk.demo import seed
from tests.conftest import make_config

pytestmark = pytest.mark.ui
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.parametrize(
    ("role", "language", "name"),
    [
        ("housing", "en", "idle-housing.png"),
        ("housing", "es", "idle-housing-es.png"),
        ("lobby", "en", "idle-lobby.png"),
    ],
)
def test_screenshot_of_the_demo_idle_screen(ui, tmp_path, clock, role, language, name):
    overrides = {"role": role}
    if role == "lobby":
        overrides.update(
            kiosk_id="demo-lobby-01", kiosk_name="Visitor Lobby · Station 1", housing_unit=None
        )
    kiosk = Kiosk.open(make_config(tmp_path, **overrides), clock)
    seed(kiosk)  # the demo facility: a visit five minutes from now
    kiosk.set_language(language)

    async def scenario(person):
        screen = person.screen()
        await person.until(lambda: screen.ids.notice_time.text != "")
        path = person.screenshot(SCREENSHOTS / name)
        assert path.stat().st_size > 10_000  # a real picture, not an empty frame

        from kivy.core.image import Image

        picture = Image.load(str(path), keep_data=True)
        assert (picture.width, picture.height) == (1280, 800)
        # The header band and the primary button are drawn (not a black or blank frame).
        header = picture.read_pixel(20, 20)
        button = picture.read_pixel(640, 770)
        assert header != button and sum(header[:3]) > 2.0

    try:
        ui(kiosk, scenario)
    finally:
        kiosk.close()
