"""Technician mode: a technician's badge and PIN open the maintenance screen, at a kiosk nobody
is using. The rules of the PIN and the rows are ``kiosk.core.technician``'s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.core.context import KioskContext
from kiosk.core.parts.health import Health
from kiosk.core.parts.staff import StaffCommands
from kiosk.core.technician import (
    IDLE_CLOSE_S,
    OPEN,
    TechnicianView,
    TechnicianVisit,
    maintenance_rows,
    technician_for_badge,
)


class TechnicianMode:
    def __init__(
        self,
        context: KioskContext,
        health: Health,
        staff: StaffCommands,
        in_use: Callable[[], bool],
        make_way: Callable[[], None],
    ) -> None:
        """``in_use``: someone is at the kiosk (a session, a visit, a visitor);
        ``make_way``: close a sign-in left open, for the technician's PIN."""
        self._context = context
        self._health = health
        self._staff = staff
        self._in_use = in_use
        self._make_way = make_way
        self.technician: TechnicianVisit | None = None

    def badge(self, badge_id: str) -> bool:
        """A technician's badge at a kiosk nobody is using asks for their PIN; True if it was."""
        context = self._context
        technician = technician_for_badge(
            context.settings.technicians,
            badge_id,
            context.verifiers.badge_key(context.settings.badge_key),
        )
        if technician is None:
            return False
        if self.technician is not None:
            self.technician.touched()
            return True
        if self._in_use():
            context.log.info("a technician badge was refused: the kiosk is in use")
            return True
        self._make_way()
        self.technician = TechnicianVisit(
            technician,
            lockouts=context.lockouts,
            verifiers=context.verifiers,
            pace=context.pace,
            clock=context.clock,
            event=context.event,
            changed=context.changed,
        )
        return True

    def intent(self, name: str, *args: Any) -> None:
        """The technician's screen: PIN keys, then ``selftest``, ``restart``, ``reboot``,
        ``close``; any touch keeps it open."""
        technician = self.technician
        if technician is None:
            return
        if name in ("key", "backspace", "enter"):
            getattr(technician, name)(*args)
            return
        technician.touched()
        actions = self._context.actions
        if name == "close":
            self.leave("closed")
        elif technician.step != OPEN:
            return
        elif name == "selftest" and technician.selftest != "running":
            technician.selftest = "running"
            self._context.spawn(self._selftest(technician))
        elif name == "restart" and actions.restart is not None:
            self.leave("restart")
            actions.restart()
        elif name == "reboot" and actions.reboot is not None:
            self.leave("reboot")
            actions.reboot()

    async def _selftest(self, technician: TechnicianVisit) -> None:
        ok, error = await self._staff.selftest()
        technician.selftest = "all devices passed" if ok else (error or "failed")
        self._context.changed()

    def leave(self, reason: str) -> None:
        """Close the technician's screen; back to the idle screen."""
        technician, self.technician = self.technician, None
        if technician is None:
            return
        detail = technician.close()
        if detail:
            self._context.log.info("technician %s left (%s)", detail["technician_id"], reason)
            self._context.event("technician_left", {**detail, "reason": reason})

    def tick(self) -> None:
        if self.technician is not None and self.technician.expired():
            self.leave("idle")

    def view(self) -> TechnicianView | None:
        technician = self.technician
        if technician is None:
            return None
        is_open = technician.step == OPEN
        actions = self._context.actions
        return TechnicianView(
            step=technician.step,
            name=str(technician.technician.get("display_name", "")),
            pin_mask=technician.pin_mask,
            message=technician.message,
            rows=maintenance_rows(self._health.status()) if is_open else (),
            errors=self._health.problems.newest_first() if is_open else (),
            selftest=technician.selftest,
            can_reboot=actions.reboot is not None,
            can_restart=actions.restart is not None,
            closes_in_s=max(0, int(IDLE_CLOSE_S - technician.idle_s())),
        )
