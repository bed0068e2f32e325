"""Whether the call is alive, judged by what arrives from the network, not by what is drawn.

- Nothing heard (picture or sound) for :data:`STALL_S` in a call that was up: the network
  dropped. Both sides say "reconnecting", and the offerer makes a new offer on a fresh
  connection, again every :data:`RESTART_EVERY_S` while nothing flows. Waiting for ICE to
  notice would take tens of seconds that a visit cannot spare.
- Sound arriving but too little of it (fewer than :data:`POOR_BELOW` of the packets the
  other side sends): a slow call. It is said on screen ("poor connection") and never torn
  down; the words go once the sound is whole again for :data:`POOR_CLEARS_AFTER_S`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from kiosk.calls.call import Call

log = logging.getLogger(__name__)

STALL_S = 2.0
WATCH_EVERY_S = 0.25
# Longer than a slow ICE and DTLS on a busy host: 5 s cut every restart short there, and the
# call never came back (tests/ui/test_hotplug.py caught it).
RESTART_EVERY_S = 20.0
# Sound is sent as 50 packets a second, whatever is said: the count of those that arrived is
# the call's health. 5 % loss is a good call; a third missing is heard as broken speech.
SOUND_PACKETS_PER_S = 50.0
POOR_WINDOW_S = 2.0
POOR_BELOW = 0.75
POOR_CLEARS_AFTER_S = 3.0


class MediaWatch:
    """Watches ``call`` and reports ``reconnecting``, ``poor`` and ``connected`` again."""

    def __init__(self, call: Call, on_state: Callable[[str], None], *, offerer: bool) -> None:
        self._call = call
        self._on_state = on_state
        self._offerer = offerer
        self.stalled = False
        self.poor = False
        self.poor_since: float | None = None
        self.poor_seconds = 0.0  # in all, for the visit's report
        self.stalls = 0
        self._counts: deque[tuple[float, int]] = deque()
        self._whole_since: float | None = None

    async def run(self) -> None:
        call = self._call
        connected_at: float | None = None
        restarted_at: float | None = None
        while call.state != "closed":
            await asyncio.sleep(WATCH_EVERY_S)
            now = time.monotonic()
            if connected_at is None:
                if call.state != "connected":
                    continue
                connected_at = now  # from here on, silence means a drop
            heard = (call.remote_video.last_frame_at, call.remote_audio.last_frame_at, connected_at)
            last = max(t for t in heard if t is not None)
            stalled = now - last > STALL_S
            if stalled and not self.stalled:
                self.stalled = True
                self.stalls += 1
                self._set_poor(False, now)
                log.warning("visit %s: no media for %.1f s", call.visit_id, now - last)
                self._on_state("reconnecting")
            elif not stalled and self.stalled:
                self.stalled = False
                restarted_at = None
                self._counts.clear()
                self._on_state("connected")
            if not stalled and call.state == "connected":
                self._judge_sound(now)
            if (
                stalled
                and self._offerer
                and (restarted_at is None or now - restarted_at > RESTART_EVERY_S)
            ):
                restarted_at = now
                log.info("visit %s: restarting the call", call.visit_id)
                await call.restart()
        self._set_poor(False, time.monotonic())

    def poor_seconds_so_far(self, now: float) -> float:
        """Time "poor connection" has been shown, the current spell included."""
        current = now - self.poor_since if self.poor_since is not None else 0.0
        return self.poor_seconds + current

    def _judge_sound(self, now: float) -> None:
        self._counts.append((now, self._call.audio_frames_received))
        # The oldest count kept is the newest one at least a window old (a busy loop wakes
        # late: a window cut at exactly 2 s left too little to judge, and poor went unsaid).
        while len(self._counts) > 1 and now - self._counts[1][0] >= POOR_WINDOW_S:
            self._counts.popleft()
        if now - self._counts[0][0] < POOR_WINDOW_S:
            return
        (began, first), (_, newest) = self._counts[0], self._counts[-1]
        share = (newest - first) / ((now - began) * SOUND_PACKETS_PER_S)
        if share < POOR_BELOW:
            self._whole_since = None
            if not self.poor:
                log.warning(
                    "visit %s: poor connection (%.0f %% of the sound)",
                    self._call.visit_id,
                    share * 100,
                )
                self._set_poor(True, now)
        elif self.poor:
            self._whole_since = self._whole_since or now
            if now - self._whole_since >= POOR_CLEARS_AFTER_S:
                self._set_poor(False, now)

    def _set_poor(self, poor: bool, now: float) -> None:
        if poor == self.poor:
            return
        self.poor = poor
        if poor:
            self.poor_since = now
            self._on_state("poor")
        else:
            if self.poor_since is not None:
                self.poor_seconds += now - self.poor_since
            self.poor_since = None
            if not self.stalled:
                self._on_state("connected")
