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
PRIVILEGED = "privileged"
REMOTE = "remote"
# The photos a lobby takes of a visitor, in the order it asks for them.
VISITOR_ID, VISITOR_CREDENTIAL, VISITOR_FACE = "visitor_id", "visitor_credential", "visitor_face"
CAPTURE_ORDER = (VISITOR_ID, VISITOR_CREDENTIAL, VISITOR_FACE)


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
    code_verifier: str | None = None  # lobby: the confirmation code's scrypt verifier
    first_visit: bool = False
    asked_captures: tuple[str, ...] = ()  # photos the cloud asks for (docs/protocol.md)
    station_kiosk_id: str | None = None  # lobby: held at another station of the lobby
    station_name: str | None = None

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
            code_verifier=row.get("confirmation_code_verifier"),
            first_visit=bool(row.get("visitor_first_visit")),
            asked_captures=tuple(filter(None, (row.get("visitor_captures") or "").split(","))),
            station_kiosk_id=row.get("station_kiosk_id"),
            station_name=row.get("station_name"),
        )

    @property
    def visitor_away(self) -> bool:
        """The visitor joins by video from elsewhere (home, an office), through the cloud's media
        gateway: remote visits, and privileged ones with no kiosk of ours on the other side."""
        return self.kind == REMOTE or (self.kind == PRIVILEGED and self.peer_kiosk_id is None)

    def held_at(self, kiosk_id: str) -> bool:
        """Whether this kiosk holds the visit (not another station of the same lobby)."""
        return self.station_kiosk_id is None or self.station_kiosk_id == kiosk_id

    def captures_required(self) -> tuple[str, ...]:
        """The photos the facility's rules ask of the visitor before the visit, in order.

        Privileged visitors (attorneys, public defenders, probation) show an ID, their bar card
        or badge, and their face; a first on-site visit an ID and a face; the cloud may ask for
        any of them besides.
        """
        wanted = set(self.asked_captures)
        if self.kind == PRIVILEGED:
            wanted |= {VISITOR_ID, VISITOR_CREDENTIAL, VISITOR_FACE}
        if self.first_visit:
            wanted |= {VISITOR_ID, VISITOR_FACE}
        return tuple(purpose for purpose in CAPTURE_ORDER if purpose in wanted)


def parse_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return value


def next_visit(visits: Iterable[Visit], now: datetime, role: str) -> Visit | None:
    """The visit the idle screen announces: the earliest scheduled one not yet over.

    A visit in progress counts (it still holds the kiosk). Lobby stations announce only
    visits held in the lobby (on-site and privileged): remote visits never come to the lobby.
    """
    candidates = [
        visit
        for visit in visits
        if visit.status == SCHEDULED
        and visit.ends_at > now
        and (role != "lobby" or visit.kind != REMOTE)
    ]
    return min(candidates, key=lambda visit: (visit.starts_at, visit.visit_id), default=None)


def join_window_opens(visit: Visit) -> datetime:
    return visit.starts_at - JOIN_WINDOW
