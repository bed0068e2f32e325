"""Residents at a housing kiosk: sign-in, the session, its messages, and signing out.

A visit's resident confirms who they are through the same sign-in (``confirm``), so the PIN's
pauses and pace are one and the same whatever the sign-in is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.contract.times import utc_text
from kiosk.core.context import KioskContext
from kiosk.core.i18n import Language, _
from kiosk.core.login_snapshot import take_snapshot
from kiosk.core.mailbox import Mailbox
from kiosk.core.photo_checks import PhotoChecks
from kiosk.core.ports import OutgoingCapture
from kiosk.core.session import Session, SessionView, sessions_paused_by_visit
from kiosk.core.sign_in import SignedIn, SignIn, SignInView
from kiosk.store.messages import MessagesRepository
from kiosk.store.outbox import OutboxFull
from kiosk.store.residents import ResidentsRepository

SESSION_INTENTS = frozenset(
    {
        "show_inbox",
        "open_message",
        "reply",
        "new_message",
        "write_to",
        "back",
        "set_draft",
        "send",
        "load_more",
        "touched",
    }
)


class ResidentSessions:
    """The resident at the kiosk, if any: signing in, then their session."""

    def __init__(self, context: KioskContext, checks: PhotoChecks) -> None:
        self._context = context
        self._checks = checks
        self._residents = ResidentsRepository(context.database)
        self._messages = MessagesRepository(context.database)
        self.sign_in: SignIn | None = None
        self.confirming = False  # the sign-in under way confirms a visit's resident
        self.session: Session | None = None
        self._greeted = False  # a badge named a resident, and the screens speak their language
        self.unread = self._messages.unread_total()

    # --- signing in ------------------------------------------------------------------------

    def paused_reason(self) -> str | None:
        """Why no session may begin now (untranslated words and values), or None."""
        context = self._context
        if context.notice is not None and context.notice.blocks_sessions:
            return _("Sign-in is paused during the lockdown.")
        if context.locked_reason is not None:
            return _("This kiosk is closed by staff.")
        if sessions_paused_by_visit(context.visits, context.clock.now()) is not None:
            return _("A visit at this kiosk begins at {time}. Sign-in opens again at {end}.")
        return None

    def begin(self) -> bool:
        """Someone touched "sign in"; False when sign-in is paused."""
        if self.session is not None:
            return False
        if self.paused_reason() is not None:
            return False
        if self.sign_in is None:
            self.sign_in = self._new_sign_in(self._start_session)
        return True

    def confirm(self, confirmed: Callable[[SignedIn], None]) -> SignIn:
        """A sign-in that confirms who is joining a visit, instead of opening a session."""
        self.confirming = True
        self.sign_in = self._new_sign_in(confirmed, _("Confirm it is you for your visit"))
        return self.sign_in

    def intent(self, name: str, *args: Any) -> None:
        """A key on the sign-in keypad: ``key``, ``backspace``, ``enter`` or ``cancel``."""
        if self.sign_in is None or name not in ("key", "backspace", "enter", "cancel"):
            return
        getattr(self.sign_in, name)(*args)

    def badge(self, badge_id: str) -> None:
        """A wristband on the reader while signing in: greet its resident in their language."""
        if self.sign_in is None:
            return
        self.sign_in.badge(badge_id, self._context.settings.badge_key)
        if self.sign_in.reader_language is not None:
            self._context.language.prefer(self.sign_in.reader_language)
            self._greeted = True

    def leave_sign_in(self) -> None:
        """Back to the idle screen; whatever was typed is forgotten."""
        if self.sign_in is not None:
            self.sign_in.close()
            self.sign_in = None
        if self._greeted and self.session is None:
            self._context.language.reset()  # greeted in theirs; they went away
        self._greeted = False
        self.confirming = False

    def _new_sign_in(
        self, signed_in: Callable[[SignedIn], None], title: str = _("Sign in")
    ) -> SignIn:
        context = self._context
        # Made ahead, off the loop: the first unknown ID must take no longer than a known one.
        with contextlib.suppress(RuntimeError):  # no loop (a test without one): made on use
            asyncio.get_running_loop().run_in_executor(None, context.verifiers.decoy)
        return SignIn(
            residents=self._residents,
            lockouts=context.lockouts,
            pace=context.pace,
            clock=context.clock,
            verifiers=context.verifiers,
            event=context.event,
            signed_in=signed_in,
            title=title,
            changed=context.changed,
        )

    # --- the session -----------------------------------------------------------------------

    def _start_session(self, signed_in: SignedIn) -> None:
        context = self._context
        self.sign_in = None
        if self.paused_reason() is not None:
            context.changed()  # a lockdown came while the PIN was being checked
            return
        resident = signed_in.resident
        mailbox = Mailbox(
            resident["inmate_id"],
            database=context.database,
            outbox=context.outbox,
            now=context.clock.now,
        )
        self._greeted = False
        self.session = Session(
            resident,
            signed_in.method,
            mailbox=mailbox,
            clock=context.clock,
            idle_s=context.settings.session_idle_s,
            max_s=context.settings.session_max_s,
        )
        context.language.prefer(resident.get("language"))
        # The snapshot makes the event late: the time of the sign-in itself travels with it.
        detail = {
            "method": signed_in.method,
            "inmate_id": resident["inmate_id"],
            "signed_in_at": utc_text(self.session.started_at),
        }
        if context.config.login_snapshot:
            context.spawn(self._login_snapshot(resident["inmate_id"], detail))
        else:
            context.event("login", detail)
        context.outbox.health_changed()
        context.changed()

    async def _login_snapshot(self, inmate_id: str, detail: dict[str, Any]) -> None:
        context = self._context
        snapshot = await take_snapshot(context.devices.camera, self._checks.check_face)
        detail = {**detail, "snapshot": snapshot.outcome}
        if snapshot.jpeg is not None:
            capture = OutgoingCapture(
                capture_id=str(uuid.uuid4()),
                purpose="login_snapshot",
                subject={"inmate_id": inmate_id},
                taken_at=context.clock.now(),
                jpeg=snapshot.jpeg,
            )
            try:
                context.outbox.put_capture(capture)
                detail["capture_id"] = capture.capture_id
                context.outbox.committed()
            except OutboxFull:
                detail["snapshot"] = "not_kept"
        context.event("login", detail)

    def session_intent(self, name: str, *args: Any) -> Any:
        """What the resident did in their session; a touch for nobody (signed out) does nothing."""
        session = self.session
        if session is None or name not in SESSION_INTENTS:
            return None
        session.touched()
        if name == "send":
            return session.send(self._context.settings.message_max_chars)
        if name in ("set_draft", "load_more"):
            return getattr(session.mailbox, name)(*args)
        return getattr(session, name)(*args)

    def sign_out(self, reason: str = "user") -> None:
        """End the session; nothing of the resident stays in the view."""
        session = self.session
        if session is None:
            return
        context = self._context
        self.session = None
        session.mailbox.discard_draft()
        # What they read is read: the idle screen's count must not still offer it.
        self.unread = self._messages.unread_total()
        context.language.reset()
        context.event(
            "logout",
            {
                "reason": reason,
                "inmate_id": session.inmate_id,
                "duration_s": int(context.clock.monotonic() - session.started),
            },
        )
        context.outbox.health_changed()  # session_active changed

    def mail_changed(self) -> None:
        self.unread = self._messages.unread_total()
        if self.session is not None:
            self.session.mailbox.reload()

    def tick(self, visits_confirming: bool) -> None:
        if self.sign_in is not None and (
            self.sign_in.abandoned() or (self.paused_reason() is not None and not self.confirming)
        ):
            self.leave_sign_in()
        if self.session is not None:
            reason = self.session.due_reason(self._context.visits)
            if reason is not None:
                self.sign_out(reason)

    # --- the view --------------------------------------------------------------------------

    def sign_in_view(self, language: Language, zone: ZoneInfo) -> SignInView | None:
        if self.sign_in is None:
            return None
        return self.sign_in.view(language, zone, not self._context.badge_reader_gone())

    def session_view(self, language: Language, zone: ZoneInfo) -> SessionView | None:
        if self.session is None:
            return None
        context = self._context
        return self.session.view(language, zone, context.visits, context.settings.message_max_chars)

    def prompt(self) -> str:
        if self._context.sessions_blocked or self.paused_reason() is not None:
            return _("Sign-in is paused")
        if self._context.badge_reader_gone():
            return _("Touch the screen to sign in")  # a dead reader must not be promised
        return _("Tap your badge or touch to sign in")

    def paused_text(self, language: Language, zone: ZoneInfo) -> str:
        words = self.paused_reason()
        if words is None:
            return ""
        visit = sessions_paused_by_visit(self._context.visits, self._context.clock.now())
        if visit is None:
            return language.text(words)
        return language.text(words).format(
            time=language.time(visit.starts_at.astimezone(zone)),
            end=language.time(visit.ends_at.astimezone(zone)),
        )

    def messages_waiting(self, language: Language) -> str:
        if not self.unread:
            return ""
        return language.ngettext(
            "{count} new message is waiting. Sign in to read it.",
            "{count} new messages are waiting. Sign in to read them.",
            self.unread,
        ).format(count=self.unread)
