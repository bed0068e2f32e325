"""A lobby station's visitor: checking in, the credential photos, and into their visit.

``kiosk.core.lobby.Lobby`` holds the visitor's steps; this part ties them to the station's
visits and language, and to what the idle screen says.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from kiosk.core.context import KioskContext
from kiosk.core.i18n import Language, _
from kiosk.core.lobby import Lobby, LobbyView
from kiosk.core.parts.visits import VisitorVisits
from kiosk.core.photo_checks import PhotoChecks
from kiosk.core.visit import CallFactory


class LobbyDesk:
    """The visitor at this station, if any, and the visit they check in for."""

    def __init__(
        self, context: KioskContext, call_factory: CallFactory | None, checks: PhotoChecks
    ) -> None:
        self._context = context
        self.visits = VisitorVisits(context, call_factory, forgotten=self._visit_forgotten)
        self.lobby = Lobby(
            kiosk_id=context.config.kiosk_id,
            clock=context.clock,
            camera=context.devices.camera,
            database=context.database,
            outbox=context.outbox,
            outbox_records=context.outbox_records,
            visits=lambda: context.station_visits,
            verifiers=context.verifiers,
            check_still=checks.check_still,
            join=self.visits.visitor_checked_in,
            event=context.event,
            changed=context.changed,
        )

    @property
    def busy(self) -> bool:
        return self.lobby.busy

    def begin_check_in(self) -> bool:
        """A visitor touched "Check in for your visit"; False when check-in is not open."""
        if self._context.sessions_blocked or self.visits.joined:
            return False
        self.lobby.begin()
        return True

    def intent(self, name: str, *args: Any) -> None:
        """What the visitor did on the check-in and photo screens."""
        lobby = self.lobby
        was_busy = lobby.busy
        if name in ("back", "submit", "touched", "leave"):
            getattr(lobby, name)()
        elif lobby.capture is not None:
            lobby.capture_intent(name, *args)
        else:
            lobby.check_in_intent(name, *args)
        if was_busy:
            self._after_visitor()

    def visitor_checked_in(self, visit_id: str) -> bool:
        """The lobby's visitor is here for this visit: they join it (False if it cannot be)."""
        visit = next((v for v in self._context.visits if v.visit_id == visit_id), None)
        return visit is not None and self.visits.visitor_checked_in(visit)

    def tick(self) -> None:
        busy = self.lobby.busy
        if busy and self._context.sessions_blocked:
            self.lobby.leave()  # a lockdown: nobody checks in, whatever they had typed
        self.lobby.tick()
        if busy:
            self._after_visitor()

    def view(self, language: Language, zone: ZoneInfo) -> LobbyView:
        return self.lobby.view(language, zone)

    def prompt(self) -> str:
        if self._context.sessions_blocked:
            return _("Check-in is paused")
        return _("Check in for your visit")

    def _after_visitor(self) -> None:
        """A visitor who left (not into their visit) takes their language choice with them."""
        if not self.lobby.busy and not self.visits.joined:
            self._context.language.reset()
            self._context.changed()

    def _visit_forgotten(self) -> None:
        self.lobby.forget_sent()
