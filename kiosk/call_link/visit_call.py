"""The core's side of a call (``kiosk.core.visit.CallPort``), held in a process of its own.

The core's rules are synchronous and run on the kiosk's loop; the call runs in its process
(:mod:`kiosk.calls.call_process`). This turns the camera on for the call and feeds it to the
call, passes signals both ways, hands the screen the newest picture from shared memory, and
measures how old that picture is each time the screen shows it.

If the call's process dies, another takes its place and the call reconnects: a crash in a
codec costs the visit a few seconds, not its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hardware.interfaces import Camera
from kiosk.call_link.camera_feed import CameraFeed
from kiosk.call_link.frame_slot import SlotPicture
from kiosk.call_link.messages import (
    CallStats,
    CameraFailed,
    DropConnection,
    Finished,
    HangUp,
    IceServer,
    Publish,
    Restart,
    Signal,
    Start,
    State,
)
from kiosk.call_link.picture_ages import PictureAges
from kiosk.call_link.process import CallProcess, CallProcesses, CallSettings
from kiosk.core.facility import CallNetwork
from kiosk.core.visit import CallReport

log = logging.getLogger(__name__)

# How long a hang-up waits for the call to say bye and close before its process is ended.
FINISH_S = 10.0
# Processes replaced in one visit before the call is reported failed.
MAX_REPLACED = 3
# While the call is being set up again, its last picture is not shown: it only grows older.
PICTURE_GONE = frozenset({"reconnecting", "failed", "disconnected"})


class VisitCall:
    def __init__(
        self,
        visit_id: str,
        *,
        kiosk_id: str,
        camera: Camera,
        publish: Callable[[dict[str, Any]], None],
        on_state: Callable[[str], None],
        processes: CallProcesses,
        network: CallNetwork | None = None,
    ) -> None:
        """``network``: the facility's STUN and TURN servers (none: host candidates only)."""
        self.visit_id = visit_id
        self._kiosk_id = kiosk_id
        self._camera = camera
        self._publish = publish
        self._on_state = on_state
        self._processes = processes
        self._network = network or CallNetwork()
        self._blurred = processes.settings.blur_without_face
        self._process: CallProcess | None = None
        self._feed: CameraFeed | None = None
        self._offerer = False
        self._ending = False
        self._camera_failed = False
        self._finished = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._remote: SlotPicture | None = None
        self._remote_seq = 0
        self._connection = "new"  # the call's state, as its process last said
        self._sent: SlotPicture | None = None
        self.stats = CallStats()
        self.ages = PictureAges()
        self.replaced = 0  # call processes that died and were replaced

    # --- CallPort ---------------------------------------------------------------------------

    def start(self, offerer: bool) -> None:
        # The camera is on for the call only: an idle kiosk films nobody.
        self._offerer = offerer
        self._camera.start()
        self._attach(self._processes.take())

    def restart(self) -> None:
        self._tell(Restart())

    def hang_up(self, reason: str) -> None:
        if self._ending:
            return
        self._ending = True  # from now on the screen gets no picture: the end is plain
        self._tell(HangUp(reason))
        self._spawn(self._finish())

    def deliver(self, signal: dict[str, Any]) -> None:
        self._tell(Signal(signal))

    def remote_image(self) -> np.ndarray | None:
        """The other side's newest picture, for the screen's next frame."""
        if self._ending or self._process is None:
            return None
        if self._connection in PICTURE_GONE:
            self._remote = None
            return None
        if self._remote is not None:
            # How old the picture on the glass until now has grown: the screen asks at each
            # of its frames, so this is what a person saw, in the worst moment of each frame.
            self.ages.add(time.monotonic() - self._remote.arrived_at)
        picture = self._process.spec.remote.read(newer_than=self._remote_seq)
        if picture is not None:
            self._remote, self._remote_seq = picture, picture.seq
        return self._remote.image if self._remote is not None else None

    def local_image(self) -> np.ndarray | None:
        """What our camera sends: the picture as sent when a policy may blur it."""
        if self._ending:
            return None
        if self._blurred and self._process is not None:
            seen = self._sent.seq if self._sent is not None else 0
            self._sent = self._process.spec.sent.read(newer_than=seen) or self._sent
            return self._sent.image if self._sent is not None else None
        frame = self._camera.latest_frame()
        return frame.image if frame is not None else None

    def camera_failed(self) -> bool:
        return self._camera_failed

    def report(self) -> CallReport:
        ages, stats = self.ages.figures(), self.stats
        return CallReport(
            pictures_shown=ages.shown if ages else 0,
            picture_age_ms=(
                {"median": ages.median_ms, "p95": ages.p95_ms, "worst": ages.worst_ms}
                if ages
                else None
            ),
            frames_received=stats.frames_received,
            reconnects=stats.stalls,
            poor_connection_s=round(stats.poor_seconds, 1),
            consent_lost=stats.consent_expired,
            longest_silence_ms=round(stats.longest_silence_s * 1000, 1),
            call_cpu_s=round(stats.process_cpu_s, 2),
        )

    # --- for tests and the technician -------------------------------------------------------

    def drop_connection(self) -> None:
        """Close the call's current peer connection as a network failure would."""
        self._tell(DropConnection())

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def wait_finished(self) -> None:
        """Until the call's process has ended and the camera is off (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- the process -------------------------------------------------------------------------

    def _attach(self, process: CallProcess) -> None:
        self._process = process
        self._remote_seq = 0
        self._feed = CameraFeed(self._camera, process.spec.camera)
        self._feed.start()
        asyncio.get_running_loop().add_reader(process.conn.fileno(), self._read, process)
        network = self._network
        servers = tuple(IceServer(s.urls, s.username, s.credential) for s in network.ice_servers)
        process.send(
            Start(self.visit_id, self._kiosk_id, self._offerer, servers, network.relay_only)
        )

    def _tell(self, message: Any) -> None:
        process = self._process
        if process is not None and not process.send(message):
            log.warning("visit %s: the call's process is gone", self.visit_id)

    def _read(self, process: CallProcess) -> None:
        try:
            while process.conn.poll():
                self._take(process.conn.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(process.conn.fileno())
            self._lost(process)

    def _take(self, message: Any) -> None:
        if isinstance(message, CallStats):
            self.stats = message
        elif isinstance(message, State):
            self._connection = message.state
            if not self._ending:
                self._on_state(message.state)
        elif isinstance(message, Publish):
            self._publish(message.payload)
        elif isinstance(message, CameraFailed):
            self._camera_failed = message.failed
        elif isinstance(message, Finished):
            self.stats = message.stats
            self._finished.set()

    def _lost(self, process: CallProcess) -> None:
        """The process's pipe closed: the call ended, or the process died."""
        if self._ending or self._finished.is_set():
            self._finished.set()
            return
        if self._process is not process:
            return
        log.error("visit %s: the call's process %s died", self.visit_id, process.pid)
        self._stop_feed()
        self._spawn(asyncio.get_running_loop().run_in_executor(None, process.close))
        if self.replaced >= MAX_REPLACED:
            self._process = None
            self._on_state("failed")
            return
        self.replaced += 1
        self._connection = "reconnecting"
        self._on_state("reconnecting")
        self._attach(self._processes.take())

    async def _finish(self) -> None:
        process = self._process
        loop = asyncio.get_running_loop()
        try:
            if process is not None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FINISH_S):
                        await self._finished.wait()
                with contextlib.suppress(ValueError, OSError):
                    loop.remove_reader(process.conn.fileno())
                await loop.run_in_executor(None, process.close)
        finally:
            self._stop_feed()
            await loop.run_in_executor(None, self._camera.stop)
            self._on_state("closed")

    def _stop_feed(self) -> None:
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.stop()

    def _spawn(self, step: Any) -> None:
        task = asyncio.ensure_future(step)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a call step failed", exc_info=task.exception())


class VisitCalls:
    """The kiosk's call factory (``kiosk.core.visit.CallFactory``): a call per visit, each in
    a process of its own, the next one started when a visit's join window opens."""

    def __init__(
        self,
        settings: CallSettings,
        *,
        kiosk_id: str,
        camera: Camera,
        publish: Callable[[dict[str, Any]], None],
    ) -> None:
        self._processes = CallProcesses(settings)
        self._kiosk_id = kiosk_id
        self._camera = camera
        self._publish = publish

    def prepare(self) -> None:
        self._processes.prepare()

    def ready_to_call(self) -> bool:
        """The next visit's call can start at once (its process is loaded)."""
        return self._processes.ready_to_call()

    def __call__(
        self, visit: Any, on_state: Callable[[str], None], network: CallNetwork
    ) -> VisitCall:
        return VisitCall(
            visit.visit_id,
            kiosk_id=self._kiosk_id,
            camera=self._camera,
            publish=self._publish,
            on_state=on_state,
            processes=self._processes,
            network=network,
        )

    def close(self) -> None:
        self._processes.close()
