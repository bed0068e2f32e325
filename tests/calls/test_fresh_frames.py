"""The receiving buffer hands frames on as soon as they are whole, waits a moment for a lost
packet, then gives up on it and asks for a keyframe; it never lets frames pile up."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from aiortc import RTCPeerConnection
from aiortc.rtp import RtpPacket

from kiosk.calls import fresh_frames
from kiosk.calls.fresh_frames import (
    ASK_AGAIN_MAX_S,
    ASK_AGAIN_S,
    HOLE_WAIT_S,
    SOUND_BACKLOG,
    FreshSoundBuffer,
    FreshVideoBuffer,
    is_keyframe,
)

KEY, DELTA = b"\x10", b"\x11"  # a VP8 frame tag's first byte: bit 0 clear on a key frame
START = b"\x10"  # VP8 payload descriptor: start of the first partition


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class Stream:
    """A sender's VP8 packets: frames of ``size`` packets, 30 a second."""

    def __init__(self) -> None:
        self.seq = 65_000  # wraps past 65535 during the tests
        self.frame = 0

    def frame_packets(self, *, key: bool = False, size: int = 3) -> list[RtpPacket]:
        timestamp = (self.frame * 3000) % (1 << 32)
        self.frame += 1
        packets = []
        for index in range(size):
            packet = RtpPacket(
                sequence_number=self.seq % 65536,
                timestamp=timestamp,
                marker=index == size - 1,
                payload=(START if index == 0 else b"\x00") + b"p",
            )
            packet._data = ((KEY if key else DELTA) if index == 0 else b"") + bytes([index])
            packets.append(packet)
            self.seq += 1
        return packets


def feed(buffer: FreshVideoBuffer, packets: list[RtpPacket]) -> tuple[list[int], bool]:
    """Frames handed on (by their timestamps) and whether a keyframe was asked for."""
    frames, asked = [], False
    for packet in packets:
        ask, frame = buffer.add(packet)
        asked |= ask
        if frame is not None:
            frames.append(frame.timestamp)
    return frames, asked


def test_a_frame_goes_on_at_its_last_packet_not_at_the_next_frames_first() -> None:
    buffer, stream = FreshVideoBuffer(clock=Clock()), Stream()
    key = stream.frame_packets(key=True)
    assert feed(buffer, key[:2]) == ([], False)
    assert feed(buffer, key[2:]) == ([0], False)
    frames, asked = feed(buffer, stream.frame_packets() + stream.frame_packets())
    assert frames == [3000, 6000] and not asked
    assert buffer.dropped_frames == 0


def test_packets_out_of_order_make_the_frame_all_the_same() -> None:
    buffer, stream = FreshVideoBuffer(clock=Clock()), Stream()
    key, delta = stream.frame_packets(key=True), stream.frame_packets()
    frames, _ = feed(buffer, [key[0], key[2], key[1], delta[1], delta[0], delta[2]])
    assert frames == [0, 3000]


def test_a_lost_packet_retransmitted_in_time_loses_nothing() -> None:
    clock = Clock()
    buffer, stream = FreshVideoBuffer(clock=clock), Stream()
    feed(buffer, stream.frame_packets(key=True))
    late = stream.frame_packets()
    later = stream.frame_packets()
    assert feed(buffer, [late[0], late[2], *later]) == ([], False)
    clock.now += HOLE_WAIT_S / 2
    assert feed(buffer, [late[1]])[0] == [3000]  # whole at last: the next one follows it
    assert feed(buffer, stream.frame_packets())[0] == [6000, 9000]
    assert buffer.dropped_frames == 0


def test_a_packet_lost_for_good_costs_a_keyframe_not_a_frozen_picture() -> None:
    clock = Clock()
    buffer, stream = FreshVideoBuffer(clock=clock), Stream()
    feed(buffer, stream.frame_packets(key=True))
    broken = stream.frame_packets()
    frames, asked = feed(buffer, [broken[0], broken[2], *stream.frame_packets()])
    assert frames == [] and not asked  # waiting for the retransmission
    clock.now += HOLE_WAIT_S + 0.01
    frames, asked = feed(buffer, stream.frame_packets())
    assert frames == [] and asked  # gave up: frames that follow would decode broken
    frames, asked = feed(buffer, stream.frame_packets() + stream.frame_packets(key=True))
    assert frames == [15000] and not asked  # the keyframe, and nothing before it
    assert feed(buffer, stream.frame_packets())[0] == [18000]


def test_a_keyframe_still_arriving_on_a_slow_line_is_not_a_hole() -> None:
    clock = Clock()
    buffer, stream = FreshVideoBuffer(clock=clock), Stream()
    key = stream.frame_packets(key=True, size=40)
    for packet in key[:-1]:
        clock.now += 0.02  # 40 packets over 0.8 s
        assert buffer.add(packet) == (False, None)
    assert feed(buffer, key[-1:]) == ([0], False)


