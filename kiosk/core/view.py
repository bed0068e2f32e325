"""What the screens show: one immutable view of the whole kiosk, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from kiosk.core.i18n import LANGUAGE_NAMES, Language, _
from kiosk.core.lobby import LobbyView
from kiosk.core.notice import NoticeText, next_visit_notice
from kiosk.core.session import SessionView
from kiosk.core.sign_in import SignInView
from kiosk.core.technician import TechnicianView
from kiosk.core.visit import VisitView
from kiosk.core.visits import next_visit
from kiosk.core.words import Words

if TYPE_CHECKING:
    from kiosk.core.context import KioskContext
    from kiosk.core.parts.lobby_desk import LobbyDesk
    from kiosk.core.parts.sessions import ResidentSessions
    from kiosk.core.parts.visits import VisitsHere

SEVERITY_LABELS = {"info": _("Notice"), "warning": _("Warning"), "lockdown": _("Lockdown")}


@dataclass(frozen=True)
class KioskView:
    """Everything the screens show, already in the reader's language.

    ``screen`` says which: idle, sign_in or session. The header and the idle screen's fields
    are always there; ``sign_in`` and ``session`` only while someone is at the kiosk.
    """

    role: str
    facility_name: str
    kiosk_name: str
    clock: str
    date: str
    notice: NoticeText
    prompt: str
    language: str
    languages: tuple[tuple[str, str], ...] = field(default=())
    banner: str = ""  # the facility's notice, if any
    banner_severity: str = ""  # info | warning | lockdown
    banner_label: str = ""  # the severity in words: never colour alone
    messages_waiting: str = ""  # how many, never whose (housing only)
    connection: str = ""  # whether the facility's network is reachable, in words
    screen: str = "idle"  # idle | sign_in | session | visit | check_in | capture | technician
    paused: str = ""  # why no session can begin now, in words ("" when one can)
    sign_in: SignInView | None = None
    session: SessionView | None = None
    words: Words | None = None  # buttons' and titles' words
    visit: VisitView | None = None  # the visit whose join window is open at this kiosk
    lobby: LobbyView | None = None  # lobby stations: the visitor checking in, if any
    technician: TechnicianView | None = None  # a technician's PIN or maintenance screen


def compose_view(
    context: KioskContext,
    *,
    sessions: ResidentSessions | None,
    desk: LobbyDesk | None,
    visits: VisitsHere,
    technician: TechnicianView | None,
    connected: bool,
) -> KioskView:
    """The whole view from the parts a kiosk is made of: residents' sessions on a housing
    kiosk, the desk on a lobby station."""
    now = context.clock.now()
    settings = context.settings
    zone = ZoneInfo(settings.timezone)
    language = context.language.language
    local = now.astimezone(zone)
    role = context.config.role
    notice = next_visit_notice(next_visit(context.visits, now, role), now, zone, role, language)
    prompt = sessions.prompt() if sessions is not None else desk.prompt() if desk else ""
    banner, severity = "", ""
    if context.notice is not None:
        banner, severity = context.notice.text, context.notice.severity
    elif context.locked_reason is not None:
        banner, severity = language.text(_("This kiosk is closed by staff")), "warning"
    screen = "idle"
    visit = visits.view(language, zone)
    if visits.joined:
        screen = "visit"
    else:
        notice, prompt = visits.idle_words(language, notice, prompt)
    sign_in = session = None
    if sessions is not None:
        session = sessions.session_view(language, zone)
        sign_in = sessions.sign_in_view(language, zone) if session is None else None
        screen = "session" if session is not None else "sign_in" if sign_in else screen
    lobby = desk.view(language, zone) if desk is not None else None
    if lobby is not None and lobby.stage and screen != "visit":
        screen = lobby.stage
    if technician is not None:
        screen = "technician"
    return KioskView(
        role=role,
        facility_name=settings.facility_name,
        kiosk_name=settings.kiosk_name,
        clock=language.time(local),
        date=language.date(local),
        notice=notice,
        prompt=language.text(prompt),
        language=context.language.code,
        languages=tuple((code, LANGUAGE_NAMES[code]) for code in settings.languages),
        banner=banner,
        banner_severity=severity,
        banner_label=language.text(SEVERITY_LABELS[severity]) if severity else "",
        messages_waiting=sessions.messages_waiting(language) if sessions else "",
        connection=_connection_text(context, language, connected),
        screen=screen,
        paused=sessions.paused_text(language, zone) if sessions else "",
        sign_in=sign_in,
        session=session,
        words=context.language.words,
        visit=visit,
        lobby=lobby,
        technician=technician,
    )


def _connection_text(context: KioskContext, language: Language, connected: bool) -> str:
    if not context.config.brokers:
        return ""  # an offline kiosk by configuration (the offline demo) says nothing
    if connected:
        return language.text(_("Connected to the facility"))
    return language.text(_("Offline — messages are kept and sent when the network returns"))
