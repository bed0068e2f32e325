"""The next-visit notice: which visit the idle screen announces, and how it reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.i18n import Language
from kiosk.core.notice import NoticeText, next_visit_notice
from kiosk.core.visits import Visit, next_visit

CHICAGO = ZoneInfo("America/Chicago")
MADRID = ZoneInfo("Europe/Madrid")
# 13:00 in Chicago (CST, UTC-6), as the shared ``clock`` fixture.
NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
NBSP = "\u00a0"  # babel keeps "PM" on the line of its time with a no-break space

EN = Language("en")
ES = Language("es")


def visit(
    starts_at: datetime,
    minutes: int = 30,
    *,
    visit_id: str | None = None,
    kind: str = "onsite",
    status: str = "scheduled",
    name: str = "A. Resident",
) -> Visit:
    return Visit(
        visit_id=visit_id or f"v-{starts_at:%H%M}-{kind}-{status}",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        kind=kind,
        status=status,
        inmate_id="A1",
        inmate_name=name,
        visitor_name="V. Isitor",
    )


def notice(
    visits: list[Visit],
    now: datetime = NOW,
    *,
    role: str = "housing",
    zone: ZoneInfo = CHICAGO,
    language: Language = EN,
) -> NoticeText:
    return next_visit_notice(next_visit(visits, now, role), now, zone, role, language)


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    """A UTC instant on 2026-11-``day``."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_time_formats_are_the_ones_the_screen_shows() -> None:
    assert EN.time(at(19, 30).astimezone(CHICAGO)) == f"1:30{NBSP}PM"
    assert ES.time(at(19, 30).astimezone(CHICAGO)) == "13:30"


@pytest.mark.parametrize(
    ("seconds", "en", "es"),
    [
        (0, f"5:41{NBSP}PM", "17:41"),
        (40, f"5:41{NBSP}PM", "17:41"),
        (59.999, f"5:41{NBSP}PM", "17:41"),
    ],
)
def test_a_time_with_seconds_shows_the_minute_it_falls_in(seconds: float, en: str, es: str) -> None:
    """Cut to the minute, never rounded: 5:41:40 PM is "5:41 PM", as the header's clock says."""
    moment = datetime(2026, 11, 23, 23, 41, tzinfo=UTC) + timedelta(seconds=seconds)
    assert (EN.time(moment, CHICAGO), ES.time(moment, CHICAGO)) == (en, es)
    assert EN.time(moment.astimezone(CHICAGO)) == en  # a moment already local: the same


def test_housing_names_the_time_and_the_resident() -> None:
    shown = notice([visit(at(19, 30))])
    assert shown == NoticeText("Next visit at this kiosk", f"1:30{NBSP}PM", "A. Resident")
    assert shown.sentence == f"Next visit at this kiosk: 1:30{NBSP}PM — A. Resident"


def test_lobby_shows_the_time_only_and_only_visits_held_in_the_lobby() -> None:
    visits = [
        visit(at(19, 15), kind="remote", name="R. Emote"),
        visit(at(19, 45), kind="onsite", name="O. Nsite"),
        visit(at(19, 20), kind="privileged", name="P. Rivileged"),
    ]
    # Attorneys' privileged visits are held at lobby stations too; remote ones never are.
    shown = notice(visits, role="lobby")
    assert shown == NoticeText("Next on-site visit at this station", f"1:20{NBSP}PM", "")
    assert shown.sentence == f"Next on-site visit at this station: 1:20{NBSP}PM"
    assert "Rivileged" not in shown.sentence
    assert notice(visits[:2], role="lobby").time == f"1:45{NBSP}PM"
    # The housing kiosk announces the earliest, whatever its kind.
    assert notice(visits).sentence == (
        f"Next video visit at this kiosk: 1:15{NBSP}PM — R. Emote, with V. Isitor at home"
    )


def test_a_video_visit_says_who_joins_and_from_where() -> None:
    """The day room reads, before the visit and during it, that the visitor is at home (or an
    attorney in their office), and who: not a visitor to look for in the lobby."""
    home = visit(at(19, 30), kind="remote")
    assert notice([home]) == NoticeText(
        "Next video visit at this kiosk", f"1:30{NBSP}PM", "A. Resident, with V. Isitor at home"
    )
    assert notice([home], language=ES) == NoticeText(
        "Próxima visita por video en este quiosco", "13:30", "A. Resident, con V. Isitor desde casa"
    )
    assert notice([home], at(19, 31)).sentence == (
        f"Video visit in progress until 2:00{NBSP}PM — A. Resident, with V. Isitor at home"
    )
    office = visit(at(19, 30), kind="privileged")
    assert notice([office]).who == "A. Resident, with V. Isitor from their office"
    assert notice([office], language=ES).who == "A. Resident, con V. Isitor desde su oficina"


