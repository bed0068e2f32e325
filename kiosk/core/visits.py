"""Visits as the kiosk knows them, and the rule that picks the next one for the notice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# A visit may begin this long before its start (the contract's visit rules).
JOIN_WINDOW = timedelta(minutes=10)
SCHEDULED = "scheduled"
CANCELLED = "cancelled"
ONSITE = "onsite"


@dataclass(frozen=True)
class Visit:
    visit_id: str
    starts_at: datetime
    ends_at: datetime
    kind: str  # onsite | remote | privileged
    status: str  # scheduled | cancelled
    inmate_id: str
    inmate_name: str
    visitor_name: str
    peer_kiosk_id: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Visit:
        """A visit from a stored schedule row (times as ISO 8601 UTC text)."""
        return cls(
            visit_id=row["visit_id"],
            starts_at=parse_utc(row["starts_at"]),
            ends_at=parse_utc(row["ends_at"]),
            kind=row["kind"],
            status=row["status"],
            inmate_id=row["inmate_id"],
            inmate_name=row["inmate_name"],
            visitor_name=row["visitor_name"],
            peer_kiosk_id=row.get("peer_kiosk_id"),
        )


def parse_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return value


def next_visit(visits: Iterable[Visit], now: datetime, role: str) -> Visit | None:
    """The visit the idle screen announces: the earliest scheduled one not yet over.

    A visit in progress counts (it still holds the kiosk). Lobby stations announce only
    on-site visits: remote visits never come to the lobby.
    """
    candidates = [
        visit
        for visit in visits
        if visit.status == SCHEDULED
        and visit.ends_at > now
        and (role != "lobby" or visit.kind == ONSITE)
    ]
    return min(candidates, key=lambda visit: (visit.starts_at, visit.visit_id), default=None)


def join_window_opens(visit: Visit) -> datetime:
    return visit.starts_at - JOIN_WINDOW
