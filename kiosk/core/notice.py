"""The next-visit notice: what the idle screen says about the next visit at this kiosk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.core.i18n import Language, _
from kiosk.core.visits import PRIVILEGED, Visit


@dataclass(frozen=True)
class NoticeText:
    """Three parts so the screen can make the time the largest thing on it."""

    title: str  # "Next visit at this kiosk"
    time: str = ""  # "1:30 PM"
    who: str = ""  # "A. Resident" on housing kiosks only
    joiner: str = ": "  # between title and time in the one-line form

    @property
    def sentence(self) -> str:
        """The notice as one line: "Next visit at this kiosk: 1:30 PM — A. Resident"."""
        text = f"{self.title}{self.joiner}{self.time}" if self.time else self.title
        return f"{text} — {self.who}" if self.who else text


def next_visit_notice(
    visit: Visit | None, now: datetime, zone: ZoneInfo, role: str, language: Language
) -> NoticeText:
    """Housing kiosks name the resident; lobby stations give the time only (privacy)."""
    local_now = now.astimezone(zone)
    if visit is None or visit.starts_at.astimezone(zone).date() > local_now.date():
        return NoticeText(language.text(_("No visits scheduled today")))
    if role == "lobby":
        who = ""
    elif visit.visitor_away:
        who = language.text(from_where(visit)).format(
            resident=visit.inmate_name, visitor=visit.visitor_name
        )
    else:
        who = visit.inmate_name
    if visit.starts_at <= now:
        if role == "housing" and visit.visitor_away:
            title = language.text(_("Video visit in progress until"))
        else:
            title = language.text(_("Visit in progress until"))
        return NoticeText(title, language.time(visit.ends_at, zone), who, joiner=" ")
    if role == "lobby":
        title = language.text(_("Next on-site visit at this station"))
    elif visit.visitor_away:
        title = language.text(_("Next video visit at this kiosk"))
    else:
        title = language.text(_("Next visit at this kiosk"))
    return NoticeText(title, language.time(visit.starts_at, zone), who)


def from_where(visit: Visit) -> str:
    """Who is in a video visit and where the visitor is (not yet translated)."""
    if visit.kind == PRIVILEGED:
        return _("{resident}, with {visitor} from their office")
    return _("{resident}, with {visitor} at home")
