"""The self-test a technician runs on a kiosk's devices: one routine per device, one report.

Blocking by design (it waits for frames, a lifted handset, a test card): run it in a thread or
from ``kiosk-provision selftest``, never on the loop that draws the screen. The report is plain
data (``as_dict``) for the contract's ``selftest`` event and the enrollment's hardware summary.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hardware.interfaces import BadgeEvent, Devices, DeviceState, HookEvent
from hardware.shared_device import SharedDevice

CAMERA_FRAMES = 30  # about a second of a 30 fps camera
CAMERA_TIMEOUT_S = 5.0
# A camera delivering less than this share of the rate it was asked for fails: a visit at
# 10 fps (YUYV at 720p on many webcams) is what the MJPG setting exists to avoid.
CAMERA_MIN_RATE_SHARE = 0.8
INTERACTIVE_WAIT_S = 30.0  # for the technician to lift the handset or present a test card
AUDIO_RATE = 48_000
AUDIO_FRAME = 960  # 20 ms: what the earpiece is given at a time, as a call gives it
# Passing marks of the handset's loopback: the tone must be this loud in the microphone, and
# stand this far above everything else it picked up (hum, hiss, a voice).
AUDIO_MIN_LEVEL_DBFS = -50.0
AUDIO_MIN_TONE_TO_NOISE_DB = 15.0
AUDIO_SETTLE_S = 0.3  # recorded but not judged: the earpiece-to-microphone delay, device start
_DB_FLOOR = -120.0  # silence in numbers that JSON can carry (it has no -inf)


@dataclass(frozen=True)
class DeviceCheck:
    """One device's result: ``state`` as the contract's telemetry spells it, and why."""

    state: str  # ok | missing | error
    detail: str
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state == DeviceState.OK


@dataclass(frozen=True)
class SelfTestReport:
    checks: dict[str, DeviceCheck]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        """``{"hardware": {device: {state, detail, ...measured}}, "ok": bool}``."""
        return {
            "hardware": {
                name: {"state": check.state, "detail": check.detail, **check.measured}
                for name, check in self.checks.items()
            },
            "ok": self.ok,
        }


def run_selftest(
    devices: Devices,
    *,
    expected_size: tuple[int, int] | None = None,
    expected_fps: float | None = None,
    interactive: bool = False,
    wait_s: float = INTERACTIVE_WAIT_S,
    say: Callable[[str], None] = lambda _line: None,
) -> SelfTestReport:
    """Test every device. ``interactive``: a technician is there to lift the handset and
    present a test card (``say`` tells them when); otherwise those are only checked present."""
    handset = check_handset(devices.handset, interactive, wait_s, say)
    if devices.microphone is not None and devices.earpiece is not None:
        sound = check_handset_audio(
            devices.microphone, devices.earpiece, say=say, loopback=interactive
        )
        handset = _with_sound(handset, sound)
    return SelfTestReport(
        {
            "camera": check_camera(devices.camera, expected_size, expected_fps),
            "handset": handset,
            "badge_reader": check_badge_reader(devices.badge_reader, interactive, wait_s, say),
        }
    )


def _with_sound(hook: DeviceCheck, sound: DeviceCheck) -> DeviceCheck:
    """The handset's one entry (the contract knows no fourth device): the hook, then its sound;
    it is only as good as the worse of the two."""
    state = hook.state if not hook.ok else sound.state
    measured = {**hook.measured, **{f"audio_{k}": v for k, v in sound.measured.items()}}
    return DeviceCheck(state, f"{hook.detail}; audio: {sound.detail}", measured)


def check_camera(
    camera: Any,
    expected_size: tuple[int, int] | None = None,
    expected_fps: float | None = None,
    frames: int = CAMERA_FRAMES,
    timeout_s: float = CAMERA_TIMEOUT_S,
) -> DeviceCheck:
    """The camera delivers ``frames`` new frames, of the expected size, near the expected rate.

    A camera that was off is turned on for the test and off again after it. A shared one (the
    kiosk's) is held for the test like any other user holds it.
    """
    owned = isinstance(camera, SharedDevice) or camera.latest_frame() is None
    if owned:
        camera.start()
    try:
        seen: list[tuple[int, float]] = []
        shape = None
        deadline = time.monotonic() + timeout_s
        while len(seen) < frames and time.monotonic() < deadline:
            frame = camera.latest_frame()
            if frame is not None and (not seen or frame.seq != seen[-1][0]):
                seen.append((frame.seq, time.monotonic()))
                shape = frame.image.shape
            time.sleep(0.002)
        # Read before it is turned off again: then it would only say "stopped".
        detail, state = getattr(camera, "detail", ""), camera.state
    finally:
        if owned:
            camera.stop()
    if not seen:
        state = state if state != DeviceState.OK else DeviceState.ERROR
        return DeviceCheck(str(state), detail or f"no frames within {timeout_s:g} s")
    height, width = shape[:2]
    # Frames counted by their sequence numbers: the camera's rate, not how often we looked.
    elapsed = seen[-1][1] - seen[0][1]
    fps = (seen[-1][0] - seen[0][0]) / elapsed if elapsed > 0 else 0.0
    measured = {"frames": len(seen), "width": width, "height": height, "fps": round(fps, 1)}
    if len(seen) < frames:
        return DeviceCheck(
            "error", f"only {len(seen)} of {frames} frames in {timeout_s:g} s", measured
        )
    if expected_size is not None and (width, height) != tuple(expected_size):
        return DeviceCheck(
            "error",
            f"{width}x{height}, not the {expected_size[0]}x{expected_size[1]} asked",
            measured,
        )
    if expected_fps is not None and fps < expected_fps * CAMERA_MIN_RATE_SHARE:
        return DeviceCheck("error", f"{fps:.1f} fps, not the {expected_fps:g} asked", measured)
    return DeviceCheck("ok", f"{frames} frames {width}x{height} at {fps:.1f} fps", measured)


def check_handset(
    handset: Any, interactive: bool, wait_s: float, say: Callable[[str], None]
) -> DeviceCheck:
    """Present; with a technician there, lifted and put back (both changes seen)."""
    if handset.state != DeviceState.OK and not _started(handset):
        return DeviceCheck(str(handset.state), getattr(handset, "detail", "") or "not found")
    if not interactive:
        return DeviceCheck(
            str(handset.state), f"present, {handset.hook_state} (hook not exercised)"
        )
    seen: list[HookEvent] = []
    changed = threading.Event()

    def heard(event: HookEvent) -> None:
        seen.append(event)
        if len({e.state for e in seen}) == 2:
            changed.set()

    unsubscribe = handset.subscribe(heard)
    try:
        say("Lift the handset, then put it back.")
        if not changed.wait(wait_s):
            return DeviceCheck("error", f"no hook change within {wait_s:g} s")
    finally:
        unsubscribe()
    return DeviceCheck("ok", "hook lifted and put back", {"hook_changes": len(seen)})


def check_badge_reader(
    reader: Any, interactive: bool, wait_s: float, say: Callable[[str], None]
) -> DeviceCheck:
    """Present; with a technician there, a test card is read (its value is not reported)."""
    if not _started(reader):
        return DeviceCheck(str(reader.state), getattr(reader, "detail", "") or "not found")
    if not interactive:
        return DeviceCheck(str(reader.state), getattr(reader, "detail", "") or "present")
    read = threading.Event()

    def heard(_event: BadgeEvent) -> None:
        read.set()

    unsubscribe = reader.subscribe(heard)
    try:
        say("Present the test card to the badge reader.")
        if not read.wait(wait_s):
            return DeviceCheck("error", f"no card read within {wait_s:g} s")
    finally:
        unsubscribe()
    return DeviceCheck("ok", "test card read")


@dataclass(frozen=True)
class ToneMeasure:
    """What a recording holds of a tone: its loudness, and how far it stands out."""

    level_dbfs: float  # RMS of the whole recording (its DC taken out), in dB of full scale
    tone_to_noise_db: float  # power within 1 % of the tone against all the rest above 20 Hz
    peak_hz: float  # the loudest frequency heard


def measure_tone(samples: np.ndarray, tone_hz: float, sample_rate: int = AUDIO_RATE) -> ToneMeasure:
    """Measure ``tone_hz`` in ``samples`` (int16 or float of full scale 1) with an FFT."""
    values = np.asarray(samples, dtype=np.float64).reshape(-1)
    if np.issubdtype(np.asarray(samples).dtype, np.integer):
        values = values / 32768.0
    if values.size < 2:
        return ToneMeasure(_DB_FLOOR, _DB_FLOOR, 0.0)
    values = values - values.mean()
    rms = math.sqrt(float(np.mean(values * values)))
    level = max(_DB_FLOOR, 20 * math.log10(rms)) if rms > 0 else _DB_FLOOR
    power = np.abs(np.fft.rfft(values * np.hanning(values.size))) ** 2
    freqs = np.fft.rfftfreq(values.size, 1 / sample_rate)
    # The Hann window spreads a pure tone over 2 bins either side: the band takes at least 3.
    half_band = max(0.01 * tone_hz, 3 * sample_rate / values.size)
    in_band = np.abs(freqs - tone_hz) <= half_band
    rest = ~in_band & (freqs >= 20.0)  # below 20 Hz: what is left of DC, which nobody hears
    tone_power, rest_power = float(power[in_band].sum()), float(power[rest].sum())
    if tone_power <= 0:
        ratio = _DB_FLOOR
    elif rest_power <= 0:
        ratio = -_DB_FLOOR
    else:
        ratio = min(-_DB_FLOOR, max(_DB_FLOOR, 10 * math.log10(tone_power / rest_power)))
    audible = freqs >= 20.0
    peak = float(freqs[audible][np.argmax(power[audible])]) if audible.any() else 0.0
    return ToneMeasure(level, ratio, peak)


def check_handset_audio(
    microphone: Any,
    earpiece: Any,
    *,
    tone_hz: float = 1000.0,
    seconds: float = 1.0,
    tone_level: float = 0.25,
    settle_s: float = AUDIO_SETTLE_S,
    min_level_dbfs: float = AUDIO_MIN_LEVEL_DBFS,
    min_tone_to_noise_db: float = AUDIO_MIN_TONE_TO_NOISE_DB,
    timeout_s: float = 3.0,
    say: Callable[[str], None] = lambda _line: None,
    loopback: bool = True,
) -> DeviceCheck:
    """The earpiece plays a tone while the microphone records; the tone must be heard.

    Needs the sound to loop back: a technician holding the earpiece to the mouthpiece (``say``
    asks them). Passes when the recording is at least ``min_level_dbfs`` loud and the tone
    stands ``min_tone_to_noise_db`` above the rest. Without ``loopback`` (nobody there) both
    only have to open. Devices that were off are turned on for the test and off again after
    it: an idle kiosk records nobody.
    """
    # A shared device (the kiosk's) is held like any user holds it: a call may start meanwhile.
    started = [
        d
        for d in (microphone, earpiece)
        if isinstance(d, SharedDevice) or not getattr(d, "running", False)
    ]
    for device in started:
        device.start()
    feed = None
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not (
            microphone.state == DeviceState.OK and earpiece.state == DeviceState.OK
        ):
            time.sleep(0.02)
        for name, device in (("microphone", microphone), ("earpiece", earpiece)):
            if device.state != DeviceState.OK:
                detail = getattr(device, "detail", "") or "not ready"
                return DeviceCheck(str(device.state), f"{name}: {detail}")
        if not loopback:
            return DeviceCheck("ok", "microphone and earpiece open (sound not looped back)")
        say("Hold the earpiece against the mouthpiece.")
        # Room for all of it: this thread takes the recording only between two writes.
        feed = microphone.listen(max_s=settle_s + seconds + timeout_s)
        recorded = _play_and_record(
            feed, earpiece, tone_hz, tone_level, seconds, settle_s, timeout_s
        )
    finally:
        if feed is not None:
            feed.close()
        for device in started:
            device.stop()
    heard_s = recorded.size / AUDIO_RATE
    if heard_s < seconds / 2:
        return DeviceCheck(
            "error",
            f"the microphone delivered {heard_s:.2f} s of audio, not the {seconds:g} s asked",
            {"seconds": round(heard_s, 2)},
        )
    found = measure_tone(recorded, tone_hz)
    measured = {
        "level_dbfs": round(found.level_dbfs, 1),
        "tone_to_noise_db": round(found.tone_to_noise_db, 1),
        "tone_hz": tone_hz,
        "peak_hz": round(found.peak_hz, 1),
        "seconds": round(heard_s, 2),
    }
    if found.level_dbfs < min_level_dbfs:
        return DeviceCheck(
            "error",
            f"nothing heard: {found.level_dbfs:.0f} dBFS in the microphone "
            f"(at least {min_level_dbfs:g} needed)",
            measured,
        )
    if found.tone_to_noise_db < min_tone_to_noise_db:
        return DeviceCheck(
            "error",
            f"no {tone_hz:g} Hz tone in what was heard: it stands {found.tone_to_noise_db:.0f} dB "
            f"above the rest (at least {min_tone_to_noise_db:g} needed), loudest at "
            f"{found.peak_hz:.0f} Hz",
            measured,
        )
    return DeviceCheck(
        "ok",
        f"{tone_hz:g} Hz tone heard at {found.level_dbfs:.0f} dBFS, "
        f"{found.tone_to_noise_db:.0f} dB above the rest",
        measured,
    )


def _play_and_record(
    feed: Any,
    earpiece: Any,
    tone_hz: float,
    tone_level: float,
    seconds: float,
    settle_s: float,
    timeout_s: float,
) -> np.ndarray:
    """Feed the earpiece the tone in real time (it keeps only 100 ms) and keep what the
    microphone records from ``settle_s`` on, until ``seconds`` of it or the timeout."""
    wanted = round(seconds * AUDIO_RATE)
    step = 2 * math.pi * tone_hz / AUDIO_RATE
    amplitude = tone_level * 32767
    chunks: list[np.ndarray] = []
    have = 0
    written = 0
    began = time.monotonic()
    judge_from = began + settle_s
    deadline = judge_from + seconds + timeout_s
    next_write = began
    while have < wanted and time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_write:
            phases = step * (written + np.arange(AUDIO_FRAME))
            earpiece.write(np.round(np.sin(phases) * amplitude).astype(np.int16))
            written += AUDIO_FRAME
            next_write += AUDIO_FRAME / AUDIO_RATE
            if next_write < now - 0.1:  # this thread was held up: go on from now, no burst
                next_write = now
        chunk = feed.read(max(0.0, next_write - time.monotonic()))
        if chunk is not None and chunk.captured_at >= judge_from:
            chunks.append(chunk.samples)
            have += chunk.samples.size
    return np.concatenate(chunks)[:wanted] if chunks else np.zeros(0, dtype=np.int16)


def _started(device: Any) -> bool:
    """Start ``device`` if it is not running yet; True when it then says it is OK."""
    if device.state != DeviceState.OK:
        device.start()
        deadline = time.monotonic() + 1.0
        while device.state != DeviceState.OK and time.monotonic() < deadline:
            time.sleep(0.02)
    return device.state == DeviceState.OK
