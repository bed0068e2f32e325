"""The receiving side's buffers, for a picture that is never far behind and a voice that
loses no more than the network lost.

aiortc's own buffer (``aiortc.jitterbuffer.JitterBuffer``) waits for a lost video packet until
512 more have come (at a visit's bit rates, eight seconds of frozen picture), and then hands out
at most one frame per packet received, so the frames it held stay queued behind it: measured
across a lossy wire, the picture on screen fell eight to eleven seconds behind and stayed there.
On sound, each lost packet cost several more: 5 % lost on the wire, a quarter of the sound gone.

This one keeps aiortc's interface (``add(packet) -> (ask_for_keyframe, frame)``) with other
rules, those of a video call: a frame is whole at the packet with the RTP marker bit; a lost
packet is waited for (its retransmission, asked for by aiortc's NACKs) for :data:`HOLE_WAIT_S`
at most; after that, or when whole frames pile up more than :data:`MAX_BACKLOG_S` deep, what is
held is dropped and a keyframe asked for, and nothing is decoded until one comes (a frame whose
reference was lost would only show as broken blocks).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiortc.jitterbuffer import JitterFrame

log = logging.getLogger(__name__)

# Where aiortc's RTCRtpReceiver keeps its buffer (checked by tests/calls/test_fresh_frames.py).
_AIORTC_BUFFER = "_RTCRtpReceiver__jitter_buffer"
HOLE_WAIT_S = 0.3  # about a retransmission's round trip on a slow line
MAX_BACKLOG_S = 0.2
ASK_AGAIN_S = 0.5
# Each request not yet answered by a keyframe doubles the wait before the next, up to this: on
# a slow line a keyframe takes longer than ASK_AGAIN_S to arrive (640x480 at 500 kbit/s, most
# of a second), and each new request put another keyframe on the line before it, so that none
# came whole and the picture froze for seconds.
ASK_AGAIN_MAX_S = 4.0
MAX_HELD = 1024  # packets
SOUND_REORDER = 4  # later sound packets here before a missing one is given up: 80 ms
SOUND_BACKLOG = 4  # between two keyframe requests while waiting for one
VIDEO_CLOCK_RATE = 90_000
H264_START = b"\x00\x00\x00\x01"


def _begins_frame(packet: Any) -> bool:
    """Whether a packet, seen without the one before it, starts a frame: a VP8 payload with
    its start bit on the first partition, or an H.264 unit that begins with a start code."""
    if packet._data.startswith(H264_START):
        return True
    payload = packet.payload
    return bool(payload) and payload[0] & 0x10 != 0 and payload[0] & 0x07 == 0


def is_keyframe(data: bytes) -> bool:
    """A VP8 key frame, or an H.264 access unit carrying an IDR slice or parameter sets."""
    if data.startswith(H264_START):
        return any(unit and unit[0] & 0x1F in (5, 7) for unit in data.split(H264_START)[1:])
    return bool(data) and data[0] & 0x01 == 0


class FreshVideoBuffer:
    """Drop-in for ``aiortc.jitterbuffer.JitterBuffer`` on a video receiver."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._packets: dict[int, Any] = {}  # extended sequence number -> RtpPacket
        self._next: int | None = None  # first packet of the next frame, once known
        self._highest: int | None = None
        self._ready: deque[JitterFrame] = deque()
        self._need_keyframe = True
        self._stuck_since: float | None = None
        self._asked_at: float | None = None
        self._ask_wait_s = ASK_AGAIN_S  # before asking again while still waiting for a keyframe
        self.dropped_frames = 0
        self.keyframes_asked = 0

    @property
    def capacity(self) -> int:  # aiortc's interface
        return 512

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        seq = _extended(packet.sequence_number, self._highest)
        if (self._next is None or seq >= self._next) and seq not in self._packets:
            if len(self._packets) >= MAX_HELD:
                self._drop_everything()  # a stream it cannot make sense of: start again
            self._packets[seq] = packet
            self._highest = seq if self._highest is None else max(self._highest, seq)
            self._assemble()
        ask = self._give_up_if_stuck() | self._trim_backlog() | self._ask_again()
        return ask, (self._ready.popleft() if self._ready else None)

    def remove(self, count: int) -> None:  # aiortc's interface; nothing calls it on video
        self._drop_everything()

    # --- assembling frames --------------------------------------------------------------

    def _assemble(self) -> None:
        while True:
            if self._next is None:
                self._next = self._first_frame_start()
                if self._next is None:
                    return
            end = self._frame_end(self._next)
            if end is None:
                return
            packets = [self._packets.pop(seq) for seq in range(self._next, end + 1)]
            self._next = end + 1
            self._stuck_since = None
            data = b"".join(p._data for p in packets)
            if self._need_keyframe and not is_keyframe(data):
                self.dropped_frames += 1
                continue
            if self._need_keyframe:  # the request answered: the next may be made at once
                self._asked_at, self._ask_wait_s = None, ASK_AGAIN_S
            self._need_keyframe = False
            self._ready.append(JitterFrame(data=data, timestamp=packets[0].timestamp))

    def _frame_end(self, first: int) -> int | None:
        """The last packet of the frame that starts at ``first``, if all of it is here."""
        packet = self._packets.get(first)
        if packet is None:
            return None
        seq = first
        while True:
            if packet.marker:
                return seq
            following = self._packets.get(seq + 1)
            if following is None:
                return None
            if following.timestamp != packet.timestamp:
                return seq  # the marker packet was lost in a way that still ends the frame
            seq, packet = seq + 1, following

    def _first_frame_start(self) -> int | None:
        """The first packet held that begins a frame; the ones before it go."""
        for seq in sorted(self._packets):
            before = self._packets.get(seq - 1)
            if before is not None:
                starts = before.marker or before.timestamp != self._packets[seq].timestamp
            else:
                starts = _begins_frame(self._packets[seq])
            if starts:
                for earlier in [s for s in self._packets if s < seq]:
                    del self._packets[earlier]
                return seq
        return None

    # --- giving up on what is late --------------------------------------------------------

    def _give_up_if_stuck(self) -> bool:
        """A packet missing with later ones here (not a frame still arriving in order): wait
        for its retransmission a while, then go on from the next frame start, asking for a
        keyframe."""
        hole = self._hole()
        if hole is None:
            self._stuck_since = None
            return False
        now = self._clock()
        if self._stuck_since is None:
            self._stuck_since = now
            return False
        if now - self._stuck_since < HOLE_WAIT_S:
            return False
        for seq in [s for s in self._packets if s < hole]:
            del self._packets[seq]
        self.dropped_frames += 1
        self._next = None
        self._need_keyframe = True
        self._stuck_since = None
        self._assemble()
        return self._ask()

    def _hole(self) -> int | None:
        if self._next is None or self._highest is None:
            return None
        seq = self._next
        while seq in self._packets:
            seq += 1
        return seq if seq < self._highest else None

    def _trim_backlog(self) -> bool:
        if len(self._ready) < 2:
            return False
        depth = (self._ready[-1].timestamp - self._ready[0].timestamp) % (1 << 32)
        if depth <= MAX_BACKLOG_S * VIDEO_CLOCK_RATE:
            return False
        self.dropped_frames += len(self._ready)
        self._ready.clear()
        self._need_keyframe = True
        return self._ask()

    def _ask_again(self) -> bool:
        """Still waiting for a keyframe, with frames going to waste: ask (again)."""
        if not self._need_keyframe or not self.dropped_frames:
            return False
        return self._ask()

    def _ask(self) -> bool:
        """A keyframe request, unless one is still unanswered and not yet given its time."""
        now = self._clock()
        if self._asked_at is not None and now - self._asked_at < self._ask_wait_s:
            return False
        if self._asked_at is not None and self._need_keyframe:
            self._ask_wait_s = min(2 * self._ask_wait_s, ASK_AGAIN_MAX_S)
        self._asked_at = now
        self.keyframes_asked += 1
        return True

    def _drop_everything(self) -> None:
        self._packets.clear()
        self._ready.clear()
        self._next = None
        self._need_keyframe = True


