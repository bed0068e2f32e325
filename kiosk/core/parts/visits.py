"""A visit's whole life at this kiosk: its join window opening, who joins, the call, its end, and
the end's words on screen for a while. The rules of one visit are ``kiosk.core.visit``'s; this
part decides which visit is here and who may join it.

Housing kiosks join their resident once they confirm who they are and lift the handset; lobby
stations join the visitor who checked in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from hardware.interfaces import DeviceState, HookEvent, HookState
from kiosk.core.context import KioskContext
from kiosk.core.i18n import Language, _
from kiosk.core.notice import NoticeText
from kiosk.core.parts.sessions import ResidentSessions
from kiosk.core.sign_in import SignedIn
from kiosk.core.visit import CallFactory, VisitInProgress, VisitView, open_visits, visit_now
from kiosk.core.visits import PRIVILEGED, Visit

VISIT_ENDED_SHOWN_S = 10  # the end screen's words stay this long, then the idle screen


class VisitsHere:
    """The visit whose join window is open at this kiosk, if any."""

    def __init__(self, context: KioskContext, call_factory: CallFactory | None) -> None:
        """``call_factory``: real calls (kiosk.calls); without one, both sides being present
        starts the visit with no call (the rules' tests, a kiosk without aiortc)."""
        self._context = context
        self._call_factory = call_factory
        self.visit: VisitInProgress | None = None
        self._ended_shown_until = 0.0

    @property
    def joined(self) -> bool:
        return self.visit is not None and self.visit.joined_at is not None

    def hang_up(self) -> None:
        """The on-screen Hang up, once confirmed."""
        if self.visit is not None and self.visit.ended_at is None:
            self.visit.end("hangup")

    def end_by_staff(self, visit_id: str | None) -> bool:
        """Staff ended the visit (the `end_visit` command); False if it is not here."""
        visit = self.visit
        if visit is None or visit.ended_at is not None:
            return False
        if visit_id and visit.visit.visit_id != visit_id:
            return False
        visit.end("command")
        return True

    def peer_signal(self, visit_id: str, signal: Mapping[str, Any]) -> None:
        visit = self.visit
        if visit is not None and visit_id == visit.visit.visit_id:
            visit.peer_signal(dict(signal))

    def schedule_changed(self) -> None:
        """The facility may have moved the visit held here: its times are the schedule's now,
        on every screen alike (a copy kept from when it opened would show the old minute)."""
        visit = self.visit
        if visit is None or visit.ended_at is not None:
            return
        held = visit.visit.visit_id
        current = next((v for v in self._context.visits if v.visit_id == held), None)
        if current is not None:
            visit.visit = current

    def tick(self) -> None:
        context = self._context
        now = context.clock.now()
        visit = self.visit
        if visit is not None:
            self.schedule_changed()
            visit.tick()
            if visit.ended_at is not None:
                if visit.joined_at is None or context.clock.monotonic() >= self._ended_shown_until:
                    self.forget()
                return
            if all(v.visit_id != visit.visit.visit_id for v in open_visits(context.visits, now)):
                # Cancelled or moved by the facility: over for whoever was here.
                if visit.joined_at is not None:
                    visit.end("command")
                else:
                    self.forget()
            return
        current = visit_now(context.visits, now)
        if current is not None and self._may_open():
            self.visit = self._in_progress(current)
            self._opened()

    def forget(self) -> None:
        """The visit is over here, and so is everything it showed."""
        if self.visit is not None and self.visit.ended_at is not None:
            # A hang-up is not a new invitation, nor a bye a visit still in progress.
            self._context.visit_over(self.visit.visit.visit_id)
        self.visit = None
        self._ended_shown_until = 0.0
        self._forgotten()

    def view(self, language: Language, zone: ZoneInfo) -> VisitView | None:
        if self.visit is None:
            return None
        view = self.visit.view(language, zone)
        if self._context.devices.handset.state != DeviceState.OK and view.phase != "ended":
            # Pulled or broken: it ends nothing by itself; the screen's buttons still work.
            view = replace(
                view,
                handset=language.text(
                    _("The handset is not working. Use the buttons on the screen.")
                ),
            )
        return view

    def idle_words(
        self, language: Language, notice: NoticeText, prompt: str
    ) -> tuple[NoticeText, str]:
        """What the idle screen says while a visit waits here; as it was otherwise."""
        return notice, prompt

    # --- for each role ---------------------------------------------------------------------

    def _may_open(self) -> bool:
        return True

    def _opened(self) -> None:
        pass

    def _forgotten(self) -> None:
        pass

    def _in_progress(self, visit: Visit) -> VisitInProgress:
        context = self._context
        if self._call_factory is not None:
            self._call_factory.prepare()  # the window is open: the call may be wanted soon
        return VisitInProgress(
            visit,
            role=context.config.role,
            now=context.clock.now,
            event=context.event,
            signal=self._send_signal,
            tone=context.devices.handset.play_tone,
            call_factory=self._call_factory,
            changed=self._changed,
            network=lambda: context.settings.call_network,
        )

    def _changed(self) -> None:
        visit = self.visit
        if visit is not None and visit.ended_at is not None and not self._ended_shown_until:
            # Long enough to read why; then idle, with no trace of the visit.
            self._ended_shown_until = self._context.clock.monotonic() + VISIT_ENDED_SHOWN_S
        self._context.changed()

    def _send_signal(self, kind: str) -> None:
        visit = self.visit
        if visit is None:
            return
        reason = visit.end_reason if kind == "bye" else None
        self._context.outbox.signal(visit.visit.visit_id, kind, reason)


class ResidentVisits(VisitsHere):
    """A housing kiosk's visits: the resident confirms with their ID and PIN and lifts the
    handset; putting it back ends the call."""

    def __init__(
        self, context: KioskContext, call_factory: CallFactory | None, sessions: ResidentSessions
    ) -> None:
        super().__init__(context, call_factory)
        self._sessions = sessions
        self._confirmed = False

    @property
    def waiting_for_resident(self) -> bool:
        return self.visit is not None and self.visit.ended_at is None and not self.joined

    def begin_confirmation(self) -> None:
        """Someone touched the idle screen or tapped a badge while the visit waits for them."""
        if not self._sessions.confirming:
            self._sessions.confirm(self._confirmed_by)

    def hook(self, event: HookEvent) -> None:
        visit = self.visit
        if visit is None or visit.ended_at is not None:
            return
        if event.state == HookState.OFF_HOOK:
            if visit.joined_at is None and self._confirmed:
                visit.join()
            elif visit.joined_at is None and not self._sessions.confirming:
                self.begin_confirmation()  # lifted first: now who is it?
        elif visit.joined_at is not None:
            visit.end("hangup")  # the handset put back
        elif self._sessions.confirming:
            self._sessions.leave_sign_in()

    def idle_words(
        self, language: Language, notice: NoticeText, prompt: str
    ) -> tuple[NoticeText, str]:
        if self.visit is None or self.joined:
            return notice, prompt
        # The notice turns into the call to come: the visit is ready for its resident.
        handset = _("Pick up the handset")
        prompt = _("Pick up the handset, or touch here, to join your visit")
        if self._confirmed:
            # Confirmed, and the handset still down: say what is left to do.
            handset = _("You are confirmed. Now pick up the handset.")
            prompt = _("Pick up the handset to join your visit")
        visit = self.visit.visit
        if visit.visitor_away and visit.kind == PRIVILEGED:
            ready = _("Your video visit with {name}, from their office, is ready")
        elif visit.visitor_away:
            ready = _("Your video visit with {name}, at home, is ready")
        else:
            ready = _("Your visit with {name} is ready")
        title = language.text(ready).format(name=visit.visitor_name)
        return NoticeText(title, "", language.text(handset)), prompt

    def _may_open(self) -> bool:
        return self._sessions.session is None

    def _opened(self) -> None:
        if self._sessions.sign_in is not None and not self._sessions.confirming:
            self._sessions.leave_sign_in()

    def _forgotten(self) -> None:
        if self._confirmed:
            self._context.language.reset()
        self._confirmed = False
        if self._sessions.confirming:
            self._sessions.leave_sign_in()

    def _confirmed_by(self, signed_in: SignedIn) -> None:
        """The PIN matched: if it is the visit's resident, they may join."""
        context = self._context
        self._sessions.sign_in = None
        self._sessions.confirming = False
        visit = self.visit
        if visit is None or visit.ended_at is not None:
            context.changed()
            return
        if signed_in.resident["inmate_id"] != visit.visit.inmate_id:
            self._sessions.confirm(self._confirmed_by).refuse(
                _("This visit is for {name}. Only they can join it."),
                name=visit.visit.inmate_name,
            )
            context.changed()
            return
        self._confirmed = True
        context.language.prefer(signed_in.resident.get("language"))  # her visit, her language
        if context.devices.handset.hook_state == HookState.OFF_HOOK:
            visit.join()
        context.changed()


class VisitorVisits(VisitsHere):
    """A lobby station's visits: the visitor who checked in joins."""

    def __init__(
        self,
        context: KioskContext,
        call_factory: CallFactory | None,
        forgotten: Callable[[], None],
    ) -> None:
        """``forgotten``: the visit is over, and so is the lobby's account of its photos."""
        super().__init__(context, call_factory)
        self._forgotten_too = forgotten

    def visitor_checked_in(self, visit: Visit) -> bool:
        """The lobby's visitor is here for this visit: they join it (False if it cannot be)."""
        # A lockdown may have come while the code was being checked: no visit begins in one.
        if self.joined or self._context.sessions_blocked:
            return False
        if self.visit is None or self.visit.visit.visit_id != visit.visit_id:
            if visit.visit_id in self._context.visits_over:
                return False
            if self.visit is not None:
                self.forget()  # an earlier visit nobody came for gives way
            self.visit = self._in_progress(visit)
        self.visit.visit = visit  # as the schedule has it now
        return self.visit.join()

    def _forgotten(self) -> None:
        self._context.language.reset()
        self._forgotten_too()
