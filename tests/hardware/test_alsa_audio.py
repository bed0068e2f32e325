"""The handset's audio through ALSA, on the fake sound card of tests/hardware/sound_card.py:
real FFmpeg and libasound, ALSA's own plugins in place of a card."""

from __future__ import annotations

import asyncio
import errno
import fractions
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from hardware.alsa_audio import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AlsaEarpiece,
    AlsaMicrophone,
    use_system_alsa_config,
)
from hardware.interfaces import DeviceState
from hardware.selftest import check_handset_audio
from kiosk.calls.handset_audio import EarpieceSink, MicrophoneTrack
from tests.hardware.sound_card import (
    FakeSoundCard,
    Source,
    Voice,
    dominant_hz,
    noise,
    ramp,
    silence,
    tone,
)
from tests.waiting import until, wait_until

Started = list[AlsaMicrophone | AlsaEarpiece]


@pytest.fixture
def stopped_after() -> Iterator[Started]:
    """Devices the test started, stopped at its end should it fail before it stops them."""
    devices: Started = []
    yield devices
    for device in devices:
        device.stop()


Device = TypeVar("Device", AlsaMicrophone, AlsaEarpiece)


def started(stopped_after: Started, device: Device) -> Device:
    stopped_after.append(device)
    device.start()
    return device


# -- the ALSA configuration -------------------------------------------------------------


def test_the_system_configuration_is_used_unless_the_environment_names_one(
    tmp_path: Path,
) -> None:
    system = tmp_path / "alsa"
    system.mkdir()
    (system / "alsa.conf").write_text("# the distribution's\n")
    environ: dict[str, str] = {}
    assert use_system_alsa_config(environ, str(system)) == str(system / "alsa.conf")
    assert environ == {
        "ALSA_CONFIG_DIR": str(system),
        "ALSA_CONFIG_PATH": str(system / "alsa.conf"),
    }
    assert use_system_alsa_config(environ, str(system)) == str(system / "alsa.conf")  # idempotent

    chosen = {"ALSA_CONFIG_PATH": "/etc/kiosk/asound.conf"}
    assert use_system_alsa_config(chosen, str(system)) == "/etc/kiosk/asound.conf"
    assert chosen["ALSA_CONFIG_PATH"] == "/etc/kiosk/asound.conf"

    nothing: dict[str, str] = {}
    assert use_system_alsa_config(nothing, str(tmp_path / "absent")) == ""
    assert nothing == {}


# -- the microphone ---------------------------------------------------------------------


