"""The idle screen as a resident or visitor sees it, in the real app under Xvfb."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.visits import visit_row

pytestmark = pytest.mark.ui
NBSP = "\u00a0"
ONE_THIRTY = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)  # 1:30 PM in Chicago


@pytest.fixture
def housing(tmp_path, clock):
    kiosk = make_kiosk(make_config(tmp_path), clock)
    kiosk.apply_schedule(1, [visit_row(ONE_THIRTY, visit_id="v1")])
    yield kiosk
    kiosk.close()


@pytest.fixture
def lobby(tmp_path, clock):
    config = make_config(
        tmp_path, role="lobby", kiosk_id="lobby-01", kiosk_name="Visitor Lobby · Station 1"
    )
    kiosk = make_kiosk(config, clock)
    kiosk.apply_schedule(
        1,
        [
            visit_row(ONE_THIRTY, visit_id="v1", kind="remote"),
            visit_row(
                ONE_THIRTY.replace(hour=20), visit_id="v2", kind="onsite", inmate_name="C. Resident"
            ),
        ],
    )
    yield kiosk
    kiosk.close()


def test_housing_idle_screen_shows_header_notice_and_prompt(ui, housing):
    async def scenario(person):
        screen = person.screen()
        header = screen.ids.header
        assert header.ids.facility_name.text == "Riverside County Detention Center"
        assert header.ids.kiosk_name.text == "Housing B · Kiosk 1"
        assert header.ids.clock.text == f"1:00{NBSP}PM"
        assert header.ids.date.text == "Monday, November 23"
        assert screen.ids.notice_title.text == "Next video visit at this kiosk"
        assert screen.ids.notice_time.text == f"1:30{NBSP}PM"
        assert screen.ids.notice_who.text == "A. Resident, with B. Visitor at home"
        assert screen.ids.prompt.text == "Tap your badge or touch to sign in"
        # The notice is the largest thing on the idle screen (ui.md).
        sizes = [w.font_size for w in _labels(screen) if w.text]
        assert screen.ids.notice_time.font_size == max(sizes)

    ui(housing, scenario)


def test_lobby_idle_screen_shows_time_only_and_on_site_visits(ui, lobby):
    async def scenario(person):
        screen = person.screen()
        assert screen.ids.prompt.text == "Check in for your visit"
        assert screen.ids.notice_title.text == "Next on-site visit at this station"
        assert (
            screen.ids.notice_time.text == f"2:30{NBSP}PM"
        )  # the remote visit at 1:30 is not the lobby's
        texts = " ".join(person.texts())
        assert "Resident" not in texts  # no resident's name in a lobby

    ui(lobby, scenario)


def test_notice_follows_the_clock_and_the_schedule(ui, housing, clock):
    async def scenario(person):
        screen = person.screen()
        clock.advance(31 * 60)  # 1:31 PM: the visit's window is open and its resident not here
        ready = "Your video visit with B. Visitor, at home, is ready"
        await person.until(lambda: screen.ids.notice_title.text == ready)
        assert screen.ids.notice_who.text == "Pick up the handset"
        assert screen.ids.header.ids.clock.text == f"1:31{NBSP}PM"

        clock.advance(30 * 60)  # 2:01 PM: over, nothing else today
        await person.until(lambda: screen.ids.notice_title.text == "No visits scheduled today")
        assert screen.ids.notice_time.text == ""
        assert "A. Resident" not in person.texts()

        # A new schedule snapshot arrives: the notice changes without a touch.
        housing.apply_schedule(
            2, [visit_row(ONE_THIRTY.replace(hour=21), visit_id="v9", inmate_name="D. Johnson")]
        )
        await person.until(lambda: screen.ids.notice_who.text.startswith("D. Johnson, with"))
        assert screen.ids.notice_time.text == f"3:30{NBSP}PM"

    ui(housing, scenario)


def test_language_switch_by_touch(ui, housing):
    async def scenario(person):
        screen = person.screen()
        switch = screen.ids.header.ids.language_switch
        espanol = next(b for b in switch.children if b.text == "Español")
        english = next(b for b in switch.children if b.text == "English")
        assert english.state == "down"

        touch = await person.press_down(espanol)
        # The press shows at once, before the finger lifts (ui.md: feedback within 100 ms).
        assert espanol.state == "down"
        touch.touch_up()
        await person.frames(2)

        await person.until(lambda: screen.ids.prompt.text.startswith("Acerque"))
        assert screen.ids.notice_title.text == "Próxima visita por video en este quiosco"
        assert screen.ids.notice_who.text == "A. Resident, con B. Visitor desde casa"
        assert screen.ids.notice_time.text == "13:30"
        assert screen.ids.header.ids.date.text == "lunes, 23 de noviembre"
        assert espanol.state == "down" and english.state == "normal"

        await person.tap(english)
        await person.until(lambda: screen.ids.prompt.text == "Tap your badge or touch to sign in")

    ui(housing, scenario)


def test_nothing_is_clipped_at_common_kiosk_sizes_in_both_languages(ui, housing, kivy_window):
    async def scenario(person):
        screen = person.screen()
        for size in ((1280, 800), (1920, 1080), (1024, 768)):
            kivy_window.size = size
            for language in ("en", "es"):
                housing.set_language(language)
                await person.frames(3)
                for label in _labels(screen):
                    if not label.text or label.opacity == 0:
                        continue
                    x, y = label.to_window(label.x, label.y)
                    assert x >= 0 and y >= 0, (size, language, label.text)
                    assert x + label.width <= kivy_window.width + 1, (size, language, label.text)
                    assert label.texture_size[0] <= label.width + 2, (size, language, label.text)
        kivy_window.size = (1280, 800)
        await person.frames(2)

    ui(housing, scenario)


def _labels(root):
    from kivy.uix.label import Label

    return [w for w in root.walk() if isinstance(w, Label)]
