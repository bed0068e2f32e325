"""Staff and technician commands from the cloud (the contract's ``command`` names)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.core.kiosk import Kiosk

log = logging.getLogger(__name__)

Result = tuple[bool, str | None]


def run_command(kiosk: Kiosk, name: str, args: dict[str, Any]) -> Result:
    """Run one command; the answer says plainly what happened (ok, or why not)."""
    if name == "lock":
        kiosk.locked_reason = str(args.get("reason") or "locked by staff")
        kiosk.sign_out("command")  # a kiosk closed by staff holds nobody's session
        kiosk.leave_sign_in()
        return True, None
    if name == "unlock":
        kiosk.locked_reason = None
        kiosk.refresh()
        return True, None
    if name == "logout":
        # With no session open there is nothing to end, and that is what staff wanted.
        kiosk.sign_out("command")
        return True, None
    if name == "end_visit":
        if kiosk.end_visit(args.get("visit_id")):
            return True, None
        return False, "no visit in progress at this kiosk"
    if name == "selftest":
        report = kiosk.hardware_report()
        failed = sorted(device for device, state in report.items() if state["state"] != "ok")
        if kiosk.uplink is not None:
            kiosk.uplink.event("selftest", {"hardware": report, "ok": not failed})
        return (not failed), (f"failed: {', '.join(failed)}" if failed else None)
    if name == "resync":
        return True, None  # the sync layer reconnects and receives every snapshot again
    if name == "reboot":
        if kiosk.restart is None:
            return False, "restart is not available on this kiosk"
        kiosk.restart()
        return True, None
    return False, f"unknown command {name}"