def test_a_tone_in_the_microphone_leaves_the_track_as_20ms_frames_of_that_tone(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()

    async def scenario() -> tuple[list[AudioFrame], list[AudioFrame], MicrophoneTrack]:
        microphone = started(stopped_after, AlsaMicrophone(handset.name))
        track = MicrophoneTrack(microphone)
        while microphone.state != DeviceState.OK:
            await asyncio.wait_for(track.recv(), 5)  # silence until the microphone speaks
        spoken = [await asyncio.wait_for(track.recv(), 5) for _ in range(50)]
        track.muted = True
        muted = [await asyncio.wait_for(track.recv(), 5) for _ in range(10)]
        track.stop()
        with pytest.raises(MediaStreamError):
            await track.recv()
        return spoken, muted, track

    with Voice(handset, tone(1000)):
        spoken, muted, track = asyncio.run(scenario())
    for frame in spoken + muted:
        assert frame.samples == FRAME_SAMPLES and frame.sample_rate == SAMPLE_RATE
        assert (frame.format.name, frame.layout.name) == ("s16", "mono")
        assert frame.time_base == fractions.Fraction(1, SAMPLE_RATE)
    pts = [frame.pts for frame in spoken + muted]
    assert np.all(np.diff(pts) == FRAME_SAMPLES)  # one unbroken timeline
    voice = np.concatenate([frame.to_ndarray().reshape(-1) for frame in spoken[-25:]])
    assert dominant_hz(voice) == pytest.approx(1000, abs=5)
    assert np.abs(voice).max() > 0.25 * 32767
    assert not any(frame.to_ndarray().any() for frame in muted)
    assert track.microphone_frames_sent >= 60  # muted frames still took the microphone's
    assert track.frames_sent >= 60


def test_without_a_microphone_the_track_sends_silence_at_the_pace_of_real_time(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    """A handset unplugged during a visit: the call goes on, quiet, neither stalled nor racing."""
    microphone = started(stopped_after, AlsaMicrophone("handset"))  # nothing of that name

    async def scenario() -> tuple[list[AudioFrame], float, MicrophoneTrack]:
        track = MicrophoneTrack(microphone)
        await track.recv()
        began = time.monotonic()
        frames = [await asyncio.wait_for(track.recv(), 5) for _ in range(25)]
        elapsed = time.monotonic() - began
        track.stop()
        return frames, elapsed, track

    frames, elapsed, track = asyncio.run(scenario())
    assert microphone.state == DeviceState.MISSING
    assert not any(frame.to_ndarray().any() for frame in frames)
    assert np.all(np.diff([frame.pts for frame in frames]) == FRAME_SAMPLES)
    # 25 frames are half a second of sound: a busy host can only make them later, never sooner.
    assert elapsed >= 0.45
    assert track.microphone_frames_sent == 0 and track.frames_sent == 26


def test_a_microphone_at_another_rate_is_resampled_to_48khz(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()
    with Voice(handset, tone(1000, rate=16_000), rate=16_000):
        microphone = started(stopped_after, AlsaMicrophone(handset.name, sample_rate=16_000))
        feed = microphone.listen(max_s=2.0)
        chunks = [feed.read(5.0) for _ in range(40)]
        microphone.stop()
    assert all(chunk is not None for chunk in chunks)
    assert {chunk.samples.size for chunk in chunks} == {FRAME_SAMPLES}
    voice = np.concatenate([chunk.samples for chunk in chunks[-25:]])
    assert dominant_hz(voice) == pytest.approx(1000, abs=5)


def test_a_slow_consumer_never_holds_more_than_100ms_and_gets_the_newest(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()
    with Voice(handset, tone(440)):
        microphone = started(stopped_after, AlsaMicrophone(handset.name))
        feed = microphone.listen()
        assert feed.capacity == 5  # 100 ms of 20 ms chunks
        wait_until(lambda: microphone.chunks >= 30, 10, "30 chunks from the microphone")
        assert feed.pending <= 5
        newest = microphone.chunks
        held = [feed.read(0) for _ in range(feed.pending)]
        microphone.stop()
    assert feed.dropped >= 20
    seqs = [chunk.seq for chunk in held]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert seqs[-1] >= newest  # the newest, not the oldest, were kept


def test_a_microphone_lost_while_recording_is_reported_and_reopened(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    """The first capture stream fails after a while, as a USB handset pulled out does."""
    handset = card.plug()
    opened: list[int] = []

    class Unplugged:
        def __init__(self, container: Any) -> None:
            self._container = container
            self.streams = container.streams

        def demux(self, stream: Any) -> Iterator[Any]:
            for count, packet in enumerate(self._container.demux(stream)):
                if count == SAMPLE_RATE // 2:  # half a second of one-sample periods
                    raise av.error.OSError(errno.EIO, "Input/output error")
                yield packet

        def close(self) -> None:
            self._container.close()

    def open_container(device: str, mode: str, options: dict[str, str]) -> Any:
        opened.append(1)
        container = av.open(device, format="alsa", mode=mode, options=options)
        return Unplugged(container) if len(opened) == 1 else container

    states: list[tuple[DeviceState, str]] = []
    with Voice(handset, tone(1000)):
        microphone = started(
            stopped_after, AlsaMicrophone(handset.name, open_container=open_container)
        )

        def seen(state: DeviceState) -> bool:
            now = (microphone.state, microphone.detail)
            if not states or states[-1] != now:
                states.append(now)
            return len(opened) == 2 and now[0] is state

        wait_until(lambda: seen(DeviceState.OK), 15, "the microphone back after the failure")
        microphone.stop()
    assert (DeviceState.MISSING, f"disconnected: {handset.name}") in states
    assert states[-1] == (DeviceState.OK, f"open: {handset.name}, 48000 Hz mono")


# -- the earpiece -----------------------------------------------------------------------


def test_the_earpiece_plays_what_it_is_given_in_order_without_gaps(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()
    # A latency allowance of 2 s: this checks the stream, not this thread's pacing on a busy box.
    earpiece = started(stopped_after, AlsaEarpiece(handset.name, max_latency_s=2.0))
    wait_until(lambda: earpiece.state == DeviceState.OK, 5, "the earpiece open")
    frames = 50
    due = time.monotonic()
    for number in range(frames):
        earpiece.write(ramp(FRAME_SAMPLES, number * FRAME_SAMPLES))
        due += FRAME_SAMPLES / SAMPLE_RATE
        time.sleep(max(0.0, due - time.monotonic()))  # written at a call's pace, 20 ms a frame
    wait_until(lambda: earpiece.queued == 0, 5, "all of it handed to the device")
    earpiece.stop()
    played = handset.played()
    heard = np.flatnonzero(played)  # around it only the earpiece's own silence
    assert played[heard[0] : heard[-1] + 1].tolist() == ramp(frames * FRAME_SAMPLES).tolist()
    assert earpiece.samples_dropped == 0


def test_a_burst_to_the_earpiece_keeps_only_the_newest_100ms(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()
    earpiece = started(stopped_after, AlsaEarpiece(handset.name))
    wait_until(lambda: earpiece.state == DeviceState.OK, 5, "the earpiece open")
    burst = ramp(SAMPLE_RATE)  # a second at once, as after a network hiccup
    earpiece.write(burst)
    wait_until(lambda: earpiece.samples_dropped > 0 and not earpiece._queue, 5, "the burst taken")
    earpiece.stop()
    heard = handset.played()
    heard = heard[heard != 0]
    assert 0 < heard.size <= 0.1 * SAMPLE_RATE
    assert heard.tolist() == burst[-heard.size :].tolist()  # the newest, in order
    assert earpiece.samples_dropped == burst.size - heard.size


def test_writes_to_a_stopped_earpiece_are_not_played_later(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()
    earpiece = AlsaEarpiece(handset.name)
    earpiece.write(ramp(FRAME_SAMPLES))  # before it starts: nobody is on the line yet
    started(stopped_after, earpiece)
    wait_until(lambda: earpiece.state == DeviceState.OK, 5, "the earpiece open")
    earpiece.stop()
    assert not handset.played().any()


# -- presence, absence, stopping ----------------------------------------------------------


def test_a_missing_handset_is_reported_and_found_when_it_is_plugged_in(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    microphone = started(stopped_after, AlsaMicrophone("handset"))
    earpiece = started(stopped_after, AlsaEarpiece("handset"))
    unknown_card = started(stopped_after, AlsaEarpiece("plughw:CARD=NoSuchHandset,DEV=0"))
    for device in (microphone, earpiece):
        wait_until(lambda d=device: d.detail == "not found: handset", 5, "not found")
        assert device.state == DeviceState.MISSING
    wait_until(
        lambda: unknown_card.detail == "not found: plughw:CARD=NoSuchHandset,DEV=0", 5, "no card"
    )

    handset = card.plug("handset")
    with Voice(handset, tone(1000)):
        for device in (microphone, earpiece):
            # The backoff between attempts grows to 5 s: within 15 s, whatever the host's load.
            wait_until(lambda d=device: d.state == DeviceState.OK, 15, "found again")
        assert microphone.detail == earpiece.detail == "open: handset, 48000 Hz mono"
        microphone.stop()


def test_stop_returns_promptly_and_leaves_no_thread(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()
    with Voice(handset, tone(1000)):
        microphone = started(stopped_after, AlsaMicrophone(handset.name))
        earpiece = started(stopped_after, AlsaEarpiece(handset.name))
        feed = microphone.listen()
        wait_until(lambda: microphone.state == earpiece.state == DeviceState.OK, 5, "both open")
        earpiece.write(ramp(FRAME_SAMPLES * 5))
        names = {f"microphone {handset.name}", f"earpiece {handset.name}"}
        assert names <= {t.name for t in threading.enumerate()}
        for device in (microphone, earpiece):
            began = time.monotonic()
            device.stop()
            # Well within the join's own timeout (2 s), which a stuck thread would wait out.
            assert time.monotonic() - began < 1.0
            assert (device.state, device.detail) == (DeviceState.MISSING, "stopped: handset")
        assert not names & {t.name for t in threading.enumerate()}
        feed.close()
        microphone.start()  # and it starts again
        wait_until(lambda: microphone.state == DeviceState.OK, 5, "the microphone again")
        microphone.stop()


# -- the earpiece in a call -----------------------------------------------------------------


class FramesTrack(MediaStreamTrack):
    """What aiortc's Opus decoder hands a call: stereo s16 at 48 kHz, 20 ms a frame."""

    kind = "audio"

    def __init__(self, samples: np.ndarray) -> None:
        super().__init__()
        self._samples = samples
        self._at = 0

    async def recv(self) -> AudioFrame:
        if self._at >= self._samples.size:
            raise MediaStreamError
        mono = self._samples[self._at : self._at + FRAME_SAMPLES]
        stereo = np.repeat(mono, 2).reshape(1, -1)
        frame = AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._at
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._at += FRAME_SAMPLES
        await asyncio.sleep(FRAME_SAMPLES / SAMPLE_RATE)
        return frame


def test_the_earpiece_sink_plays_the_peer_and_still_measures_its_level(
    card: FakeSoundCard, stopped_after: Started
) -> None:
    handset = card.plug()
    earpiece = started(stopped_after, AlsaEarpiece(handset.name, max_latency_s=2.0))
    wait_until(lambda: earpiece.state == DeviceState.OK, 5, "the earpiece open")
    peer = tone(700, level=0.25)(1, SAMPLE_RATE // 2)  # from 1: its first sample is not 0

    async def scenario() -> EarpieceSink:
        sink = EarpieceSink(earpiece)
        sink.start(FramesTrack(peer))
        await until(lambda: not sink.running, 10.0, "the peer's track played to its end")
        await sink.stop()
        return sink

    sink = asyncio.run(scenario())
    wait_until(lambda: earpiece.queued == 0, 5, "all of it handed to the device")
    earpiece.stop()
    assert sink.frames == 25 and sink.sample_rate == SAMPLE_RATE
    assert sink.level == pytest.approx(0.25 / np.sqrt(2), rel=0.05)  # a sine's RMS
    played = handset.played()
    heard = played[np.flatnonzero(played)[0] :][: peer.size]
    assert heard.size == peer.size
    # Both channels alike, so their mix is the peer's voice itself, to rounding.
    assert np.abs(heard.astype(np.int32) - peer).max() <= 1


# -- the self-test ------------------------------------------------------------------------


def test_the_self_test_hears_its_tone_and_reports_level_and_tone_to_noise(
    card: FakeSoundCard,
) -> None:
    handset = card.plug()
    microphone, earpiece = AlsaMicrophone(handset.name), AlsaEarpiece(handset.name)
    with Voice(handset, tone(1000)):  # the tone, as the earpiece held to the mouthpiece sends it
        check = check_handset_audio(microphone, earpiece, tone_hz=1000, seconds=1.0)
    assert check.ok, check.detail
    assert check.measured["level_dbfs"] == pytest.approx(-13.5, abs=1.0)  # a 0.3 sine
    assert check.measured["tone_to_noise_db"] > 40
    assert check.measured["peak_hz"] == pytest.approx(1000, abs=2)
    assert check.detail.startswith("1000 Hz tone heard at -13 dBFS")
    assert not microphone.running and not earpiece.running  # off again, as they were
    played = handset.played()
    heard = np.flatnonzero(played)
    assert dominant_hz(played[heard[0] : heard[-1]]) == pytest.approx(1000, abs=2)  # it played


@pytest.mark.parametrize(
    ("source", "reason"),
    [(silence, "nothing heard: -120 dBFS"), (noise(0.3), "no 1000 Hz tone in what was heard")],
    ids=["silence", "noise"],
)
def test_the_self_test_fails_on_silence_or_noise_and_says_why(
    card: FakeSoundCard, source: Source, reason: str
) -> None:
    handset = card.plug()
    microphone, earpiece = AlsaMicrophone(handset.name), AlsaEarpiece(handset.name)
    with Voice(handset, source):
        check = check_handset_audio(microphone, earpiece, tone_hz=1000, seconds=0.5)
    assert check.state == "error"
    assert check.detail.startswith(reason), check.detail
    assert check.measured["tone_to_noise_db"] < 15
    assert {"level_dbfs", "tone_to_noise_db"} <= set(check.measured)


def test_the_self_test_of_a_missing_handset_says_which_part_is_missing(
    card: FakeSoundCard,
) -> None:
    check = check_handset_audio(
        AlsaMicrophone("handset"), AlsaEarpiece("handset"), seconds=0.5, timeout_s=1.0
    )
    assert (check.state, check.detail) == ("missing", "microphone: not found: handset")
