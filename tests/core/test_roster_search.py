"""Finding a resident in the facility's public roster at the lobby: the start of the last name
with the first initial, or the exact booking number; ten at most, never everyone."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.front_desk.roster_search import (
    MOST_SHOWN,
    Found,
    RosterEntry,
    RosterIndex,
    RosterQuery,
    read_query,
)
from kiosk.core.front_desk.visitor_details import Problem
from kiosk.core.i18n import Language, words_with_values

ROSTER = [
    RosterEntry("B2026-00311", "M. Alvarez"),
    RosterEntry("B2026-00312", "Marco Álvarez-Ruiz"),
    RosterEntry("B2026-00313", "R. Alvarado"),
    RosterEntry("B2026-00401", "B. de la Cruz"),
    RosterEntry("B2026-00402", "Sean O'Brien"),
    RosterEntry("B2026-00403", "D. Johnson"),
]


def names(found: Found) -> list[str]:
    return [entry.display_name for entry in found.matches]


def search(last: str, initial: str, number: str = "") -> Found:
    query = read_query(last, initial, number)
    assert isinstance(query, RosterQuery), query
    return RosterIndex(ROSTER).search(query)


def test_the_start_of_the_last_name_and_the_initial_find_the_resident() -> None:
    assert names(search("alv", "m")) == ["M. Alvarez", "Marco Álvarez-Ruiz"]
    assert names(search("ALVAREZ", "M")) == ["M. Alvarez", "Marco Álvarez-Ruiz"]
    assert names(search("Álva", "r")) == ["R. Alvarado"]  # accents typed or not
    assert names(search("al", "d")) == []  # the initial narrows
    assert names(search("obrien", "s")) == ["Sean O'Brien"]
    assert names(search("O'Br", "S")) == ["Sean O'Brien"]


def test_a_last_name_of_several_words_is_found_by_any_of_its_starts() -> None:
    assert names(search("de la", "b")) == ["B. de la Cruz"]
    assert names(search("cruz", "b")) == ["B. de la Cruz"]
    assert names(search("ruiz", "m")) == ["Marco Álvarez-Ruiz"]


def test_the_booking_number_is_matched_exactly_whatever_the_case() -> None:
    assert names(search("", "", "b2026-00403")) == ["D. Johnson"]
    assert names(search("", "", "B2026-0040")) == []  # a prefix is not a number
    assert names(search("zz", "", "B2026-00311")) == ["M. Alvarez"]  # the number wins


def said(problem: Problem) -> str:
    return words_with_values(Language("en"), ZoneInfo("UTC"), problem.words, problem.values)


@pytest.mark.parametrize(
    ("last", "initial", "words"),
    [
        ("", "", "Type at least the first two letters of the last name."),
        ("A", "M", "Type at least the first two letters of the last name."),
        ("A-", "M", "Type at least the first two letters of the last name."),
        ("Al", "", "Type the first letter of the first name too."),
        ("Al", ".", "Type the first letter of the first name too."),
    ],
)
def test_too_little_to_search_by_says_what_more_to_type(last, initial, words) -> None:
    problem = read_query(last, initial, "")
    assert isinstance(problem, Problem)
    assert said(problem) == words


def test_never_more_than_ten_and_it_says_there_are_more() -> None:
    rng = random.Random(5)
    crowd = [
        RosterEntry(f"B{index:05d}", f"M. Ma{rng.choice('rtn')}{rng.choice('aeiou')}z{index}")
        for index in range(40)
    ]
    index = RosterIndex(crowd)
    found = index.search(RosterQuery(last_name="ma", initial="m"))
    assert len(found.matches) == MOST_SHOWN and found.more
    # Sorted by last name: the ten are the first ten, and the next search narrows them.
    assert (
        list(found.matches) == sorted(crowd, key=lambda e: e.display_name.split()[-1].lower())[:10]
    )
    narrower = index.search(RosterQuery(last_name="mar", initial="m"))
    assert len(narrower.matches) <= MOST_SHOWN
    assert all(e.display_name.split()[-1].lower().startswith("mar") for e in narrower.matches)


def test_five_thousand_residents_are_searched_as_the_visitor_types() -> None:
    rng = random.Random(1)
    syllables = ["al", "va", "rez", "jo", "son", "mar", "tin", "ez", "gar", "cia", "lo", "pe"]
    roster = [
        RosterEntry(
            f"B{index:06d}",
            f"{rng.choice('ABCDEFGHJKLMNPRSTW')}. "
            + "".join(rng.choice(syllables) for _ in range(3)).capitalize(),
        )
        for index in range(5000)
    ]
    index = RosterIndex(roster)
    assert len(index) == 5000
    found = index.search(RosterQuery(last_name="alva", initial="m"))
    expected = [
        e
        for e in roster
        if e.display_name.startswith("M.") and e.display_name.split()[-1].lower().startswith("alva")
    ]
    assert set(found.matches) <= set(expected)
    assert len(found.matches) == min(len(expected), MOST_SHOWN)
    assert found.more == (len(expected) > MOST_SHOWN)