def test_a_privileged_visit_held_at_the_lobby_is_not_a_video_visit() -> None:
    """An attorney who comes to the lobby: the housing kiosk's visit has the lobby as peer."""
    at_lobby = replace(visit(at(19, 30), kind="privileged"), peer_kiosk_id="lb-01")
    assert notice([at_lobby]) == NoticeText(
        "Next visit at this kiosk", f"1:30{NBSP}PM", "A. Resident"
    )


def test_lobby_with_only_remote_visits_has_none_today() -> None:
    shown = notice([visit(at(19, 15), kind="remote")], role="lobby")
    assert shown == NoticeText("No visits scheduled today")


def test_lobby_visit_in_progress_names_nobody() -> None:
    shown = notice([visit(at(18, 50), kind="onsite")], role="lobby")
    assert shown == NoticeText("Visit in progress until", f"1:20{NBSP}PM", "", joiner=" ")
    assert shown.sentence == f"Visit in progress until 1:20{NBSP}PM"


def test_cancelled_visits_are_ignored() -> None:
    visits = [
        visit(at(19, 10), status="cancelled", name="C. Ancelled"),
        visit(at(19, 40), name="B. Resident"),
    ]
    assert notice(visits).sentence == f"Next visit at this kiosk: 1:40{NBSP}PM — B. Resident"
    assert notice(visits[:1]) == NoticeText("No visits scheduled today")


def test_a_visit_in_progress_reads_until_its_end() -> None:
    shown = notice([visit(at(18, 50), minutes=30), visit(at(19, 30), name="B. Later")])
    assert shown.title == "Visit in progress until"
    assert shown.time == f"1:20{NBSP}PM"
    assert shown.who == "A. Resident"
    assert shown.sentence == f"Visit in progress until 1:20{NBSP}PM — A. Resident"


def test_a_visit_starting_exactly_now_is_in_progress() -> None:
    assert notice([visit(NOW)]).title == "Visit in progress until"


def test_a_visit_tomorrow_means_none_today() -> None:
    shown = notice([visit(at(19, 30, day=24))])
    assert shown == NoticeText("No visits scheduled today")
    assert shown.sentence == "No visits scheduled today"


def test_today_is_the_facilitys_day_not_utcs() -> None:
    # 11:30 PM in Chicago is already the 24th in UTC: still today at the kiosk.
    late_tonight = visit(at(5, 30, day=24))
    assert notice([late_tonight]).time == f"11:30{NBSP}PM"
    # 12:30 AM in Chicago on the 24th is tomorrow.
    after_midnight = visit(at(6, 30, day=24))
    assert notice([after_midnight]) == NoticeText("No visits scheduled today")
    # At 9:00 PM in Chicago it is already the 24th in UTC; the 24th in Chicago is still tomorrow.
    evening = at(3, 0, day=24)
    assert notice([late_tonight], evening).time == f"11:30{NBSP}PM"
    assert notice([after_midnight], evening) == NoticeText("No visits scheduled today")
    # At 00:30 in Madrid it is still the 23rd in UTC; a visit at 11:00 in Madrid is today.
    madrid_morning = visit(at(10, 0, day=24))
    assert notice([madrid_morning], at(23, 30), zone=MADRID, language=ES).time == "11:00"


def test_no_visits_at_all() -> None:
    assert notice([]) == NoticeText("No visits scheduled today")


def test_of_two_visits_the_earlier_is_announced() -> None:
    later = visit(at(20, 0), name="L. Ater")
    earlier = visit(at(19, 30), name="E. Arlier")
    assert notice([later, earlier]).who == "E. Arlier"
    assert notice([earlier, later]).who == "E. Arlier"


def test_a_visit_ending_exactly_now_is_over() -> None:
    ended = visit(at(18, 30), minutes=30, name="E. Nded")
    assert notice([ended]) == NoticeText("No visits scheduled today")
    assert notice([ended, visit(at(19, 30))]).who == "A. Resident"
    # One second earlier it still held the kiosk.
    assert notice([ended], NOW - timedelta(seconds=1)).title == "Visit in progress until"


def test_spanish_texts_and_24_hour_time() -> None:
    upcoming = [visit(at(19, 30))]
    assert notice(upcoming, language=ES).sentence == (
        "Próxima visita en este quiosco: 13:30 — A. Resident"
    )
    assert notice([visit(at(19, 30), kind="onsite")], role="lobby", language=ES) == NoticeText(
        "Próxima visita presencial en esta estación", "13:30", ""
    )
    assert notice([visit(at(18, 50))], language=ES) == NoticeText(
        "Visita en curso hasta las", "13:20", "A. Resident", joiner=" "
    )
    assert notice([], language=ES) == NoticeText("No hay visitas programadas para hoy")


