"""Finding the resident a visitor applies to visit, in the facility's public roster: by the
start of the last name (two letters at least) with the first initial, or by the exact booking
number. Never a list of everyone: a search names at most ten residents, and says when there
are more, so that the visitor types more of the name.

The roster holds what the facility publishes to its lobbies: a display name and a booking
number per resident, nothing else. What the visitor types is neither kept nor logged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.core.check_in import name_words
from kiosk.core.front_desk.visitor_details import Problem
from kiosk.core.i18n import _

MOST_SHOWN = 10
LEAST_LETTERS = 2


@dataclass(frozen=True)
class RosterEntry:
    booking_number: str
    display_name: str


@dataclass(frozen=True)
class RosterQuery:
    """Either a last name's start with a first initial, or a booking number."""

    last_name: str = ""
    initial: str = ""
    booking_number: str = ""


@dataclass(frozen=True)
class Found:
    matches: tuple[RosterEntry, ...]
    more: bool  # more residents match than are shown: the visitor should type more


def read_query(last_name: str, initial: str, booking_number: str) -> RosterQuery | Problem:
    """What the visitor typed, as a query; a problem when it is not enough to search by."""
    number = booking_number.strip().upper()
    if number:
        return RosterQuery(booking_number=number)
    letters = "".join(name_words(last_name))
    first = "".join(name_words(initial))[:1]
    if len(letters) < LEAST_LETTERS:
        return Problem(_("Type at least the first two letters of the last name."))
    if not first:
        return Problem(_("Type the first letter of the first name too."))
    return RosterQuery(last_name=letters, initial=first)


class RosterIndex:
    """The roster made ready for searching as the visitor types (thousands of residents)."""

    def __init__(self, entries: Iterable[RosterEntry]) -> None:
        self._by_number: dict[str, RosterEntry] = {}
        self._names: list[tuple[tuple[str, ...], str, RosterEntry]] = []
        for entry in entries:
            self._by_number[entry.booking_number.upper()] = entry
            words = [word for word in name_words(entry.display_name) if word]
            if not words:
                continue
            # The last name may be several words ("de la Cruz"): each way of reading it.
            first = 1 if len(words) > 1 else 0
            last_names = tuple("".join(words[k:]) for k in range(first, len(words)))
            self._names.append((last_names, words[0][:1], entry))
        self._names.sort(key=lambda item: (item[0][-1], item[2].display_name))

    def __len__(self) -> int:
        return len(self._by_number)

    def search(self, query: RosterQuery) -> Found:
        if query.booking_number:
            entry = self._by_number.get(query.booking_number)
            return Found((entry,) if entry is not None else (), more=False)
        found = [
            entry
            for last_names, initial, entry in self._names
            if initial == query.initial and any(n.startswith(query.last_name) for n in last_names)
        ]
        return Found(tuple(found[:MOST_SHOWN]), more=len(found) > MOST_SHOWN)
