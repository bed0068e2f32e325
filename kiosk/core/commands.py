"""Staff and technician commands from the cloud (the contract's ``command`` names)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from functools import partial
from typing import TYPE_CHECKING, Any

from hardware.selftest import run_selftest

if TYPE_CHECKING:
    from kiosk.core.kiosk import Kiosk

log = logging.getLogger(__name__)

Result = tuple[bool, str | None]


def run_command(kiosk: Kiosk, name: str, args: dict[str, Any]) -> Result | Awaitable[Result]:
    """Run one command; the answer says plainly what happened (ok, or why not).

    A command that takes a while (``selftest``) answers with an awaitable: the screen goes on
    being drawn, and its ``command_result`` goes out when it is done.
    """
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
        return run_selftest_now(kiosk)
    if name == "resync":
        return True, None  # the sync layer reconnects and receives every snapshot again
    if name == "reboot":
        if kiosk.restart is None:
            return False, "restart is not available on this kiosk"
        kiosk.restart()
        return True, None
    return False, f"unknown command {name}"


async def run_selftest_now(kiosk: Kiosk) -> Result:
    """Every device really exercised (the camera's frames counted, size and rate checked), in a
    worker thread; nobody is there to lift the handset, so that is only checked present."""
    test = partial(run_selftest, kiosk.devices, **kiosk.config.camera_expected)
    report = await asyncio.get_running_loop().run_in_executor(None, test)
    log.info("self-test: %s", "passed" if report.ok else "failed")
    if kiosk.uplink is not None:
        kiosk.uplink.event("selftest", report.as_dict())
    failed = sorted(name for name, check in report.checks.items() if not check.ok)
    return report.ok, (f"failed: {', '.join(failed)}" if failed else None)