def test_another_time_zone_shows_its_own_local_time() -> None:
    # 19:30 UTC is 20:30 in Madrid (CET, UTC+1) on the 23rd.
    assert notice([visit(at(19, 30))], zone=MADRID, language=ES).time == "20:30"
    assert notice([visit(at(19, 30))], zone=MADRID).time == f"8:30{NBSP}PM"


def test_another_time_zone_has_its_own_today() -> None:
    now = at(22, 30)  # 23:30 in Madrid, 4:30 PM in Chicago
    tomorrow_in_madrid = visit(at(23, 30))  # 00:30 on the 24th in Madrid
    assert notice([tomorrow_in_madrid], now, zone=MADRID) == NoticeText("No visits scheduled today")
    assert notice([tomorrow_in_madrid], now, zone=CHICAGO).time == f"5:30{NBSP}PM"


def test_fall_back_day_shows_standard_time_after_the_change() -> None:
    # 2026-11-01: Chicago falls back at 2:00 AM CDT (07:00 UTC) to 1:00 AM CST.
    now = datetime(2026, 11, 1, 6, 45, tzinfo=UTC)  # 1:45 AM CDT
    after_change = visit(datetime(2026, 11, 1, 7, 30, tzinfo=UTC))  # 1:30 AM CST
    assert notice([after_change], now).time == f"1:30{NBSP}AM"
    assert notice([after_change], now, language=ES).time == "1:30"
    # A visit that began at 1:30 AM CDT and ends at 1:20 AM CST, after the change.
    started_before = visit(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), minutes=50)
    during = datetime(2026, 11, 1, 7, 10, tzinfo=UTC)  # 1:10 AM CST
    assert notice([started_before], during) == NoticeText(
        "Visit in progress until", f"1:20{NBSP}AM", "A. Resident", joiner=" "
    )


def test_spring_forward_day_shows_daylight_time_after_the_change() -> None:
    # 2026-03-08: Chicago springs forward at 2:00 AM CST (08:00 UTC) to 3:00 AM CDT.
    now = datetime(2026, 3, 8, 7, 45, tzinfo=UTC)  # 1:45 AM CST
    after_change = visit(datetime(2026, 3, 8, 8, 30, tzinfo=UTC))
    assert notice([after_change], now).time == f"3:30{NBSP}AM"


# --- the rule, for any schedule ----------------------------------------------------------------

BASE = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

visits_strategy = st.lists(
    st.builds(
        lambda visit_id, start, minutes, kind, status: Visit(
            visit_id=visit_id,
            starts_at=BASE + timedelta(minutes=start),
            ends_at=BASE + timedelta(minutes=start + minutes),
            kind=kind,
            status=status,
            inmate_id="A1",
            inmate_name="A. Resident",
            visitor_name="V. Isitor",
        ),
        visit_id=st.text("abc", min_size=1, max_size=3),
        start=st.integers(-600, 600),
        minutes=st.integers(1, 180),
        kind=st.sampled_from(["onsite", "remote", "privileged"]),
        status=st.sampled_from(["scheduled", "cancelled"]),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    visits=visits_strategy,
    now_seconds=st.integers(-800 * 60, 800 * 60),
    role=st.sampled_from(["housing", "lobby"]),
)
def test_next_visit_is_the_earliest_scheduled_visit_not_yet_over(
    visits: list[Visit], now_seconds: int, role: str
) -> None:
    now = BASE + timedelta(seconds=now_seconds)
    chosen = next_visit(visits, now, role)
    eligible = [
        v
        for v in visits
        if v.status == "scheduled" and v.ends_at > now and (role == "housing" or v.kind != "remote")
    ]
    if not eligible:
        assert chosen is None
        return
    assert chosen is not None
    assert chosen in visits
    assert chosen.status == "scheduled"
    assert chosen.ends_at > now
    if role == "lobby":
        assert chosen.kind != "remote"
    assert chosen.starts_at == min(v.starts_at for v in eligible)


@pytest.mark.parametrize("role", ["housing", "lobby"])
def test_next_visit_does_not_depend_on_the_order_of_the_schedule(role: str) -> None:
    a = visit(at(19, 30), visit_id="a", kind="onsite")
    b = visit(at(19, 30), visit_id="b", kind="onsite")
    assert next_visit([a, b], NOW, role) == next_visit([b, a], NOW, role) == a
