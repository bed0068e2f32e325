"""The handset in a call: its microphone as the track the kiosk sends, its earpiece as the sink
of what the peer says.

The devices (``AlsaMicrophone``, ``AlsaEarpiece`` of :mod:`hardware.alsa_audio`) belong to the
kiosk and outlive calls; a call makes its own track and sink on them and lets go of them when it
ends (its ``stop``). Nothing here blocks the loop: the microphone's thread wakes the
track once per chunk, and the earpiece queues what it is given for its own thread.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import time

import av
import numpy as np
from aiortc import AudioStreamTrack, MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from hardware.alsa_audio import (
    FRAME_S,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AlsaEarpiece,
    AlsaMicrophone,
    MicrophoneFeed,
)
from kiosk.calls.tracks import AudioLevelSink

log = logging.getLogger(__name__)

TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
# The microphone delivers a chunk every 20 ms; nothing for this long and the track fills in
# silence on its own clock, so a handset unplugged mid-visit does not stall the call.
MIC_GAP_S = 0.06
# Behind its silence schedule by more than this, the track starts counting again from now.
_MAX_LAG_S = 0.25


class MicrophoneTrack(AudioStreamTrack):
    """The handset microphone as a WebRTC audio track: 48 kHz mono s16, 20 ms frames.

    Frames go out as the microphone delivers them (the sound card's clock paces the call). When
    it delivers nothing for ``gap_s`` the track sends silence at 50 frames a second until it
    does again. ``muted`` sends silence (the handset on its hook) while the microphone's chunks
    are still taken, so unmuting sends what is said now, not what waited. :meth:`stop` lets go
    of the microphone; the device itself keeps running.
    """

    def __init__(self, microphone: AlsaMicrophone, *, gap_s: float = MIC_GAP_S) -> None:
        super().__init__()
        self._microphone = microphone
        self._gap_s = gap_s
        self._feed: MicrophoneFeed | None = None
        self._pts = 0
        self._silence_due: float | None = None  # while filling in: when the next frame is due
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self.muted = False
        self.frames_sent = 0  # every frame, silence included
        self.microphone_frames_sent = 0  # frames that came from the microphone

    @property
    def dropped(self) -> int:
        """Microphone chunks lost because the call did not take them in time."""
        return self._feed.dropped if self._feed is not None else 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._feed is None:
            self._feed = self._microphone.listen(asyncio.get_running_loop())
        if self._silence_due is None:
            wait_s = self._gap_s
        else:
            wait_s = max(0.0, self._silence_due - time.monotonic())
        chunk = await self._feed.get(wait_s)
        if self.readyState != "live":
            raise MediaStreamError
        if chunk is not None:
            self._silence_due = None
            self.microphone_frames_sent += 1
            samples = self._silence if self.muted else chunk.samples
        else:
            now = time.monotonic()
            if self._silence_due is None or self._silence_due < now - _MAX_LAG_S:
                self._silence_due = now
            self._silence_due += FRAME_S
            samples = self._silence
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += samples.size
        self.frames_sent += 1
        return frame

    def stop(self) -> None:
        super().stop()
        if self._feed is not None:
            self._feed.close()  # kept: its count of dropped chunks stays readable


class EarpieceSink(AudioLevelSink):
    """The peer's voice in the handset earpiece, and its level for the screen as before.

    Each received frame is converted to 48 kHz mono s16 and handed to ``earpiece``, which
    plays it from its own thread and drops what would come too late.
    """

    def __init__(self, earpiece: AlsaEarpiece) -> None:
        super().__init__()
        self._earpiece = earpiece
        self._resampler: av.AudioResampler | None = None
        self._resampler_for: tuple[str, str, int] | None = None
        self._failed = False

    def start(self, track: MediaStreamTrack) -> None:
        """Play ``track`` from now on (a new peer connection's: its timestamps start afresh)."""
        self._resampler = None
        super().start(track)

    def _take(self, frame: object, now: float) -> None:
        super()._take(frame, now)
        assert isinstance(frame, AudioFrame)
        try:
            for out in self._resample(frame):
                self._earpiece.write(out.to_ndarray().reshape(-1))
        except Exception:  # a bad frame must not end the sink: the level meter goes on
            if not self._failed:
                self._failed = True
                log.exception("earpiece: a received frame could not be played")

    def _resample(self, frame: AudioFrame) -> list[AudioFrame]:
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        if self._resampler is None or key != self._resampler_for:
            # A new peer connection may bring another codec, whose frames differ.
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            self._resampler_for = key
        return self._resampler.resample(frame)
