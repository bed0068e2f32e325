"""The headless kiosk: the parts its role needs (``kiosk/core/parts``), the view the screens
show, the intents they send. Whoever builds a kiosk hands it every collaborator (``kiosk.assembly``
does, from a configuration)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from hardware.interfaces import BadgeEvent, DeviceEvent, Devices, HookEvent
from kiosk.config import KioskConfig
from kiosk.core.clock import Clock, seconds_to_next_second
from kiosk.core.context import KioskContext
from kiosk.core.facility import FacilityNotice, FacilitySettings
from kiosk.core.lobby import Lobby
from kiosk.core.parts.devices import DeviceEvents
from kiosk.core.parts.health import Health
from kiosk.core.parts.lobby_desk import LobbyDesk
from kiosk.core.parts.retention import RetentionPurges
from kiosk.core.parts.sessions import ResidentSessions
from kiosk.core.parts.staff import Result, StaffCommands
from kiosk.core.parts.technician_mode import TechnicianMode
from kiosk.core.parts.visits import ResidentVisits, VisitsHere
from kiosk.core.photo_checks import PhotoChecks
from kiosk.core.ports import (
    Actions,
    CloudLinkChanged,
    ConfigApplied,
    Inbound,
    MailChanged,
    NoticeApplied,
    Outbox,
    PeerSignal,
    ScheduleApplied,
    StaffCommand,
)
from kiosk.core.recent_problems import RecentProblems
from kiosk.core.session import Session
from kiosk.core.sign_in import SignIn
from kiosk.core.tamper import TamperLog
from kiosk.core.technician import TechnicianVisit
from kiosk.core.view import KioskView, compose_view
from kiosk.core.visit import CallFactory, VisitInProgress
from kiosk.store.residents import ResidentsRepository

Listener = Callable[[KioskView], None]


class Kiosk:
    """One kiosk. Many can live in one process: all state is on the instance."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        clock: Clock,
        database: Any,
        devices: Devices,
        outbox: Outbox,
        call_factory: CallFactory | None = None,
        actions: Actions | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.database = database
        self.devices = devices
        self.outbox = outbox
        self._call_factory = call_factory
        context = self._context = KioskContext(
            config,
            clock=clock,
            database=database,
            devices=devices,
            outbox=outbox,
            actions=actions or Actions(),
        )
        context.on_change(self._refresh)
        self._log = context.log
        checks = PhotoChecks()
        # The parts this role needs: residents and their visits, or the lobby's visitors.
        self._sessions: ResidentSessions | None = None
        self._resident_visits: ResidentVisits | None = None
        self._desk: LobbyDesk | None = None
        self._visits: VisitsHere
        if config.role == "lobby":
            self._desk = LobbyDesk(context, call_factory, checks)
            self._visits = self._desk.visits
        else:
            self._sessions = ResidentSessions(context, checks)
            self._visits = self._resident_visits = ResidentVisits(
                context, call_factory, self._sessions
            )
        self._health = Health(context, lambda: self.session is not None)
        self._staff = StaffCommands(
            context,
            sign_out=self.sign_out,
            leave_sign_in=self.leave_sign_in,
            end_visit=self.end_visit,
        )
        self._technician = TechnicianMode(
            context, self._health, self._staff, in_use=self._in_use, make_way=self.leave_sign_in
        )
        self._tamper = TamperLog(clock.monotonic, context.event)
        self._retention = RetentionPurges(context, in_use=self._in_use)
        self._listeners: list[Listener] = []
        self._devices = DeviceEvents(
            context,
            badge=lambda event: self.on_badge(event),
            hook=lambda event: self.on_hook(event),
            device=lambda event: self.on_device(event),
        )
        self._view = self._compose()

    # --- what the screens and the sync layer read ------------------------------------------

    @property
    def view(self) -> KioskView:
        return self._view

    @property
    def settings(self) -> FacilitySettings:
        return self._context.settings

    @property
    def sign_in(self) -> SignIn | None:
        return self._sessions.sign_in if self._sessions is not None else None

    @property
    def session(self) -> Session | None:
        return self._sessions.session if self._sessions is not None else None

    @property
    def session_active(self) -> bool:
        return self.session is not None

    @property
    def visit(self) -> VisitInProgress | None:
        return self._visits.visit

    @property
    def ready_to_call(self) -> bool:
        """A visit's call would start at once here (a kiosk without calls always would)."""
        return self._call_factory is None or self._call_factory.ready_to_call()

    @property
    def lobby(self) -> Lobby | None:
        return self._desk.lobby if self._desk is not None else None

    @property
    def technician(self) -> TechnicianVisit | None:
        return self._technician.technician

    @property
    def problems(self) -> RecentProblems:
        """This kiosk's own last warnings and errors."""
        return self._health.problems

    @property
    def schedule_version(self) -> int | None:
        return self._context.schedule.version()

    @property
    def residents_version(self) -> int | None:
        return ResidentsRepository(self.database).version()

    @property
    def sessions_blocked(self) -> bool:  # a lockdown notice or a staff lock
        return self._context.sessions_blocked

    @property
    def tamper_attempts(self) -> Counter[str]:  # every attempt since start, per kind
        return self._tamper.presses

    def hardware_report(self) -> dict[str, dict[str, str]]:
        return self._health.hardware_report()

    def status(self) -> dict[str, Any]:
        """What `kiosk-provision status` shows: the kiosk's health, nothing of a resident."""
        return self._health.status()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with the new view whenever it changes; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # --- intents from the screens ----------------------------------------------------------

    def set_language(self, code: str) -> None:
        self._context.language.choose(code)
        self._refresh()

    def begin_sign_in(self) -> bool:
        """Someone touched "sign in"; False when paused. A visit waiting: confirms its resident."""
        sessions, visits = self._sessions, self._resident_visits
        if sessions is None or visits is None or sessions.session is not None:
            return False
        if visits.waiting_for_resident:
            visits.begin_confirmation()
            began = True
        else:
            began = sessions.begin()
        self._refresh()
        return began

    def sign_in_intent(self, name: str, *args: Any) -> None:
        """A key on the sign-in keypad: ``key``, ``backspace``, ``enter`` or ``cancel``."""
        if self._sessions is not None:
            self._sessions.intent(name, *args)

    def leave_sign_in(self) -> None:
        """Back to the idle screen; whatever was typed is forgotten."""
        if self._sessions is not None:
            self._sessions.leave_sign_in()
        self._refresh()

    def session_intent(self, name: str, *args: Any) -> Any:
        """What the resident did in their session; a touch for nobody (signed out) does nothing."""
        if self._sessions is None:
            return None
        result = self._sessions.session_intent(name, *args)
        self._refresh()
        return result

    def sign_out(self, reason: str = "user") -> None:
        """End the session; nothing of the resident stays in the view."""
        if self._sessions is not None and self._sessions.session is not None:
            self._sessions.sign_out(reason)
            self._refresh()

    def begin_check_in(self) -> bool:
        """A visitor touched "Check in for your visit"; False when check-in is not open."""
        return self._desk is not None and self._desk.begin_check_in()

    def lobby_intent(self, name: str, *args: Any) -> None:
        """What the visitor did on the check-in and photo screens."""
        if self._desk is not None:
            self._desk.intent(name, *args)

    def visitor_checked_in(self, visit_id: str) -> bool:
        """The lobby's visitor is here for this visit: they join it (False if it cannot be)."""
        return self._desk is not None and self._desk.visitor_checked_in(visit_id)

    def hang_up(self) -> None:  # the on-screen Hang up, once confirmed
        self._visits.hang_up()

    def end_visit(self, visit_id: str | None) -> bool:
        """Staff ended the visit (the `end_visit` command); False if it is not here."""
        return self._visits.end_by_staff(visit_id)

    def technician_intent(self, name: str, *args: Any) -> None:
        """The technician's screen: PIN keys, ``selftest``, ``restart``, ``reboot``, ``close``."""
        self._technician.intent(name, *args)
        self._refresh()

    def leave_technician(self, reason: str) -> None:
        """Close the technician's screen; back to the idle screen."""
        self._technician.leave(reason)
        self._refresh()

    def record_tamper(self, attempt: str) -> None:
        """An attempt to leave the kiosk: counted, never obeyed; one event per sequence."""
        if self._tamper.attempt(attempt):
            self._log.warning("escape attempt blocked: %s", attempt)

    # --- the devices (their events handed to the loop) -------------------------------------

    def on_badge(self, event: BadgeEvent) -> None:
        # The badge itself is never logged: it is matched only through its HMAC lookup.
        if self._technician.badge(event.badge_id):
            self._refresh()
            return
        sessions, visits = self._sessions, self._resident_visits
        if sessions is None or visits is None:
            return  # a lobby station knows no resident's badge
        if visits.waiting_for_resident:
            visits.begin_confirmation()
        elif sessions.session is not None:
            sessions.session.touched()  # a resident tapping again mid-session stays signed in
            return
        elif sessions.sign_in is None and not sessions.begin():
            self._refresh()
            return
        sessions.badge(event.badge_id)
        self._refresh()

    def on_hook(self, event: HookEvent) -> None:  # the handset lifted or put back
        self._log.info("handset %s", event.state)
        if self._resident_visits is not None:
            self._resident_visits.hook(event)
            self._refresh()

    def on_device(self, event: DeviceEvent) -> None:
        """udev saw a device come or go (on the loop's thread)."""
        self._health.device_event(event)
        self._refresh()

    # --- the facility cloud (the sync layer calls these on the event loop) -----------------

    def receive(self, event: Inbound) -> None:
        """Something from the cloud has been committed: show what it changes."""
        context = self._context
        if isinstance(event, CloudLinkChanged):
            self._health.cloud_link_changed(event.connected)
        elif isinstance(event, ConfigApplied):
            context.settings = context.settings.with_cloud_config(event.values, self.config.role)
            context.language.offered_changed()
        elif isinstance(event, NoticeApplied):
            context.notice = FacilityNotice.from_snapshot(event.values)
        elif isinstance(event, ScheduleApplied):
            context.load_visits()
            self._visits.schedule_changed()
        elif isinstance(event, MailChanged):
            if self._sessions is not None:
                self._sessions.mail_changed()
        elif isinstance(event, PeerSignal):
            self._visits.peer_signal(event.visit_id, event.values)
        self._refresh()

    def run_command(self, command: StaffCommand) -> Result | Awaitable[Result]:
        """A staff command: (ok, error), or an awaitable of them for one that takes a while."""
        result = self._staff.run(command.name, dict(command.args))
        self._refresh()
        return result

    def apply_schedule(self, version: int, visits: list[dict[str, Any]], payload: str = "") -> bool:
        """Replace the schedule whole; a lower version than the one held changes nothing."""
        if not self._context.schedule.replace(version, visits, payload):
            return False
        self.receive(ScheduleApplied(version))
        return True

    # --- time and life cycle ---------------------------------------------------------------

    def tick(self) -> None:
        """Time passed: the clock, the notice and the session's countdowns read differently."""
        if self._sessions is not None:
            self._sessions.tick(self._sessions.confirming)
        if self._desk is not None:
            self._desk.tick()
        self._technician.tick()
        self._health.write_status()
        self._visits.tick()
        self._retention.tick()
        self._health.check_hardware()
        self._refresh()

    def refresh(self) -> None:  # tell the screens, if they would see a difference
        self._refresh()

    async def run(self) -> None:
        """Run until cancelled: devices on, one tick as each wall-clock second turns."""
        self._devices.start(asyncio.get_running_loop())
        self.problems.attach()
        try:
            while True:
                self.tick()
                await self.clock.sleep(seconds_to_next_second(self.clock.now()))
        finally:
            self.problems.detach()
            self._devices.stop()

    def close(self) -> None:
        if self._call_factory is not None:
            self._call_factory.close()
        self._devices.stop()
        self.database.close()

    def _in_use(self) -> bool:
        desk_busy = self._desk is not None and self._desk.busy
        return self.session is not None or self._visits.joined or desk_busy

    # --- composing the view ----------------------------------------------------------------

    def _refresh(self) -> None:
        view = self._compose()
        if view == self._view:
            return  # nothing a reader could see changed: no redraw
        self._view = view
        for listener in list(self._listeners):
            try:
                listener(view)
            except Exception:
                self._log.exception("a view listener failed")

    def _compose(self) -> KioskView:
        return compose_view(
            self._context,
            sessions=self._sessions,
            desk=self._desk,
            visits=self._visits,
            technician=self._technician.view(),
            connected=self._health.cloud_connected,
        )
