"""One resident's messages during a session: the inbox paged from SQLite, reading, writing.

A message written here is durable before it is shown as sent: the credit it costs, the message
and its outbox record are one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.contract.times import utc_text
from kiosk.core.i18n import Language, _
from kiosk.core.ports import Outbox, OutgoingMessage
from kiosk.store.messages import Message, MessagesRepository, Photo
from kiosk.store.outbox import OutboxFull
from kiosk.store.residents import ResidentsRepository
from kiosk.store.transaction import transaction

PAGE_SIZE = 60
FIRST_LINE_CHARS = 80

STATUS_WORDS = {
    "queued": _("Waiting to send"),
    "sent": _("Sent"),
    "received": _("Received by the facility"),
    "approved": _("Approved"),
    "rejected": _("Not approved"),
    "delivered": _("Delivered"),
}


class NoCredits(Exception):
    """Sending needs one message credit and the resident has none."""


@dataclass(frozen=True)
class InboxRow:
    message_id: str
    direction: str  # in | out
    who: str  # "From R. Alvarez" / "To R. Alvarez"
    first_line: str
    when: str  # in the facility's time zone
    unread: bool
    unread_label: str  # "New": never colour alone
    status: str  # what became of a message written here, in words ("" for incoming)
    status_code: str


@dataclass(frozen=True)
class MessageView:
    message_id: str
    direction: str
    who: str
    when: str
    body: str
    photos: tuple[Photo, ...]
    status: str
    status_detail: str  # "Not approved: reason. 1 credit refunded."
    contact_id: str
    contact_name: str
    photos_gone: str = ""  # "Its photo is no longer kept here." after retention removed it


@dataclass(frozen=True)
class ComposeView:
    to: str
    count: str  # "12 / 2000"
    over_limit: bool
    cost: str  # "Sending costs 1 credit. You have 12 credits."
    can_send: bool
    problem: str  # why it cannot be sent, and what to do
    draft_warning: str  # shown by the idle warning: the draft goes with the session


class Mailbox:
    """The messages of the signed-in resident, and nothing of anyone else's."""

    def __init__(
        self,
        inmate_id: str,
        *,
        database: Any,
        outbox: Outbox,
        now: Callable[[], datetime],
    ) -> None:
        self.inmate_id = inmate_id
        self._db = database
        self._messages = MessagesRepository(database)
        self._residents = ResidentsRepository(database)
        self._outbox = outbox
        self._now = now
        self._loaded: list[Message] = []
        self._rows: tuple[InboxRow, ...] = ()
        self._rows_key: tuple[int, str, str] = (-1, "", "")
        self.more = True
        self.opened: Message | None = None
        self._opened_photos: tuple[Photo, ...] = ()
        self.recipient: tuple[str, str] | None = None  # (contact_id, name) being written to
        self.draft = ""
        self.problem: str | None = None
        self.version = 0  # bumped whenever what the inbox shows changed
        self.load_more()

    # --- reading ---------------------------------------------------------------------------

    def load_more(self) -> bool:
        """The next page of older messages; False when there are no more."""
        if not self.more:
            return False
        before = self._loaded[-1].page_key if self._loaded else None
        page = self._messages.for_resident(self.inmate_id, PAGE_SIZE, before)
        self._loaded.extend(page)
        self.more = len(page) == PAGE_SIZE
        self._bump()
        return bool(page)

    def reload(self) -> None:
        """Something arrived or changed: read again as many as are shown."""
        count = max(len(self._loaded), PAGE_SIZE)
        self._loaded = self._messages.for_resident(self.inmate_id, count)
        self.more = len(self._loaded) == count
        if self.opened is not None:
            self.opened = self._messages.get(self.opened.message_id)
        self._bump()

    def open(self, message_id: str) -> bool:
        """Show one message in full; reading it marks it read. False if it is not theirs."""
        message = self._messages.get(message_id)
        if message is None or message.inmate_id != self.inmate_id:
            return False
        if message.direction == "in" and message.read_at is None:
            self._messages.mark_read(message_id, self._now())
            message = self._messages.get(message_id)
            self._loaded = [message if m.message_id == message_id else m for m in self._loaded]
            self._bump()
        self.opened = message
        self._opened_photos = tuple(self._messages.photos(message_id))
        return True

    def close_message(self) -> None:
        self.opened, self._opened_photos = None, ()

    def unread(self) -> int:
        return self._messages.unread_count(self.inmate_id)

    def contacts(self) -> list[tuple[str, str]]:
        return self._messages.contacts(self.inmate_id)

    def credits(self) -> int:
        resident = self._residents.by_inmate_id(self.inmate_id)
        return int(resident["message_credits"]) if resident is not None else 0

    # --- writing ---------------------------------------------------------------------------

    def write_to(self, contact_id: str, name: str) -> None:
        self.recipient, self.draft, self.problem = (contact_id, name), "", None

    def set_draft(self, text: str) -> None:
        self.draft, self.problem = text, None

    def discard_draft(self) -> None:
        self.recipient, self.draft, self.problem = None, "", None

    def send(self, max_chars: int) -> str | None:
        """Queue the draft; returns its message id, or None with ``problem`` saying why not."""
        body = self.draft.strip()
        if self.recipient is None:
            return None
        if not body:
            self.problem = _("Write your message first.")
            return None
        if len(body) > max_chars:
            self.problem = _("Your message is too long. Make it shorter, then send it.")
            return None
        contact_id, name = self.recipient
        message_id = str(uuid.uuid4())
        now = self._now()
        message = OutgoingMessage(message_id, self.inmate_id, contact_id, body, now)
        try:
            with transaction(self._db):
                if not self._residents.take_credit(self.inmate_id):
                    raise NoCredits
                # The inbox's time format (milliseconds), so that text order is time order
                # among incoming and outgoing messages alike; the same text as created_at.
                self._messages.add_outgoing(
                    message_id,
                    self.inmate_id,
                    contact_id,
                    body,
                    utc_text(now),
                    contact_name=name,
                )
                self._outbox.put_message(message)
        except NoCredits:
            self.problem = _(
                "You have no message credits left. Your message was not sent. "
                "Ask staff how to get more credits."
            )
            return None
        except OutboxFull:
            self.problem = _(
                "The kiosk cannot send messages right now. Your message was not sent and no "
                "credit was used. Please tell staff."
            )
            return None
        self._outbox.committed()
        self.discard_draft()
        self.reload()
        return message_id

    # --- views -----------------------------------------------------------------------------

    def rows(self, language: Language, zone: ZoneInfo) -> tuple[InboxRow, ...]:
        """The loaded messages as the inbox lists them; the same tuple until something changed
        (the view is composed every second, and dates in words are not free)."""
        key = (self.version, language.code, zone.key)
        if self._rows_key != key:
            # Rows already in words are kept (paging adds rows, a read changes one).
            formatted = {row.message_id: row for row in self._rows}
            if self._rows_key[1:] != key[1:]:
                formatted = {}
            rows = []
            for message in self._loaded:
                row = formatted.get(message.message_id)
                rows.append(row if _same(row, message) else _row(message, language, zone))
            self._rows = tuple(rows)
            self._rows_key = key
        return self._rows

    def message_view(self, language: Language, zone: ZoneInfo) -> MessageView | None:
        message = self.opened
        if message is None:
            return None
        text = language.text
        detail = ""
        if message.status == "rejected":
            detail = text(_("Not approved: {reason}")).format(
                reason=message.reason or text(_("no reason given"))
            )
            if refunded := message.credits_refunded:
                detail += " " + language.ngettext(
                    "{count} credit refunded.", "{count} credits refunded.", refunded
                ).format(count=refunded)
        return MessageView(
            message_id=message.message_id,
            direction=message.direction,
            who=_who(message, language),
            when=_when(message.sent_at, language, zone),
            body=message.body,
            photos=self._opened_photos,
            status=_status(message, language),
            status_detail=detail,
            contact_id=message.contact_id,
            contact_name=message.contact_name,
            photos_gone=_photos_gone(message.photos_removed, language),
        )

    def compose_view(
        self, language: Language, max_chars: int, credits: int | None = None
    ) -> ComposeView | None:
        """``credits``: the resident's balance, when the caller has just read it."""
        if self.recipient is None:
            return None
        text = language.text
        credits = self.credits() if credits is None else credits
        length = len(self.draft.strip())
        over = length > max_chars
        problem = text(self.problem) if self.problem else ""
        if not problem and credits <= 0:
            problem = text(
                _("You have no message credits left. Ask staff how to get more credits.")
            )
        return ComposeView(
            to=text(_("To {name}")).format(name=self.recipient[1]),
            count=f"{length} / {max_chars}",
            over_limit=over,
            cost=language.ngettext(
                "Sending costs 1 credit. You have {count} credit.",
                "Sending costs 1 credit. You have {count} credits.",
                credits,
            ).format(count=credits),
            can_send=credits > 0 and 0 < length <= max_chars,
            problem=problem,
            draft_warning=text(_("Your unsent message will be discarded."))
            if self.draft.strip()
            else "",
        )

    def _bump(self) -> None:
        self.version += 1


