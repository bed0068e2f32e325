"""Staff and technician commands from the cloud (the contract's ``command`` names)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from kiosk.core.context import KioskContext

Result = tuple[bool, str | None]


class StaffCommands:
    """Runs one command at a time and says plainly what happened (ok, or why not)."""

    def __init__(
        self,
        context: KioskContext,
        *,
        sign_out: Callable[[str], None],
        leave_sign_in: Callable[[], None],
        end_visit: Callable[[str | None], bool],
    ) -> None:
        """``sign_out``: end whatever session is open; ``leave_sign_in``: forget a sign-in
        under way; ``end_visit``: the visit here, if any."""
        self._context = context
        self._sign_out = sign_out
        self._leave_sign_in = leave_sign_in
        self._end_visit = end_visit

    def run(self, name: str, args: dict[str, Any]) -> Result | Awaitable[Result]:
        """A command that takes a while (``selftest``) answers with an awaitable: the screen
        goes on being drawn, and its ``command_result`` goes out when it is done."""
        context = self._context
        if name == "lock":
            context.locked_reason = str(args.get("reason") or "locked by staff")
            self._sign_out("command")  # a kiosk closed by staff holds nobody's session
            self._leave_sign_in()
            return True, None
        if name == "unlock":
            context.locked_reason = None
            return True, None
        if name == "logout":
            # With no session open there is nothing to end, and that is what staff wanted.
            self._sign_out("command")
            return True, None
        if name == "end_visit":
            if self._end_visit(args.get("visit_id")):
                return True, None
            return False, "no visit in progress at this kiosk"
        if name == "selftest":
            return self.selftest()
        if name == "resync":
            return True, None  # the sync layer reconnects and receives every snapshot again
        if name == "reboot":
            if context.actions.restart is None:
                return False, "restart is not available on this kiosk"
            context.actions.restart()
            return True, None
        return False, f"unknown command {name}"

    async def selftest(self) -> Result:
        """Every device really exercised (the camera's frames counted, size and rate checked),
        in a worker thread; nobody is there to lift the handset, so that is only checked
        present."""
        # Here, not at start-up: the self-test's numpy is not needed for the first frame.
        from hardware.selftest import run_selftest

        context = self._context
        test = partial(run_selftest, context.devices, **context.config.camera_expected)
        report = await asyncio.get_running_loop().run_in_executor(None, test)
        context.log.info("self-test: %s", "passed" if report.ok else "failed")
        context.event("selftest", report.as_dict())
        failed = sorted(name for name, check in report.checks.items() if not check.ok)
        return report.ok, (f"failed: {', '.join(failed)}" if failed else None)
