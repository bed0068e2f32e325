"""The core's side of a call (``kiosk.core.visit.CallPort``): one visit's Call on the loop.

The core's rules are synchronous; the call is asynchronous. This runs each step as a task on
the kiosk's loop, turns the camera on for the call and off after it, and hands the screen the
latest pictures.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from hardware.alsa_audio import AlsaEarpiece, AlsaMicrophone
from hardware.interfaces import Camera
from kiosk.calls.call import Call
from kiosk.calls.handset_audio import EarpieceSink, MicrophoneTrack
from kiosk.calls.signalling import VisitSignalling

log = logging.getLogger(__name__)

# No picture or sound from the other side for this long, in a call that was up: the network
# dropped. Waiting for ICE to notice takes tens of seconds; a visit cannot spare them.
STALL_S = 2.0
WATCH_EVERY_S = 0.5
# A restart that brought nothing back by then is made again (its offer or answer was lost).
# Longer than a slow ICE and DTLS on a busy host: 5 s cut every restart short there, and the
# call never came back (tests/ui/test_hotplug.py caught it).
RESTART_EVERY_S = 20.0


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
        picture_filter: Callable[[np.ndarray], np.ndarray] | None = None,
        microphone: AlsaMicrophone | None = None,
        earpiece: AlsaEarpiece | None = None,
    ) -> None:
        """``microphone``/``earpiece``: the handset's sound devices; without them the call
        sends a test tone."""
        self.signalling = VisitSignalling(visit_id, kiosk_id, publish)
        self._camera = camera
        self._microphone = microphone
        self._earpiece = earpiece
        self._on_state = on_state
        self._ice_servers = ice_servers
        self._picture_filter = picture_filter
        self._call: Call | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._offerer = False
        self._stalled = False

    # --- CallPort ---------------------------------------------------------------------------

    def start(self, offerer: bool) -> None:
        # The camera and the microphone are on for the call only: an idle kiosk films and
        # records nobody.
        self._camera.start()
        sound: dict[str, Any] = {}
        if self._microphone is not None and self._earpiece is not None:
            self._microphone.start()
            self._earpiece.start()
            sound = {
                "microphone": MicrophoneTrack(self._microphone),
                "earpiece": EarpieceSink(self._earpiece),
            }
        self._call = Call(
            self.signalling,
            self._camera,
            offerer=offerer,
            on_state=self._on_state,
            ice_servers=self._ice_servers,
            picture_filter=self._picture_filter,
            **sound,
        )
        self._offerer = offerer
        self._spawn(self._call.start())
        self._spawn(self._watch())

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

    def camera_failed(self) -> bool:
        return self._call is not None and self._call.camera_failed

    @property
    def call(self) -> Call | None:
        return self._call

    async def wait_finished(self) -> None:
        """Until every step handed to the loop is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _watch(self) -> None:
        """Say "reconnecting" on both sides when the media stops, and make a new offer (the
        offerer); say "connected" again when it flows."""
        call = self._call
        connected_at: float | None = None
        restarted_at: float | None = None
        while call is not None and call.state != "closed":
            await asyncio.sleep(WATCH_EVERY_S)
            now = time.monotonic()
            if connected_at is None:
                if call.state != "connected":
                    continue
                connected_at = now  # from here on, silence means a drop
            heard = (call.remote_video.last_frame_at, call.remote_audio.last_frame_at, connected_at)
            last = max(t for t in heard if t is not None)
            stalled = now - last > STALL_S
            if stalled and not self._stalled:
                self._stalled = True
                log.warning("visit %s: no media for %.1f s", self.signalling.visit_id, now - last)
                self._on_state("reconnecting")
            elif not stalled and self._stalled:
                self._stalled = False
                restarted_at = None
                self._on_state("connected")
            # The offerer makes a new offer, and another each RESTART_EVERY_S while nothing
            # flows: a connection that closed by itself (consent lost on a busy host) has
            # nobody else to mend it, and an offer or answer may be lost on the way.
            if (
                stalled
                and self._offerer
                and (restarted_at is None or now - restarted_at > RESTART_EVERY_S)
            ):
                restarted_at = now
                log.info("visit %s: restarting the call", self.signalling.visit_id)
                await call.restart()

    async def _finish(self, reason: str) -> None:
        try:
            if self._call is not None:
                if reason == "peer":
                    await self._call.close()  # the peer said bye: no bye back
                else:
                    await self._call.hang_up(reason)
        finally:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self._camera.stop)
            for device in (self._microphone, self._earpiece):
                if device is not None:
                    await loop.run_in_executor(None, device.stop)

    def _spawn(self, step: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(step)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a call step failed", exc_info=task.exception())
            self._on_state("failed")
