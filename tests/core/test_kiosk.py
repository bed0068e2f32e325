"""The headless kiosk: what the idle screen would show, and how it follows time and schedule."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from demo.facility import DEMO_BADGE_KEY, DEMO_BADGES, DEMO_PIN
from demo.seed import seed
from hardware.interfaces import DeviceState
from kiosk.config import KioskConfig
from kiosk.core.clock import FakeClock
from kiosk.core.credentials import badge_lookup, check_verifier
from kiosk.core.kiosk import Kiosk, KioskView
from kiosk.store.sealed_secrets import SealedSecrets
from tests.conftest import make_config
from tests.kiosks import make_kiosk
from tests.visits import visit_row

NBSP = "\u00a0"
START = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # the ``clock`` fixture's 1:00 PM in Chicago


class Recorder:
    """A view listener that keeps every view it is given."""

    def __init__(self) -> None:
        self.views: list[KioskView] = []

    def __call__(self, view: KioskView) -> None:
        self.views.append(view)


@pytest.fixture
def opened() -> Iterator[Callable[..., Kiosk]]:
    """Open kiosks, closed again after the test."""
    kiosks: list[Kiosk] = []

    def open_kiosk(config: KioskConfig, clock: FakeClock) -> Kiosk:
        kiosk = make_kiosk(config, clock)
        kiosks.append(kiosk)
        return kiosk

    yield open_kiosk
    for kiosk in kiosks:
        kiosk.close()


@pytest.fixture
def kiosk(opened: Callable[..., Kiosk], config: KioskConfig, clock: FakeClock) -> Kiosk:
    return opened(config, clock)


def test_the_core_never_imports_kivy() -> None:
    # In a fresh interpreter: the UI tests may have imported Kivy into this one.
    code = (
        "import sys, kiosk.core.kiosk, demo.seed, launch.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kivy'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_view_shows_names_and_the_facilitys_local_time(kiosk: Kiosk) -> None:
    view = kiosk.view
    assert view.facility_name == "Riverside County Detention Center"
    assert view.kiosk_name == "Housing B · Kiosk 1"
    assert view.clock == f"1:00{NBSP}PM"  # 19:00 UTC in Chicago
    assert view.date == "Monday, November 23"
    assert view.role == "housing"
    assert view.prompt == "Tap your badge or touch to sign in"
    assert view.notice.sentence == "No visits scheduled today"
    assert view.language == "en"
    assert view.languages == (("en", "English"), ("es", "Español"))


def test_opening_creates_the_database_in_the_data_folder(kiosk: Kiosk, config: KioskConfig) -> None:
    assert config.database_path.is_file()


def test_a_lobby_kiosk_prompts_for_check_in(
    opened: Callable[..., Kiosk], tmp_path: Path, clock: FakeClock
) -> None:
    lobby = opened(make_config(tmp_path, role="lobby"), clock)
    assert lobby.view.prompt == "Check in for your visit"


def test_apply_schedule_updates_the_notice_and_notifies_once(kiosk: Kiosk) -> None:
    seen = Recorder()
    kiosk.subscribe(seen)

    assert kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=30))]) is True

    assert len(seen.views) == 1
    assert seen.views[0] is kiosk.view
    assert kiosk.view.notice.sentence == (
        f"Next video visit at this kiosk: 1:30{NBSP}PM — A. Resident, with B. Visitor at home"
    )
    assert kiosk.schedule_version == 1


def test_a_schedule_that_changes_nothing_visible_notifies_nobody(kiosk: Kiosk) -> None:
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=30))])
    seen = Recorder()
    kiosk.subscribe(seen)
    assert kiosk.apply_schedule(2, [visit_row(START + timedelta(minutes=30))]) is True
    assert seen.views == []
    assert kiosk.schedule_version == 2


def test_a_lower_schedule_version_is_ignored(kiosk: Kiosk) -> None:
    kiosk.apply_schedule(5, [visit_row(START + timedelta(minutes=30))])
    before = kiosk.view
    seen = Recorder()
    kiosk.subscribe(seen)

    older = [visit_row(START + timedelta(minutes=10), inmate_name="O. Ld")]
    assert kiosk.apply_schedule(4, older) is False

    assert seen.views == []
    assert kiosk.view == before
    assert kiosk.schedule_version == 5


def test_the_schedule_survives_a_restart(
    opened: Callable[..., Kiosk], config: KioskConfig, clock: FakeClock
) -> None:
    first = make_kiosk(config, clock)
    first.apply_schedule(3, [visit_row(START + timedelta(minutes=30))])
    first.close()
    again = opened(config, clock)
    assert again.view.notice.time == f"1:30{NBSP}PM"
    assert again.schedule_version == 3


def test_unsubscribed_listeners_are_not_called(kiosk: Kiosk) -> None:
    seen = Recorder()
    unsubscribe = kiosk.subscribe(seen)
    unsubscribe()
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=30))])
    assert seen.views == []


def test_a_failing_listener_does_not_stop_the_others(kiosk: Kiosk) -> None:
    def broken(view: KioskView) -> None:
        raise RuntimeError("boom")

    seen = Recorder()
    kiosk.subscribe(broken)
    kiosk.subscribe(seen)
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=30))])
    assert len(seen.views) == 1


def test_set_language_switches_every_text(kiosk: Kiosk) -> None:
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=30))])
    seen = Recorder()
    kiosk.subscribe(seen)

    kiosk.set_language("es")

    view = kiosk.view
    assert len(seen.views) == 1
    assert view.language == "es"
    assert view.clock == "13:00"
    assert view.date == "lunes, 23 de noviembre"
    assert view.notice.sentence == (
        "Próxima visita por video en este quiosco: 13:30 — A. Resident, con B. Visitor desde casa"
    )
    assert view.prompt == "Acerque su brazalete o toque la pantalla para entrar"
    # Proper names stay as they are; each language is still named in itself.
    assert view.facility_name == "Riverside County Detention Center"
    assert view.languages == (("en", "English"), ("es", "Español"))

    kiosk.set_language("en")
    assert kiosk.view.clock == f"1:00{NBSP}PM"
    assert kiosk.view.prompt == "Tap your badge or touch to sign in"


@pytest.mark.parametrize("code", ["fr", "", "ES", "english"])
def test_an_unknown_language_raises_and_changes_nothing(kiosk: Kiosk, code: str) -> None:
    before = kiosk.view
    with pytest.raises(ValueError, match="not offered"):
        kiosk.set_language(code)
    assert kiosk.view == before


def test_a_language_the_kiosk_does_not_offer_is_refused(
    opened: Callable[..., Kiosk], tmp_path: Path, clock: FakeClock
) -> None:
    english_only = opened(make_config(tmp_path, languages=("en",)), clock)
    with pytest.raises(ValueError):
        english_only.set_language("es")
    assert english_only.view.languages == (("en", "English"),)


def test_tick_after_time_passes_updates_the_clock(kiosk: Kiosk, clock: FakeClock) -> None:
    seen = Recorder()
    kiosk.subscribe(seen)
    clock.advance(60)
    kiosk.tick()
    assert [view.clock for view in seen.views] == [f"1:01{NBSP}PM"]


def test_tick_within_the_same_minute_calls_nobody(kiosk: Kiosk, clock: FakeClock) -> None:
    seen = Recorder()
    kiosk.subscribe(seen)
    for _ in range(59):
        clock.advance(1)
        kiosk.tick()
    assert seen.views == []
    clock.advance(1)
    kiosk.tick()
    assert len(seen.views) == 1


def test_tick_past_a_visits_start_and_end_updates_the_notice(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=15), minutes=30)])
    assert kiosk.view.notice.title == "Next video visit at this kiosk"

    clock.advance(5 * 60)  # the join window opens 10 minutes before the start
    kiosk.tick()
    notice = kiosk.view.notice
    assert (notice.title, notice.time, notice.who) == (
        "Your video visit with B. Visitor, at home, is ready",
        "",
        "Pick up the handset",
    )

    clock.advance(40 * 60)
    kiosk.tick()
    assert kiosk.view.notice.sentence == "No visits scheduled today"
    assert kiosk.view.clock == f"1:45{NBSP}PM"
    assert kiosk.view.screen == "idle" and kiosk.view.visit is None


def test_the_date_turns_at_the_facilitys_midnight(kiosk: Kiosk, clock: FakeClock) -> None:
    clock.set(datetime(2026, 11, 24, 5, 59, 59, tzinfo=UTC))  # 11:59:59 PM in Chicago
    kiosk.tick()
    assert kiosk.view.date == "Monday, November 23"
    clock.advance(1)
    kiosk.tick()
    assert kiosk.view.date == "Tuesday, November 24"
    assert kiosk.view.clock == f"12:00{NBSP}AM"


async def settle(rounds: int = 20) -> None:
    """Let the loop run what is ready (the kiosk's task), without moving the fake clock."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def count_ticks(kiosk: Kiosk) -> list[int]:
    """Count the kiosk's ticks by wrapping its ``tick``."""
    ticks = [0]
    real_tick = kiosk.tick

    def counted() -> None:
        ticks[0] += 1
        real_tick()

    kiosk.tick = counted  # type: ignore[method-assign]
    return ticks


def test_run_ticks_as_the_fake_clock_moves_and_stops_the_devices_when_cancelled(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    ticks = count_ticks(kiosk)
    seen = Recorder()
    kiosk.subscribe(seen)

    async def scenario() -> None:
        task = asyncio.create_task(kiosk.run())
        await settle()
        assert ticks[0] == 1  # one tick on start
        # The camera stays off while idle: nobody is filmed, and an idle kiosk spends no CPU.
        assert kiosk.devices.camera.latest_frame() is None
        assert kiosk.devices.handset.state == DeviceState.OK
        assert kiosk.devices.badge_reader.state == DeviceState.OK

        await settle()
        assert ticks[0] == 1  # the fake clock has not moved: no tick

        clock.advance(1)
        await settle()
        assert ticks[0] == 2
        assert seen.views == []  # 1:00:01 PM still reads 1:00 PM

        clock.advance(59)
        await settle()
        assert ticks[0] == 3
        assert [view.clock for view in seen.views] == [f"1:01{NBSP}PM"]

        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())

    assert kiosk.devices.camera.state == DeviceState.MISSING
    assert kiosk.devices.handset.state == DeviceState.MISSING
    assert kiosk.devices.badge_reader.state == DeviceState.MISSING


def test_run_ticks_on_the_turn_of_each_wall_clock_second(
    opened: Callable[..., Kiosk], config: KioskConfig
) -> None:
    clock = FakeClock(START + timedelta(milliseconds=700))
    kiosk = opened(config, clock)
    ticks = count_ticks(kiosk)

    async def scenario() -> None:
        task = asyncio.create_task(kiosk.run())
        await settle()
        assert ticks[0] == 1
        clock.advance(0.2)  # 19:00:00.9: the second has not turned
        await settle()
        assert ticks[0] == 1
        clock.advance(0.1)  # 19:00:01.0
        await settle()
        assert ticks[0] == 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_run_shows_a_visit_starting_as_time_passes(kiosk: Kiosk, clock: FakeClock) -> None:
    kiosk.apply_schedule(1, [visit_row(START + timedelta(minutes=2))])

    async def scenario() -> None:
        task = asyncio.create_task(kiosk.run())
        await settle()
        for _ in range(120):
            clock.advance(1)
            await settle(5)
        # Its join window is open: the notice calls its resident to the handset.
        assert kiosk.view.notice.title == "Your video visit with B. Visitor, at home, is ready"
        assert kiosk.view.clock == f"1:02{NBSP}PM"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


def test_two_kiosks_in_one_process_do_not_affect_each_other(
    opened: Callable[..., Kiosk], tmp_path: Path
) -> None:
    chicago_config = make_config(tmp_path / "a")
    madrid_config = make_config(
        tmp_path / "b",
        kiosk_id="es-hu-01",
        kiosk_name="Módulo 2",
        facility_name="Centro Penitenciario",
        timezone="Europe/Madrid",
        language="es",
    )
    assert chicago_config.database_path != madrid_config.database_path
    chicago_clock, madrid_clock = FakeClock(START), FakeClock(START)
    chicago = opened(chicago_config, chicago_clock)
    madrid = opened(madrid_config, madrid_clock)
    chicago_seen, madrid_seen = Recorder(), Recorder()
    chicago.subscribe(chicago_seen)
    madrid.subscribe(madrid_seen)

    chicago.apply_schedule(1, [visit_row(START + timedelta(minutes=30))])

    assert chicago.view.notice.sentence == (
        f"Next video visit at this kiosk: 1:30{NBSP}PM — A. Resident, with B. Visitor at home"
    )
    assert madrid.view.notice.sentence == "No hay visitas programadas para hoy"
    assert madrid.schedule_version is None
    assert madrid_seen.views == []
    assert chicago.view.clock == f"1:00{NBSP}PM"
    assert madrid.view.clock == "20:00"
    assert madrid.view.facility_name == "Centro Penitenciario"

    madrid.set_language("en")
    chicago.set_language("es")
    assert madrid.view.clock == f"8:00{NBSP}PM"
    assert chicago.view.clock == "13:00"
    assert len(chicago_seen.views) == 2 and len(madrid_seen.views) == 1

    chicago.record_tamper("escape")
    assert madrid.tamper_attempts == {}

    async def scenario() -> None:
        chicago_task = asyncio.create_task(chicago.run())
        madrid_task = asyncio.create_task(madrid.run())
        await settle()
        assert chicago.devices.camera is not madrid.devices.camera
        chicago_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await chicago_task
        assert chicago.devices.handset.state == DeviceState.MISSING
        assert madrid.devices.handset.state == DeviceState.OK
        madrid_clock.advance(60)  # only Madrid's clock moves
        await settle()
        assert madrid.view.clock == f"8:01{NBSP}PM"
        assert chicago.view.clock == "13:00"
        madrid_task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await madrid_task

    asyncio.run(scenario())


def test_record_tamper_counts_each_kind_of_attempt(kiosk: Kiosk) -> None:
    before = kiosk.view
    kiosk.record_tamper("escape")
    kiosk.record_tamper("escape")
    kiosk.record_tamper("f1")
    assert kiosk.tamper_attempts == {"escape": 2, "f1": 1}
    assert kiosk.view == before  # never obeyed: the screen stays as it was


def test_each_sequence_of_attempts_is_one_tamper_event(config, clock: FakeClock) -> None:
    from tests.core.residents import open_kiosk

    kiosk = open_kiosk(config, clock)
    try:
        for _ in range(6):  # someone mashing Escape
            kiosk.record_tamper("escape")
            clock.advance(0.5)
        kiosk.record_tamper("alt_f4")  # another kind: its own sequence
        clock.advance(10)
        kiosk.record_tamper("escape")  # after a pause: a new sequence
        assert kiosk.outbox.of("tamper") == [
            {"attempt": "escape", "count": 1, "presses": 1},
            {"attempt": "alt_f4", "count": 1, "presses": 1},
            {"attempt": "escape", "count": 2, "presses": 7},
        ]
        assert kiosk.tamper_attempts == {"escape": 7, "alt_f4": 1}
    finally:
        kiosk.close()


def test_demo_seed_puts_a_visit_25_minutes_ahead(kiosk: Kiosk) -> None:
    seed(kiosk)
    notice = kiosk.view.notice
    # Offline, with no lobby to pair with, her family joins from home.
    assert notice.title == "Next video visit at this kiosk"
    assert notice.time == f"1:25{NBSP}PM"  # 25 minutes after the clock's 1:00 PM
    assert notice.who == "M. Alvarez, with R. Alvarez at home"


def test_demo_seed_on_a_lobby_kiosk_announces_the_time_only(
    opened: Callable[..., Kiosk], tmp_path: Path, clock: FakeClock
) -> None:
    config = make_config(tmp_path, role="lobby")
    lobby = opened(replace(config, kiosk_id="demo-lobby-01"), clock)
    seed(lobby)
    # The attorney's visit five minutes away comes first; no name is shown in the lobby.
    assert lobby.view.notice.sentence == f"Next on-site visit at this station: 1:05{NBSP}PM"


def test_demo_residents_sign_in_with_the_demo_pin(kiosk: Kiosk) -> None:
    seed(kiosk)
    residents = list(Database(kiosk.database)["residents"].rows)
    assert {row["display_name"] for row in residents} == {"M. Alvarez", "D. Johnson"}
    for row in residents:
        verifier = SealedSecrets(kiosk.database).verifier(row["pin_verifier"])  # kept sealed
        assert check_verifier(DEMO_PIN, verifier) is True
        assert check_verifier("0000", verifier) is False
    lookups = {
        row["lookup"]: row["inmate_id"] for row in Database(kiosk.database)["badge_lookups"].rows
    }
    assert lookups[badge_lookup(DEMO_BADGES[0], DEMO_BADGE_KEY)] == "A1024"
    assert DEMO_BADGES[0] not in str(lookups)  # the badge itself is never kept


def test_seeding_the_demo_again_keeps_one_of_each_resident(kiosk: Kiosk, clock: FakeClock) -> None:
    seed(kiosk)
    clock.advance(3600)
    seed(kiosk)  # a restart of the demo an hour later
    assert Database(kiosk.database)["residents"].count == 2
    assert kiosk.view.notice.time == f"2:25{NBSP}PM"