def _row(message: Message, language: Language, zone: ZoneInfo) -> InboxRow:
    first_line = message.body.strip().splitlines()[0] if message.body.strip() else ""
    if len(first_line) > FIRST_LINE_CHARS:
        first_line = first_line[: FIRST_LINE_CHARS - 1].rstrip() + "…"
    unread = message.direction == "in" and message.read_at is None
    return InboxRow(
        message_id=message.message_id,
        direction=message.direction,
        who=_who(message, language),
        first_line=first_line,
        when=_when(message.sent_at, language, zone),
        unread=unread,
        unread_label=language.text(_("New")) if unread else "",
        status=_status(message, language),
        status_code=message.status if message.direction == "out" else "",
    )


def _same(row: InboxRow | None, message: Message) -> bool:
    """Whether a row formatted earlier still shows this message as it is now."""
    return (
        row is not None
        and row.unread == (message.direction == "in" and message.read_at is None)
        and row.status_code == (message.status if message.direction == "out" else "")
    )


def _who(message: Message, language: Language) -> str:
    words = _("From {name}") if message.direction == "in" else _("To {name}")
    return language.text(words).format(name=message.contact_name)


def _status(message: Message, language: Language) -> str:
    if message.direction != "out":
        return ""
    return language.text(STATUS_WORDS.get(message.status, message.status))


def _photos_gone(count: int, language: Language) -> str:
    if not count:
        return ""
    return language.ngettext(
        "Its photo is no longer kept at this kiosk.",
        "Its {count} photos are no longer kept at this kiosk.",
        count,
    ).format(count=count)


def _when(sent_at: str, language: Language, zone: ZoneInfo) -> str:
    moment = datetime.fromisoformat(sent_at).astimezone(zone)
    return language.short_datetime(moment)
