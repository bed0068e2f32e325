"""The kiosk's send rate (:mod:`kiosk.calls.send_rate`) put into aiortc's senders.

aiortc's VP8 encoder follows the other side's estimate (REMB) alone, never below 250 kbit/s,
and ignores losses: on a line slower than the picture, the queue overflowed and most frames
came broken (measured across a 500 kbit/s line: thousands of packets dropped in half a minute,
pictures five seconds late). Its Opus encoder sends 96 kbit/s of stereo for a handset's voice.

Here each peer connection's video sender gets an encoder whose rate is the lower of REMB and
the loss rule's, down to 100 kbit/s, and the sound sender one at a voice's rate. aiortc makes
a new encoder (and so a keyframe) for every change of rate over 10 %: a cut is applied at
once (then at most every :data:`CUT_EVERY_S` unless the rate halves), a rise at most every
:data:`RISE_EVERY_S`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from av.frame import Frame

from kiosk.calls.send_rate import SendRate

log = logging.getLogger(__name__)

# Where aiortc 1.x keeps a sender's encoder and the VP8 encoder's rate (checked by
# tests/calls/test_rate_control.py): set before the sender starts, it is used as it is.
_AIORTC_ENCODER = "_RTCRtpSender__encoder"
_VP8_RATE = "_Vp8Encoder__target_bitrate"
VOICE_BPS = 32_000  # Opus's rate for wideband speech, as browsers send it
RISE_EVERY_S = 4.0
# Cuts come in runs (each estimate lower than the last): one keyframe a second at most, unless
# the rate halves.
CUT_EVERY_S = 1.0
CHANGE = 0.1  # aiortc's own threshold for a new encoder
WATCH_EVERY_S = 0.25


class RatedVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder at the rate a :class:`SendRate` says."""

    def __init__(self, rate: SendRate, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._rate = rate
        self._clock = clock
        self._applied = rate.target_bps
        self._applied_at = clock()
        setattr(self, _VP8_RATE, self._applied)

    @property
    def target_bitrate(self) -> int:
        return self._applied

    @target_bitrate.setter
    def target_bitrate(self, bps: int) -> None:
        self._rate.estimated(bps)  # aiortc passes on each REMB here

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        self._follow()
        return super().encode(frame, force_keyframe)

    def _follow(self) -> None:
        target, now = self._rate.target_bps, self._clock()
        since = now - self._applied_at
        cut = target < self._applied * (1 - CHANGE) and (
            since >= CUT_EVERY_S or target < self._applied / 2
        )
        rise = target > self._applied * (1 + CHANGE) and since >= RISE_EVERY_S
        if cut or rise:
            log.info("the picture now at %d kbit/s (was %d)", target // 1000, self._applied // 1000)
            self._applied, self._applied_at = target, now
            setattr(self, _VP8_RATE, target)


def voice_encoder() -> OpusEncoder:
    encoder = OpusEncoder()
    encoder.codec.bit_rate = VOICE_BPS  # the codec opens at the first frame, with this
    return encoder


def attach(
    pc: RTCPeerConnection, rate: SendRate, on_scale: Callable[[float], None]
) -> asyncio.Task[None] | None:
    """Give ``pc``'s senders the kiosk's encoders (call it once its tracks are added, before
    any negotiation), and follow the other side's receiver reports until ``pc`` closes (the
    task returned). ``on_scale`` is told the share of the camera's size the rate carries.
    ``None``, logged, where this aiortc keeps its encoders elsewhere: the call goes on at
    aiortc's own rates."""
    senders = pc.getSenders()
    if not all(hasattr(sender, _AIORTC_ENCODER) for sender in senders):
        log.warning("aiortc's encoders not found: a slow line may lose much of the picture")
        return None
    for sender in senders:
        _encode_with_ours(sender, rate)
    video = next((sender for sender in senders if sender.kind == "video"), None)
    if video is None:
        return None
    return asyncio.create_task(_follow_reports(pc, video, rate, on_scale))


def _encode_with_ours(sender: RTCRtpSender, rate: SendRate) -> None:
    """Puts our encoder in ``sender`` when it starts with its negotiated codec."""
    start = sender.send

    async def send(parameters: Any) -> None:
        if getattr(sender, _AIORTC_ENCODER) is None and parameters.codecs:
            mime = parameters.codecs[0].mimeType.lower()
            if mime == "video/vp8":
                setattr(sender, _AIORTC_ENCODER, RatedVp8Encoder(rate))
            elif mime == "audio/opus":
                setattr(sender, _AIORTC_ENCODER, voice_encoder())
        await start(parameters)

    sender.send = send  # type: ignore[method-assign]


async def _follow_reports(
    pc: RTCPeerConnection, sender: RTCRtpSender, rate: SendRate, on_scale: Callable[[float], None]
) -> None:
    heard = None
    while pc.connectionState != "closed":
        await asyncio.sleep(WATCH_EVERY_S)
        try:
            report = await sender.getStats()
        except Exception:  # a transport not yet up, or closing: the next look will tell
            log.debug("no statistics from the video sender yet", exc_info=True)
            continue
        for stats in report.values():
            if stats.type == "remote-inbound-rtp" and stats.timestamp != heard:
                heard = stats.timestamp
                # aiortc gives the report's own field: lost packets in 256ths.
                rate.lost(stats.fractionLost / 256)
        on_scale(rate.scale)
