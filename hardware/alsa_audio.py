"""The handset's audio through ALSA, by device name: its microphone read, its earpiece written.

Both go through PyAV's ``alsa`` format (FFmpeg's libavdevice), as aiortc takes ALSA input, each
in a :class:`~hardware.reconnecting_reader.ReconnectingReader` thread that reopens the device
with a backoff. Audio leaves and enters here as 48 kHz mono s16; the microphone's is cut into
20 ms chunks.

Facts that shaped this module:

- PyAV's wheel bundles its own libasound, built to look for its configuration under
  ``/tmp/vendor/share/alsa``: every device name then fails ("Unknown PCM"), and card names
  (``sysdefault:CARD=...``) need the card files next to ``alsa.conf``.
  :func:`use_system_alsa_config` points it at the system's files before the first open. That
  libasound cannot load the system's ALSA plugins (PulseAudio, PipeWire): name the handset by
  card, e.g. ``plughw:CARD=Handset,DEV=0``, not ``default``.
- FFmpeg opens a device in blocking mode, which waits as long as another program holds it, and
  reports every failure as a bare EIO. libasound is asked first, without blocking
  (:func:`_probe`): an unknown name or an unplugged card, busy, permissions.
- FFmpeg reads a capture device one period at a time, the smallest period the device allows
  (1 ms on USB audio, a single sample on ALSA's ``null`` plugin), so the reader works per
  packet in bytes and decodes only when the device's format is not already 48 kHz mono s16.
- FFmpeg asks for a playback buffer of up to 64 k frames (1.4 s here) and PyAV cannot ask the
  device how much of it is queued. The earpiece keeps its own account, assuming the device
  plays at its nominal rate, and drops audio beyond :data:`MAX_LATENCY_S` instead of letting a
  burst (a network hiccup catching up) put a second between the two people for the rest of the
  visit. A device clock slower than the nominal rate still adds its drift (0.1 ms a second at
  100 ppm) while audio flows without a pause.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import ctypes.util
import errno
import functools
import glob
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from hardware.interfaces import DeviceState
from hardware.reconnecting_reader import (
    OPEN_ERRORS,
    OpenFailed,
    ReaderStatus,
    ReconnectingReader,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms at 48 kHz: what WebRTC sends in one packet
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
MAX_LATENCY_S = 0.1  # the most audio either side holds back: a call must not lag behind speech
STALL_S = 2.0  # a microphone that delivers nothing for this long counts as gone
KEEPALIVE_S = 1.0  # an idle earpiece plays this often a little silence, to notice it is gone
SYSTEM_ALSA_DIR = "/usr/share/alsa"  # Debian's libasound2-data
# How long the earpiece's thread waits for audio before it looks whether it should stop.
_POLL_S = 0.1
_FRAME_BYTES = FRAME_SAMPLES * 2
_SND_PCM_STREAM_PLAYBACK, _SND_PCM_STREAM_CAPTURE = 0, 1
_SND_PCM_NONBLOCK = 1
_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENODEV, errno.ENXIO})


def use_system_alsa_config(
    environ: MutableMapping[str, str] | None = None, system_dir: str = SYSTEM_ALSA_DIR
) -> str:
    """Point libasound at the system's ALSA files unless the environment already names some.

    Sets ``ALSA_CONFIG_DIR`` (where card files are found) and ``ALSA_CONFIG_PATH`` (the top
    file) when unset and ``system_dir`` has them. libasound reads the directory once per process,
    so this must run before the first device is opened; it is idempotent. Returns the
    configuration file libasound will read (empty: its built-in default).
    """
    env = os.environ if environ is None else environ
    top = os.path.join(system_dir, "alsa.conf")
    if os.path.isfile(top):
        env.setdefault("ALSA_CONFIG_DIR", system_dir)
        env.setdefault("ALSA_CONFIG_PATH", top)
    return env.get("ALSA_CONFIG_PATH", "")


@functools.cache
def _libasound() -> Any | None:
    """The libasound PyAV uses (its wheel's own copy if it has one), or ``None``; looked up
    once per process."""
    wheel_libs = os.path.join(os.path.dirname(os.path.dirname(av.__file__)), "av.libs")
    candidates = sorted(glob.glob(os.path.join(wheel_libs, "libasound*.so*")))
    system = ctypes.util.find_library("asound")
    for path in [*candidates, system] if system else candidates:
        try:
            lib = ctypes.CDLL(path)  # already loaded by PyAV: this only takes a reference
        except OSError:
            continue
        lib.snd_strerror.restype = ctypes.c_char_p
        lib.snd_strerror.argtypes = [ctypes.c_int]
        lib.snd_pcm_open.argtypes = [
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_int,
        ]
        lib.snd_pcm_close.argtypes = [ctypes.c_void_p]
        return lib
    return None


def _probe(device: str, capture: bool) -> OpenFailed | None:
    """Whether libasound opens ``device`` now: ``None`` if it does, else what is wrong."""
    lib = _libasound()
    if lib is None:
        return None  # nobody to ask: FFmpeg's own open will tell, less precisely
    handle = ctypes.c_void_p()
    stream = _SND_PCM_STREAM_CAPTURE if capture else _SND_PCM_STREAM_PLAYBACK
    err = lib.snd_pcm_open(ctypes.byref(handle), device.encode(), stream, _SND_PCM_NONBLOCK)
    if err >= 0:
        lib.snd_pcm_close(handle)
        return None
    if -err in _MISSING_ERRNOS:
        return OpenFailed(DeviceState.MISSING, "not found")
    problem = OPEN_ERRORS.get(-err)
    if problem is None:
        problem = f"cannot open ({(lib.snd_strerror(err) or b'').decode(errors='replace')})"
    return OpenFailed(DeviceState.ERROR, problem)


def _open_checked(device: str, capture: bool, asked: str, open_device: Callable[[], Any]) -> Any:
    """``open_device()`` once libasound has said the device opens; raises :class:`OpenFailed`."""
    problem = _probe(device, capture)
    if problem is not None:
        raise problem
    try:
        return open_device()
    except OSError as exc:  # FFmpeg's bare EIO: ask again what is wrong
        # If it opens now, FFmpeg refused what it asked for (a raw hw: device without mono).
        raise (
            _probe(device, capture) or OpenFailed(DeviceState.ERROR, f"refuses {asked}", exc)
        ) from exc


def _open_alsa(device: str, mode: str, options: dict[str, str]) -> Any:
    return av.open(device, format="alsa", mode=mode, options=options)


class _AlsaDevice(ReaderStatus):
    """What the microphone and the earpiece share: the device name, a reader thread, a state."""

    role = "audio device"

    def __init__(self, device: str, open_container: Callable[..., Any] | None) -> None:
        if not isinstance(device, str) or not device:
            raise ValueError(f"{self.role}: no ALSA device name given")
        self.device = device
        self._open_container = open_container or _open_alsa
        self._lock = threading.Lock()
        self._running = False
        self._config_logged = False
        self._reader: ReconnectingReader[Any]

    @property
    def running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`stop` not since."""
        return self._running

    def start(self) -> None:
        """Start the device's thread; opening is retried until it works. Started twice is
        harmless."""
        config = use_system_alsa_config()
        if not self._config_logged:
            self._config_logged = True
            log.info("%s %s: ALSA configuration %s", self.role, self.device, config or "-")
        self._running = True
        self._reader.start()

    def stop(self) -> None:
        """Stop the thread (within about 0.1 s) and close the device."""
        self._running = False
        self._reader.stop()


def _close(device: Any) -> None:
    device.close()


# -- the microphone -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AudioChunk:
    """20 ms of the microphone: 960 samples of 48 kHz mono s16 (read-only)."""

    samples: np.ndarray
    seq: int  # counts the microphone's chunks: a gap means a consumer missed some
    captured_at: float  # time.monotonic() when it was complete


class MicrophoneFeed:
    """One consumer's share of the microphone: the newest chunks, never more than ``max_s``.

    The microphone's thread adds each chunk; when the consumer falls behind, the oldest go
    (counted in :attr:`dropped`). An asyncio consumer awaits :meth:`get` on the loop it
    registered (the thread wakes it with one ``call_soon_threadsafe`` however many chunks came
    meanwhile); a thread calls :meth:`read`.
    """

    def __init__(
        self,
        microphone: AlsaMicrophone,
        loop: asyncio.AbstractEventLoop | None,
        max_s: float,
    ) -> None:
        self._microphone = microphone
        self._loop = loop
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._chunks: collections.deque[AudioChunk] = collections.deque(
            maxlen=max(1, round(max_s / FRAME_S))
        )
        self._wake_pending = False
        self._event: asyncio.Event | None = None  # made on the loop when first awaited
        self._closed = False
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Chunks waiting to be taken."""
        with self._lock:
            return len(self._chunks)

    @property
    def capacity(self) -> int:
        """The most chunks it holds before it drops the oldest."""
        return self._chunks.maxlen or 0

    def _put(self, chunk: AudioChunk) -> None:
        """Called on the microphone's thread."""
        with self._lock:
            if self._closed:
                return
            if len(self._chunks) == self._chunks.maxlen:
                self.dropped += 1
            self._chunks.append(chunk)
            self._ready.notify_all()
            schedule = self._loop is not None and not self._wake_pending
            self._wake_pending = self._wake_pending or schedule
        if schedule:
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the loop is closed: its consumer is gone
                self.close()

    def _wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        if self._event is not None:
            self._event.set()

    async def get(self, timeout: float | None = None) -> AudioChunk | None:
        """The oldest chunk held, waiting for one up to ``timeout`` s; ``None`` if none came.

        Only on the loop the feed was made for: the microphone's thread wakes that one."""
        if self._loop is not asyncio.get_running_loop():
            raise RuntimeError("a microphone feed is awaited on the loop given to listen()")
        if self._event is None:
            self._event = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    with self._lock:
                        if self._chunks:
                            return self._chunks.popleft()
                        if self._closed:
                            return None
                    self._event.clear()  # on the loop, as _wake: a wake cannot slip between
                    await self._event.wait()
        except TimeoutError:
            return None

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """From a thread: the oldest chunk held, waiting up to ``timeout`` s; ``None`` if none."""
        with self._ready:
            self._ready.wait_for(lambda: self._chunks or self._closed, timeout)
            return self._chunks.popleft() if self._chunks else None

    def close(self) -> None:
        """Stop receiving; what is held is forgotten."""
        with self._lock:
            self._closed = True
            self._chunks.clear()
            self._ready.notify_all()
        self._microphone._forget(self)
        if self._event is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self._loop.call_soon_threadsafe(self._event.set)


class _Capture:
    """An open capture stream, turned into 20 ms chunks of 48 kHz mono s16."""

    def __init__(self, container: Any) -> None:
        self._container = container
        stream = container.streams.audio[0]
        context = stream.codec_context
        self.rate, self.channels = context.sample_rate, context.channels
        self._raw = (
            context.name == "pcm_s16le"
            and self.rate == SAMPLE_RATE
            and self.channels == 1
            and sys.byteorder == "little"
        )
        self._resampler = None
        if not self._raw:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._packets: Iterator[Any] = container.demux(stream)
        self._pending = bytearray()

    @property
    def where(self) -> str:
        layout = "mono" if self.channels == 1 else f"{self.channels} channels"
        return f", {self.rate} Hz {layout}"

    def next_chunk(self, stop: threading.Event) -> np.ndarray | None:
        """Read until a chunk is complete (``None`` if stopped first); raises when it fails."""
        while len(self._pending) < _FRAME_BYTES:
            if stop.is_set():
                return None
            packet = next(self._packets, None)
            if packet is None:
                raise OSError(errno.EIO, "the capture stream ended")
            if self._raw:
                self._pending += packet  # a packet is one period: often a handful of samples
            elif packet.size:
                for frame in packet.decode():
                    for out in self._resampler.resample(frame):
                        self._pending += out.to_ndarray().tobytes()
        samples = np.frombuffer(bytes(self._pending[:_FRAME_BYTES]), dtype=np.int16)
        del self._pending[:_FRAME_BYTES]
        return samples

    def close(self) -> None:
        self._container.close()


class AlsaMicrophone(_AlsaDevice):
    """The handset's microphone on ALSA device ``device``, in 20 ms chunks of 48 kHz mono s16.

    ``sample_rate`` and ``channels`` are what the device is asked for; whatever it gives is
    resampled. Consumers take chunks through :meth:`listen`. A device that fails is reported
    ``MISSING`` and reopened with a backoff; one that stays open but delivers nothing for
    :data:`STALL_S` is reported ``MISSING`` too. ``open_container`` replaces
    ``av.open(device, format="alsa", mode="r", options=...)``.
    """

    role = "microphone"

    def __init__(
        self,
        device: str,
        sample_rate: int = SAMPLE_RATE,
        *,
        channels: int = 1,
        open_container: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(device, open_container)
        if sample_rate <= 0 or channels <= 0:
            raise ValueError(f"microphone: bad format {sample_rate} Hz x {channels} channels")
        self.sample_rate = sample_rate
        self.channels = channels
        self._feeds: list[MicrophoneFeed] = []
        self._seq = 0
        self._deadline: float | None = None  # while open: no chunk by then means stalled
        self._reader = ReconnectingReader(
            device,
            role=self.role,
            thread_name=f"microphone {device}",
            open_device=self._open,
            read_once=self._read,
            close_device=_close,
            on_open=self._opened,
            on_lost=self._lost,
            where=lambda capture: capture.where,
        )

    @property
    def state(self) -> DeviceState:
        return self._stalled()[0]

    @property
    def detail(self) -> str:
        return self._stalled()[1]

    @property
    def chunks(self) -> int:
        """Chunks made since the microphone was built."""
        with self._lock:
            return self._seq

    def listen(
        self, loop: asyncio.AbstractEventLoop | None = None, *, max_s: float = MAX_LATENCY_S
    ) -> MicrophoneFeed:
        """A new feed of every chunk from now on; ``loop`` for an asyncio consumer. Close it."""
        feed = MicrophoneFeed(self, loop, max_s)
        with self._lock:
            self._feeds.append(feed)
        return feed

    def _forget(self, feed: MicrophoneFeed) -> None:
        with self._lock:
            if feed in self._feeds:
                self._feeds.remove(feed)

    def _stalled(self) -> tuple[DeviceState, str]:
        # Judged here, not on the thread: a read stuck in the driver cannot report itself.
        status = (self._reader.state, self._reader.detail)
        with self._lock:
            deadline = self._deadline
        if status[0] is DeviceState.OK and deadline is not None and time.monotonic() > deadline:
            return DeviceState.MISSING, f"no audio for {STALL_S:g} s: {self.device}"
        return status

    # -- on the reader thread -------------------------------------------------------------

    def _open(self) -> _Capture:
        options = {"sample_rate": str(self.sample_rate), "channels": str(self.channels)}
        asked = f"{self.sample_rate} Hz x {self.channels} s16 capture (try plughw:)"
        container = _open_checked(
            self.device, True, asked, lambda: self._open_container(self.device, "r", options)
        )
        try:
            return _Capture(container)
        except BaseException:
            container.close()
            raise

    def _opened(self, reconnect: bool) -> None:
        with self._lock:
            self._deadline = time.monotonic() + STALL_S

    def _lost(self) -> None:
        with self._lock:
            self._deadline = None

    def _read(self, capture: _Capture, stop: threading.Event) -> None:
        samples = capture.next_chunk(stop)
        if samples is None:
            return
        now = time.monotonic()
        with self._lock:
            if stop.is_set():  # a thread that outlived stop() publishes nothing
                return
            self._seq += 1
            chunk = AudioChunk(samples=samples, seq=self._seq, captured_at=now)
            self._deadline = now + STALL_S
            feeds = list(self._feeds)
        for feed in feeds:
            feed._put(chunk)


# -- the earpiece -------------------------------------------------------------------------


class _Output:
    """An open playback stream, and how much of what it was given the device has yet to play."""

    def __init__(self, container: Any) -> None:
        self._container = container
        self._stream = container.add_stream("pcm_s16le", rate=SAMPLE_RATE, layout="mono")
        self._pts = 0
        self._anchor = time.monotonic()
        self._since_anchor = 0  # samples handed over since _anchor
        self.last_play = self._anchor

    def room(self, max_samples: int) -> int:
        """How many samples may be played now without any being heard later than allowed."""
        now = time.monotonic()
        queued = self._since_anchor - (now - self._anchor) * SAMPLE_RATE
        if queued < 0:  # it ran dry (an underrun, which FFmpeg recovers from): count from now
            self._anchor, self._since_anchor, queued = now, 0, 0
        return max(0, max_samples - int(queued))

    def play(self, samples: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        self._pts += samples.size
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._since_anchor += samples.size
        self.last_play = time.monotonic()

    def close(self) -> None:
        self._container.close()  # FFmpeg drains what is queued first: at most max_latency_s


class AlsaEarpiece(_AlsaDevice):
    """The handset's earpiece on ALSA device ``device``: :meth:`write` 48 kHz mono s16 to it.

    Writes from any thread queue the audio for the device's thread; what would be heard more
    than ``max_latency_s`` late is dropped, oldest first. Between calls a little silence every
    :data:`KEEPALIVE_S` keeps an unplugged earpiece from going unnoticed. A device that fails is
    reported and reopened with a backoff. ``open_container`` replaces
    ``av.open(device, format="alsa", mode="w", options={})``.
    """

    role = "earpiece"

    def __init__(
        self,
        device: str,
        *,
        max_latency_s: float = MAX_LATENCY_S,
        open_container: Callable[..., Any] | None = None,
    ) -> None:
        super().__init__(device, open_container)
        if not max_latency_s >= FRAME_S:
            raise ValueError(f"earpiece: max_latency_s must be at least {FRAME_S:g} s")
        self._max_samples = round(max_latency_s * SAMPLE_RATE)
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._queued = 0  # samples in _queue
        self._arrived = threading.Condition(self._lock)
        self.samples_dropped = 0  # given to the earpiece but dropped as too late
        self._reader = ReconnectingReader(
            device,
            role=self.role,
            thread_name=f"earpiece {device}",
            open_device=self._open,
            read_once=self._play_some,
            close_device=_close,
            where=lambda _output: f", {SAMPLE_RATE} Hz mono",
        )

    @property
    def queued(self) -> int:
        """Samples given but not yet handed to the device (:meth:`stop` forgets them)."""
        with self._lock:
            return self._queued

    def write(self, samples: np.ndarray) -> None:
        """Queue ``samples`` (int16, 48 kHz mono) to be played; never blocks. Ignored while
        stopped: nothing stale may play when the earpiece starts again."""
        samples = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
        if not samples.size or not self._running:
            return
        with self._lock:
            self._queue.append(samples)
            self._queued += samples.size
            # While the device is stalled or gone, keep only the newest: it is what plays next.
            while self._queued > self._max_samples and len(self._queue) > 1:
                oldest = self._queue.popleft()
                self._queued -= oldest.size
                self.samples_dropped += oldest.size
            self._arrived.notify_all()

    def stop(self) -> None:
        super().stop()
        with self._lock:
            self._queue.clear()
            self._queued = 0

    # -- on the reader thread -------------------------------------------------------------

    def _open(self) -> _Output:
        def open_output() -> _Output:
            container = self._open_container(self.device, "w", {})
            try:
                output = _Output(container)
                # FFmpeg opens the device only with the first packet: play 20 ms of silence
                # now, so the state says whether it opens before anyone speaks.
                output.play(np.zeros(FRAME_SAMPLES, dtype=np.int16))
            except BaseException:
                with contextlib.suppress(Exception):
                    container.close()
                raise
            return output

        return _open_checked(self.device, False, f"{SAMPLE_RATE} Hz mono s16 playback", open_output)

    def _play_some(self, output: _Output, stop: threading.Event) -> None:
        with self._lock:
            self._arrived.wait_for(lambda: self._queue, _POLL_S)
            pieces = list(self._queue)
            self._queue.clear()
            self._queued = 0
        if stop.is_set():
            return
        if not pieces:
            if time.monotonic() - output.last_play < KEEPALIVE_S:
                return
            pieces = [np.zeros(FRAME_SAMPLES, dtype=np.int16)]
        samples = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        room = output.room(self._max_samples)
        if samples.size > room:
            with self._lock:
                self.samples_dropped += samples.size - room
            samples = samples[samples.size - room :]  # the newest are what plays next
        if samples.size:
            output.play(samples)
