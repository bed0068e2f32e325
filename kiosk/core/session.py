"""A resident's session: who, how long it may last, which page they are on, and when it ends.

It ends when the resident signs out, after ``session_idle_s`` without a touch and a 15 s "Are
you still there?", at ``session_max_s``, when a visit's join window at this kiosk opens, or on
a staff command. Countdowns use monotonic time; the visit cut-off is wall time (the schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.core.clock import Clock
from kiosk.core.i18n import Language, _
from kiosk.core.mailbox import ComposeView, InboxRow, Mailbox, MessageView
from kiosk.core.visits import Visit, join_window_opens

STILL_THERE_S = 15
# Less than this before a visit's join window is not worth signing in for.
MIN_SESSION = timedelta(minutes=2)
ENDING_SOON_S = 60

INBOX, MESSAGE, COMPOSE, CONTACTS = "inbox", "message", "compose", "contacts"
LOGOUT_REASONS = ("user", "idle", "max_time", "visit", "command")


@dataclass(frozen=True)
class SessionView:
    """What the session's screens show, in the resident's chosen language."""

    resident_name: str
    credits: str  # "12 credits"
    time_left: str  # "Time left 14:05"
    page: str  # inbox | message | compose | contacts
    inbox: tuple[InboxRow, ...]
    inbox_more: bool
    inbox_empty: str
    unread: str
    message: MessageView | None
    compose: ComposeView | None
    contacts: tuple[tuple[str, str], ...]
    still_there: str  # the countdown of the idle warning; "" when not warning
    still_there_detail: str
    ending: str  # why and when the session ends soon ("" when not soon)


def visit_cutoff(visits: list[Visit], now: datetime) -> tuple[datetime, Visit] | None:
    """When the next visit's join window at this kiosk opens (the session must end by then)."""
    upcoming = [visit for visit in visits if visit.status == "scheduled" and visit.ends_at > now]
    if not upcoming:
        return None
    visit = min(upcoming, key=lambda v: v.starts_at)
    return join_window_opens(visit), visit


def sessions_paused_by_visit(visits: list[Visit], now: datetime) -> Visit | None:
    """The visit that leaves no room for a new session now, if any (the contract's rule)."""
    cutoff = visit_cutoff(visits, now)
    if cutoff is None:
        return None
    opens, visit = cutoff
    return visit if opens - now < MIN_SESSION else None


class Session:
    def __init__(
        self,
        resident: dict[str, Any],
        method: str,
        *,
        mailbox: Mailbox,
        clock: Clock,
        idle_s: int,
        max_s: int,
    ) -> None:
        self.resident = resident
        self.inmate_id: str = resident["inmate_id"]
        self.method = method
        self.mailbox = mailbox
        self._clock = clock
        self.idle_s = idle_s
        self.max_s = max_s
        self.started = clock.monotonic()
        self.started_at = clock.now()
        self._touched = self.started
        self.page = INBOX

    # --- intents ---------------------------------------------------------------------------

    def touched(self) -> None:
        """Any touch on the screen: the resident is here (this also answers the warning)."""
        self._touched = self._clock.monotonic()

    def show_inbox(self) -> None:
        self.mailbox.close_message()
        self.page = INBOX

    def open_message(self, message_id: str) -> bool:
        if self.mailbox.open(message_id):
            self.page = MESSAGE
            return True
        return False

    def reply(self) -> None:
        opened = self.mailbox.opened
        if opened is not None:
            self.mailbox.write_to(opened.contact_id, opened.contact_name)
            self.page = COMPOSE

    def new_message(self) -> None:
        self.page = CONTACTS

    def write_to(self, contact_id: str) -> None:
        for known_id, name in self.mailbox.contacts():
            if known_id == contact_id:
                self.mailbox.write_to(contact_id, name)
                self.page = COMPOSE

    def send(self, max_chars: int) -> str | None:
        """Send the draft; on success the inbox shows it at the top with its state."""
        message_id = self.mailbox.send(max_chars)
        if message_id is not None:
            self.show_inbox()
        return message_id

    def back(self) -> None:
        """Back one page; leaving the compose page discards its draft."""
        if self.page == COMPOSE:
            self.mailbox.discard_draft()
            self.page = MESSAGE if self.mailbox.opened is not None else INBOX
        elif self.page in (MESSAGE, CONTACTS):
            self.show_inbox()

    # --- time ------------------------------------------------------------------------------

    def idle_for(self) -> float:
        return self._clock.monotonic() - self._touched

    def seconds_left(self, visits: list[Visit]) -> tuple[float, str]:
        """Seconds until the session must end, and the reason it would end then."""
        left = self.max_s - (self._clock.monotonic() - self.started)
        reason = "max_time"
        cutoff = visit_cutoff(visits, self._clock.now())
        if cutoff is not None:
            until_visit = (cutoff[0] - self._clock.now()).total_seconds()
            if until_visit < left:
                left, reason = until_visit, "visit"
        return left, reason

    def due_reason(self, visits: list[Visit]) -> str | None:
        """Why the session must end now, or None."""
        left, reason = self.seconds_left(visits)
        if left <= 0:
            return reason
        if self.idle_for() >= self.idle_s + STILL_THERE_S:
            return "idle"
        return None

    # --- the view --------------------------------------------------------------------------

    def view(
        self, language: Language, zone: ZoneInfo, visits: list[Visit], max_chars: int
    ) -> SessionView:
        text = language.text
        mailbox = self.mailbox
        left, reason = self.seconds_left(visits)
        idle = self.idle_for()
        credits = mailbox.credits()
        compose = mailbox.compose_view(language, max_chars, credits)
        still_there, detail = "", ""
        if idle >= self.idle_s:
            remaining = max(0.0, self.idle_s + STILL_THERE_S - idle)
            seconds = int(remaining + 0.999)
            still_there = language.ngettext(
                "Signing you out in {seconds} second.",
                "Signing you out in {seconds} seconds.",
                seconds,
            ).format(seconds=seconds)
            if compose is not None and compose.draft_warning:
                detail = compose.draft_warning
        ending = ""
        if left <= ENDING_SOON_S or reason == "visit":
            cutoff = visit_cutoff(visits, self._clock.now())
            if reason == "visit" and cutoff is not None:
                ending = text(
                    _("A visit begins at this kiosk at {time}. Your session ends at {end}.")
                ).format(
                    time=language.time(cutoff[1].starts_at, zone),
                    end=language.time(cutoff[0], zone),
                )
            else:
                ending = text(_("Your session ends in less than a minute."))
        unread = mailbox.unread()
        unread_words = ""
        if unread:
            unread_words = language.ngettext(
                "{count} new message", "{count} new messages", unread
            ).format(count=unread)
        return SessionView(
            resident_name=self.resident["display_name"],
            credits=language.ngettext("{count} credit", "{count} credits", credits).format(
                count=credits
            ),
            time_left=text(_("Time left {time}")).format(time=language.countdown(left)),
            page=self.page,
            inbox=mailbox.rows(language, zone),
            inbox_more=mailbox.more,
            inbox_empty=text(_("No messages yet.")),
            unread=unread_words,
            message=mailbox.message_view(language, zone),
            compose=compose,
            contacts=tuple(mailbox.contacts()) if self.page == CONTACTS else (),
            still_there=still_there,
            still_there_detail=detail,
            ending=ending,
        )
