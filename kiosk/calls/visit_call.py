"""The core's side of a call (``kiosk.core.visit.CallPort``): one visit's Call on the loop.

The core's rules are synchronous; the call is asynchronous. This runs each step as a task on
the kiosk's loop, turns the camera on for the call and off after it, and hands the screen the
latest pictures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from hardware.interfaces import Camera
from kiosk.calls.call import Call
from kiosk.calls.signalling import VisitSignalling

log = logging.getLogger(__name__)


class VisitCall:
    def __init__(
        self,
        visit_id: str,
        *,
        kiosk_id: str,
        camera: Camera,
        publish: Callable[[dict[str, Any]], None],
        on_state: Callable[[str], None],
        ice_servers: list[str] | None = None,
    ) -> None:
        self.signalling = VisitSignalling(visit_id, kiosk_id, publish)
        self._camera = camera
        self._on_state = on_state
        self._ice_servers = ice_servers
        self._call: Call | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- CallPort ---------------------------------------------------------------------------

    def start(self, offerer: bool) -> None:
        # The camera is on for the call only: an idle kiosk films nobody.
        self._camera.start()
        self._call = Call(
            self.signalling,
            self._camera,
            offerer=offerer,
            on_state=self._on_state,
            ice_servers=self._ice_servers,
        )
        self._spawn(self._call.start())

    def restart(self) -> None:
        if self._call is not None:
            self._spawn(self._call.restart())

    def hang_up(self, reason: str) -> None:
        self._spawn(self._finish(reason))

    def deliver(self, signal: dict[str, Any]) -> None:
        self.signalling.deliver(signal)

    # --- what the screen shows ---------------------------------------------------------------

    def remote_image(self) -> np.ndarray | None:
        return self._call.remote_video.latest_image() if self._call is not None else None

    def local_image(self) -> np.ndarray | None:
        return self._call.local_video.latest_image() if self._call is not None else None

    @property
    def call(self) -> Call | None:
        return self._call

    async def wait_finished(self) -> None:
        """Until every step handed to the loop is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _finish(self, reason: str) -> None:
        try:
            if self._call is not None:
                if reason == "peer":
                    await self._call.close()  # the peer said bye: no bye back
                else:
                    await self._call.hang_up(reason)
        finally:
            await asyncio.get_running_loop().run_in_executor(None, self._camera.stop)

    def _spawn(self, step: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(step)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a call step failed", exc_info=task.exception())
            self._on_state("failed")