class FreshSoundBuffer:
    """Drop-in for aiortc's JitterBuffer on a sound receiver: one packet is one 20 ms frame.

    Frames go on in order; a missing one is skipped once :data:`SOUND_REORDER` later ones
    are here (it was lost, or comes too late to be heard), and at most :data:`SOUND_BACKLOG`
    frames wait, so the voice is never more than that behind."""

    def __init__(self) -> None:
        self._packets: dict[int, Any] = {}
        self._next: int | None = None
        self._highest: int | None = None
        self._ready: deque[JitterFrame] = deque()
        self.skipped = 0

    @property
    def capacity(self) -> int:  # aiortc's interface
        return 16

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        seq = _extended(packet.sequence_number, self._highest)
        if self._next is None:
            self._next = seq
        if seq >= self._next and seq not in self._packets:
            self._packets[seq] = packet
            self._highest = seq if self._highest is None else max(self._highest, seq)
            self._release()
        return False, (self._ready.popleft() if self._ready else None)

    def remove(self, count: int) -> None:  # aiortc's interface
        self._packets.clear()
        self._ready.clear()
        self._next = None

    def _release(self) -> None:
        assert self._next is not None and self._highest is not None
        while True:
            packet = self._packets.pop(self._next, None)
            if packet is not None:
                self._ready.append(JitterFrame(data=packet._data, timestamp=packet.timestamp))
            elif self._highest - self._next >= SOUND_REORDER:
                self.skipped += 1
            else:
                break
            self._next += 1
        while len(self._ready) > SOUND_BACKLOG:
            self._ready.popleft()
            self.skipped += 1


def _extended(sequence_number: int, highest: int | None) -> int:
    """A 16-bit sequence number as a growing one, near the newest seen."""
    if highest is None:
        return sequence_number
    base = highest - (highest & 0xFFFF)
    candidates = (base - 0x10000, base, base + 0x10000)
    return min((c + sequence_number for c in candidates), key=lambda s: abs(s - highest))


def install(pc: Any, track: Any) -> bool:
    """Put a fresh buffer (:class:`FreshVideoBuffer`, :class:`FreshSoundBuffer`) in the
    receiver of ``track`` (before its first packet: call it from the peer connection's
    ``track`` event). ``False``, logged, where this aiortc keeps its buffer elsewhere: the call
    then goes on with aiortc's own."""
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        if receiver.track is track and hasattr(receiver, _AIORTC_BUFFER):
            fresh = FreshVideoBuffer() if track.kind == "video" else FreshSoundBuffer()
            setattr(receiver, _AIORTC_BUFFER, fresh)
            return True
    log.warning("aiortc's video buffer not found: the picture may fall behind on a lossy line")
    return False
