"""The receiving buffer hands frames on as soon as they are whole, waits a moment for a lost
packet, then gives up on it and asks for a keyframe; it never lets frames pile up."""

from __future__ import annotations

from aiortc import RTCPeerConnection
from aiortc.rtp import RtpPacket

from kiosk.calls import fresh_frames
from kiosk.calls.fresh_frames import HOLE_WAIT_S, FreshVideoBuffer, is_keyframe

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


def test_it_takes_the_place_of_aiortcs_buffer_in_a_real_receiver() -> None:
    async def scenario() -> bool:
        pc = RTCPeerConnection()
        transceiver = pc.addTransceiver("video", direction="recvonly")
        try:
            installed = fresh_frames.install(pc, transceiver.receiver.track)
            buffer = getattr(transceiver.receiver, fresh_frames._AIORTC_BUFFER)
            return installed and isinstance(buffer, FreshVideoBuffer)
        finally:
            await pc.close()

    import asyncio

    assert asyncio.run(scenario())
