"""What the family's browser sees in bench/remote_visit.py: a script installed in every page
Chromium opens (the page itself unchanged), the page's own WebRTC figures, Chromium's CPU, and
the figures made of them, the same for the kiosk's visit and the bare peer's.

The script (``METER_JS``) notes each frame leaving the browser's camera with its time code
(``MediaStreamTrackProcessor`` on a clone of the camera's track: the frame's timestamp is its
capture, on the monotonic clock) and each frame the remote ``<video>`` presents
(``requestVideoFrameCallback``: the frame's expected display time and the time code in it,
read from its luma plane through WebCodecs, no canvas). ``CameraTimes`` turns the first into
"when did frame N leave the camera"; ``browser_side`` the second into the family's figures.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import statistics
import time
from typing import Any

from harness import cpu_seconds, latency_summary

from tests.family_camera import FPS, TIMECODE_JS, frame_index

CAMERA_FRAMES = 150  # the browser's camera loops every 5 s: an index means one frame that long

# Installed before the page's own script (CDP Page.addScriptToEvaluateOnNewDocument): the page
# stays as a family member gets it. __benchMeter.camera: [timestamp (us, monotonic), read at
# (Date.now()), time code] of each frame leaving the camera; .shown: [expected display
# (wall ms), callback at (Date.now()), time code, presentedFrames, width] of each frame the
# remote <video> presents.
METER_JS = (
    TIMECODE_JS
    + """
(() => {
  const meter = { camera: [], shown: [] };
  window.__benchMeter = meter;
  async function readCamera(track) {
    // Frames queue rather than drop while the reader is busy: each index's capture counts.
    const processor = new MediaStreamTrackProcessor({ track, maxBufferSize: 30 });
    const reader = processor.readable.getReader();
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done) return;
      const readAt = Date.now();
      try {
        meter.camera.push([frame.timestamp, readAt, await TIMECODE.readFrame(frame)]);
      } finally {
        frame.close();
      }
    }
  }
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    const video = stream.getVideoTracks()[0];
    if (video) readCamera(video.clone());  // a clone: the page's own track is left alone
    return stream;
  };
  function watchRemote() {
    const video = document.getElementById("remote");
    const step = async (_now, presented) => {
      video.requestVideoFrameCallback(step);
      const shownAt = performance.timeOrigin + presented.expectedDisplayTime;
      const calledAt = Date.now();
      let value = null, frame = null;
      try {
        frame = new VideoFrame(video);  // the frame being presented, not a copy
        value = await TIMECODE.readFrame(frame);
      } catch (error) {
        meter.error = String(error);
      } finally {
        if (frame) frame.close();
      }
      meter.shown.push([shownAt, calledAt, value, presented.presentedFrames, presented.width]);
    };
    video.requestVideoFrameCallback(step);
  }
  document.addEventListener("DOMContentLoaded", watchRemote);
  // The call's first moments in the browser's own figures (Date.now()), to tell where the
  // time to a first picture goes: polled until both ways have a frame.
  const timeline = meter.timeline = {};
  const poll = setInterval(async () => {
    if (typeof state === "undefined" || !state.pc) return;
    const pc = state.pc;
    if (pc.connectionState === "connected" && !timeline.connected) timeline.connected = Date.now();
    (await pc.getStats()).forEach((r) => {
      if (r.type !== "outbound-rtp" && r.type !== "inbound-rtp" || r.kind !== "video") return;
      const key = r.type === "outbound-rtp" ? "firstSent" : "firstDecoded";
      const count = r.type === "outbound-rtp" ? r.framesSent : r.framesDecoded;
      if (count > 0 && !timeline[key]) timeline[key] = Date.now();
    });
    if (timeline.firstSent && timeline.firstDecoded) clearInterval(poll);
  }, 10);
})();
"""
)

# The page's peer connection in the browser's own figures.
STATS_JS = """
return (async () => {
  if (typeof state === "undefined" || !state.pc) return null;
  const out = { connection: state.pc.connectionState, at: Date.now() };
  const byId = new Map();
  (await state.pc.getStats()).forEach((r) => byId.set(r.id, r));
  for (const r of byId.values()) {
    if (r.type === "inbound-rtp" && r.kind === "video") {
      out.received = { framesDecoded: r.framesDecoded, framesReceived: r.framesReceived,
        framesDropped: r.framesDropped, width: r.frameWidth, height: r.frameHeight,
        freezeCount: r.freezeCount, packetsLost: r.packetsLost,
        jitterBufferDelay: r.jitterBufferDelay, emitted: r.jitterBufferEmittedCount,
        decodeTime: r.totalDecodeTime, decoder: r.decoderImplementation };
    } else if (r.type === "outbound-rtp" && r.kind === "video") {
      out.sent = { framesEncoded: r.framesEncoded, framesSent: r.framesSent,
        width: r.frameWidth, height: r.frameHeight, limitation: r.qualityLimitationReason,
        encodeTime: r.totalEncodeTime, encoder: r.encoderImplementation,
        keyFrames: r.keyFramesEncoded, pli: r.pliCount, fir: r.firCount, nack: r.nackCount,
        retransmitted: r.retransmittedPacketsSent };
    } else if (r.type === "inbound-rtp" && r.kind === "audio") {
      out.audio = { samples: r.totalSamplesReceived, concealed: r.concealedSamples,
        level: r.audioLevel };
    } else if (r.type === "transport" && byId.has(r.selectedCandidatePairId)) {
      const pair = byId.get(r.selectedCandidatePairId);
      const local = byId.get(pair.localCandidateId), remote = byId.get(pair.remoteCandidateId);
      out.route = { local: local && `${local.candidateType} ${local.address}:${local.port}`,
        remote: remote && `${remote.candidateType} ${remote.address}:${remote.port}`,
        rtt: pair.currentRoundTripTime };
    }
  }
  return out;
})();
"""


def wall_minus_monotonic_ms() -> float:
    """time.time() - time.monotonic(), in ms: turns one clock into the other (Chromium's
    frame timestamps are on the monotonic clock, Date.now() on the wall clock)."""
    return (time.time() - time.monotonic()) * 1000


class Family:
    """The family's Chromium, started once for the whole benchmark, with the meter installed
    in every page it opens."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        browser.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": METER_JS}
        )

    def open(self, link: str) -> None:
        self.browser.open(link)

    def leave(self) -> None:
        """Close the page (its peer connection with it)."""
        with contextlib.suppress(Exception):
            self.browser.open("about:blank")

    def meter(self) -> dict[str, list[list[Any]]]:
        return self.browser.driver.execute_script("return window.__benchMeter || null;") or {
            "camera": [],
            "shown": [],
        }

    def first_shown(self) -> bool:
        return bool(
            self.browser.driver.execute_script(
                "return !!(window.__benchMeter && window.__benchMeter.shown.length);"
            )
        )

    def stats(self) -> dict[str, Any] | None:
        return self.browser.driver.execute_script(STATS_JS)

    def cpu_s(self) -> float:
        """CPU time of Chromium so far: chromedriver's descendants, all their threads."""
        return sum(cpu_or_zero(pid) for pid in descendants(self.browser.driver.service.process.pid))