def test_frames_never_pile_up_behind_one_another() -> None:
    clock = Clock()
    buffer, stream = FreshVideoBuffer(clock=clock), Stream()
    feed(buffer, stream.frame_packets(key=True))
    held = [stream.frame_packets() for _ in range(10)]  # a third of a second of video
    first_lost = held[0][1]
    packets = [p for frame in held for p in frame if p is not first_lost]
    feed(buffer, packets)
    frames, asked = feed(buffer, [first_lost])  # all ten whole at once: too late to show
    assert frames == [] and asked
    assert feed(buffer, stream.frame_packets(key=True))[0] == [33000]


def test_on_a_slow_line_a_keyframe_on_its_way_is_not_asked_for_again_and_again() -> None:
    """Each request not yet answered waits twice as long before the next: on a slow line a
    new request would put another keyframe on the line ahead of the one still coming."""
    clock = Clock()
    buffer, stream = FreshVideoBuffer(clock=clock), Stream()
    feed(buffer, stream.frame_packets())  # joined in the middle: asks at once
    asked_at = [clock.now]
    for _ in range(200):  # ten seconds of frames, none of them a keyframe
        clock.now += 0.05
        if feed(buffer, stream.frame_packets())[1]:
            asked_at.append(clock.now)
    waits = [round(b - a, 2) for a, b in pairwise(asked_at)]
    assert waits[0] >= ASK_AGAIN_S
    assert all(later >= earlier for earlier, later in pairwise(waits))
    assert max(waits) <= ASK_AGAIN_MAX_S + 0.05 and len(asked_at) <= 6

    assert feed(buffer, stream.frame_packets(key=True))[0]  # the keyframe, at last
    broken = stream.frame_packets()
    feed(buffer, [broken[0], broken[2]])
    clock.now += HOLE_WAIT_S + 0.01
    assert feed(buffer, stream.frame_packets())[1]  # answered before: the next asked at once


def test_a_stream_joined_in_the_middle_waits_for_a_keyframe_and_asks_for_one() -> None:
    buffer, stream = FreshVideoBuffer(clock=Clock()), Stream()
    stream.frame_packets(key=True)  # never seen
    frames, asked = feed(buffer, stream.frame_packets())
    assert frames == [] and asked
    assert feed(buffer, stream.frame_packets(key=True))[0] == [6000]


def test_keyframes_are_told_apart_for_vp8_and_h264() -> None:
    assert is_keyframe(b"\x10\x02\x00") and not is_keyframe(b"\x11\x02\x00")
    sps, idr, slice_ = b"\x00\x00\x00\x01\x67", b"\x00\x00\x00\x01\x65", b"\x00\x00\x00\x01\x41"
    assert is_keyframe(sps + b"x" + idr + b"y") and not is_keyframe(slice_ + b"z")


def test_they_take_the_place_of_aiortcs_buffers_in_real_receivers() -> None:
    async def scenario() -> dict[str, type]:
        offerer, answerer = RTCPeerConnection(), RTCPeerConnection()
        offerer.addTransceiver("video")
        offerer.addTransceiver("audio")
        buffers: dict[str, type] = {}

        @answerer.on("track")
        def _on_track(track) -> None:
            assert fresh_frames.install(answerer, track)
            receiver = next(t.receiver for t in answerer.getTransceivers() if t.kind == track.kind)
            buffers[track.kind] = type(getattr(receiver, fresh_frames._AIORTC_BUFFER))

        try:
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            return buffers
        finally:
            await offerer.close()
            await answerer.close()

    assert asyncio.run(scenario()) == {"video": FreshVideoBuffer, "audio": FreshSoundBuffer}


def sound(seqs: list[int]) -> list[RtpPacket]:
    packets = []
    for seq in seqs:
        packet = RtpPacket(sequence_number=seq % 65536, timestamp=(seq * 960) % (1 << 32))
        packet._data = bytes([seq % 256])
        packets.append(packet)
    return packets


def heard(buffer: FreshSoundBuffer, packets: list[RtpPacket]) -> list[int]:
    out = []
    for packet in packets:
        ask, frame = buffer.add(packet)
        assert not ask
        if frame is not None:
            out.append(frame.data[0])
    return out


def test_sound_loses_no_more_than_the_network_lost() -> None:
    buffer = FreshSoundBuffer()
    lost = {65_540, 65_557, 65_558}  # past the 16-bit wrap
    arrived = [seq for seq in range(65_530, 65_630) if seq not in lost]
    played = heard(buffer, sound(arrived))
    assert len(played) >= len(arrived) - SOUND_BACKLOG  # the last few still wait their turn
    assert buffer.skipped == len(lost)
    assert played == [seq % 256 for seq in arrived][: len(played)]


def test_sound_out_of_order_is_put_back_in_order() -> None:
    buffer = FreshSoundBuffer()
    played = heard(buffer, sound([100, 102, 101, 104, 103, 105, 106, 107, 108]))
    assert played == list(range(100, 100 + len(played))) and len(played) >= 6
    assert buffer.skipped == 0


def test_sound_too_late_to_be_heard_is_dropped_and_the_voice_goes_on() -> None:
    buffer = FreshSoundBuffer()
    played = heard(buffer, sound([1, 3, 4, 5, 6, 7, 2, 8, 9, 10]))
    assert 2 not in played and played == sorted(played) and len(played) >= 6
    assert buffer.skipped == 1