def descendants(root: int, named: str | None = None) -> list[int]:
    """The processes under ``root`` (not itself), from /proc; only those whose command is
    ``named`` when given."""
    parents: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                text = handle.read()
            parent = int(text[text.rindex(")") + 2 :].split()[1])
            parents.setdefault(parent, []).append(int(entry))
            names[int(entry)] = text[text.index("(") + 1 : text.rindex(")")]
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return [pid for pid in found if named is None or names.get(pid) == named]


def cpu_or_zero(pid: int) -> float:
    """A process's CPU time so far; 0 if it is gone."""
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


# --- the browser's figures, the same for both visits -----------------------------------------


class CameraTimes:
    """When each frame index left the browser's camera (wall ms), from the meter's records."""

    def __init__(self, camera: list[list[Any]], offset_ms: float) -> None:
        self.times: dict[int, list[float]] = {}
        lags = []
        for timestamp_us, read_at, value in camera:
            index = frame_index(value)
            if index is None:
                continue
            left = timestamp_us / 1000 + offset_ms
            lags.append(read_at - left)
            self.times.setdefault(index, []).append(left)
        for times in self.times.values():
            times.sort()
        # The frame's timestamp is its capture on the monotonic clock; the script reads it
        # a moment later. A lag far off would mean the timestamp is something else.
        self.read_lag_ms = statistics.median(lags) if lags else None
        self.unreadable = sum(1 for _, _, value in camera if frame_index(value) is None)

    def left_camera(self, index: int, seen_at_ms: float) -> float | None:
        """The capture of ``index`` last before ``seen_at_ms`` (a loop of the file earlier is
        another frame: at most half a loop back)."""
        times = self.times.get(index, [])
        at = bisect.bisect_right(times, seen_at_ms + 1.0) - 1  # 1 ms: two clocks' rounding
        if at < 0 or seen_at_ms - times[at] > CAMERA_FRAMES / FPS / 2 * 1000:
            return None
        return times[at]


def browser_side(
    meter: dict[str, list[list[Any]]],
    window: tuple[float, float],
    both_present: float,
    offset_ms: float,
    stats: tuple[dict[str, Any] | None, dict[str, Any] | None],
) -> dict[str, Any]:
    """What the family saw of the other side: ``window`` is (start, end) in wall ms."""
    start, end = window
    span_s = (end - start) / 1000
    shown = sorted(meter["shown"])  # read asynchronously: pushed nearly, not quite, in order
    inside = [s for s in shown if start <= s[0] < end]
    ages = [s[0] - s[2] for s in inside if s[2] is not None]
    first = (shown[0][0] - offset_ms) / 1000 - both_present if shown else None
    stamped = next((s[0] for s in shown if s[2] is not None), None)
    before, after = stats
    decoded = None
    if before and after and before.get("received") and after.get("received"):
        frames = after["received"]["framesDecoded"] - before["received"]["framesDecoded"]
        decoded = frames / ((after["at"] - before["at"]) / 1000)
    timeline = {
        key: (at - offset_ms) / 1000 - both_present
        for key, at in (meter.get("timeline") or {}).items()
    }
    return {
        "first_picture_s": first,
        "timeline_s": timeline,
        "first_stamped_picture_s": (
            None if stamped is None else (stamped - offset_ms) / 1000 - both_present
        ),
        "frames_shown_per_s": len(inside) / span_s,
        "pictures_per_s": changes([s[2] for s in inside]) / span_s,
        "frames_decoded_per_s": decoded,
        "sizes": sorted({s[4] for s in inside}),
        "g2g_ms": latency_summary(ages),
        "unreadable": sum(1 for s in inside if s[2] is None),
        "error": meter.get("error"),
        "stats": after,
    }


def changes(values: list[Any]) -> int:
    """How many times a readable value differs from the one before: distinct pictures in a
    row (the browser's camera loops, so its indexes come back every few seconds)."""
    count, last = 0, None
    for value in values:
        if value is not None and value != last:
            count += 1
        last = value
    return count
