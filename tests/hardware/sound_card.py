"""A sound card made of ALSA's own plugins, for the handset audio tests (there is none here).

A temporary ALSA configuration (``ALSA_CONFIG_PATH``) defines each handset as a ``file`` plugin
over the ``null`` device. Its microphone reads a FIFO that a :class:`Voice` thread speaks into
at the pace of real time, as a sound card would deliver; its earpiece writes a raw file the test
reads back after ``stop()``. FFmpeg, libasound and the adapters run for real.

libasound caches its parsed configuration per process and reads it again when the top file's
name, inode or time changes: each test has its own file, and :meth:`FakeSoundCard.plug` replaces
the file (a new inode) rather than rewriting it in place.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hardware.alsa_audio import (
    SAMPLE_RATE,
    SYSTEM_ALSA_DIR,
)

Source = Callable[[int, int], np.ndarray]  # (first sample index, count) -> int16 samples


def tone(hz: float, level: float = 0.3, rate: int = SAMPLE_RATE) -> Source:
    def samples(first: int, count: int) -> np.ndarray:
        phases = 2 * np.pi * hz * (first + np.arange(count)) / rate
        return np.round(np.sin(phases) * level * 32767).astype(np.int16)

    return samples


def silence(first: int, count: int) -> np.ndarray:
    return np.zeros(count, dtype=np.int16)


def noise(level: float = 0.3) -> Source:
    generator = np.random.default_rng(7)

    def samples(first: int, count: int) -> np.ndarray:
        return np.round(generator.uniform(-level, level, count) * 32767).astype(np.int16)

    return samples


def ramp(count: int, first: int = 0) -> np.ndarray:
    """Samples that say where they are in the stream, and are never silence."""
    return ((first + np.arange(count)) % 20_000 + 1).astype(np.int16)


def dominant_hz(samples: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    values = samples.astype(np.float64) - samples.mean()
    spectrum = np.abs(np.fft.rfft(values * np.hanning(values.size)))
    return float(np.fft.rfftfreq(values.size, 1 / rate)[np.argmax(spectrum)])


class Handset:
    """One PCM of the fake card: where its microphone listens and its earpiece plays."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.mic_fifo = folder / f"{name}-mic.fifo"
        self.earpiece_file = folder / f"{name}-earpiece.raw"
        if not self.mic_fifo.exists():
            os.mkfifo(self.mic_fifo)

    def definition(self) -> str:
        return (
            f"pcm.{self.name} {{\n"
            "  type asym\n"
            "  playback.pcm {\n"
            f'    type file; slave.pcm "null"; file "{self.earpiece_file}"; format "raw"\n'
            "  }\n"
            "  capture.pcm {\n"
            f'    type file; slave.pcm "null"; file "/dev/null"; infile "{self.mic_fifo}"\n'
            '    format "raw"\n'
            "  }\n"
            "}\n"
        )

    def played(self) -> np.ndarray:
        """Everything the earpiece was given to play (complete once the earpiece stopped)."""
        if not self.earpiece_file.exists():
            return np.zeros(0, dtype=np.int16)
        return np.fromfile(self.earpiece_file, dtype="<i2")


class FakeSoundCard:
    """An ALSA configuration of its own for this test, with handsets plugged in and out."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.config = folder / "asound.conf"
        self._plugged: dict[str, Handset] = {}
        self._write()
        monkeypatch.setenv("ALSA_CONFIG_PATH", str(self.config))
        monkeypatch.setenv("ALSA_CONFIG_DIR", SYSTEM_ALSA_DIR)

    def plug(self, name: str = "handset") -> Handset:
        handset = Handset(name, self.folder)
        self._plugged[name] = handset
        self._write()
        return handset

    def _write(self) -> None:
        text = f"<{SYSTEM_ALSA_DIR}/alsa.conf>\n" + "".join(
            handset.definition() for handset in self._plugged.values()
        )
        staged = self.config.with_suffix(".new")
        staged.write_text(text)
        os.replace(staged, self.config)  # a new inode: libasound sees the change at once


class Voice:
    """Speaks ``source`` into a handset's microphone FIFO in 10 ms pieces, in real time.

    Like a sound card, it drops what the reader does not take in time, and it waits for a
    reader to come (back) when there is none. ``source`` may be swapped while it runs.
    """

    def __init__(self, handset: Handset, source: Source, rate: int = SAMPLE_RATE) -> None:
        self._path = handset.mic_fifo
        self.source = source
        self._rate = rate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-voice", daemon=True)

    def __enter__(self) -> Voice:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2.0)

    def _run(self) -> None:
        piece = self._rate // 100
        fd: int | None = None
        spoken = 0
        due = time.monotonic()
        try:
            while not self._stop.is_set():
                if fd is None:
                    try:  # non-blocking: fails (ENXIO) until a reader has the FIFO open
                        fd = os.open(self._path, os.O_WRONLY | os.O_NONBLOCK)
                    except OSError as exc:
                        if exc.errno != errno.ENXIO:
                            raise
                        self._stop.wait(0.005)
                        due = time.monotonic()
                        continue
                data = self.source(spoken, piece).astype("<i2").tobytes()
                spoken += piece
                try:
                    os.write(fd, data)
                except BlockingIOError:
                    pass  # the reader is behind: the card overruns, this piece is lost
                except BrokenPipeError:
                    os.close(fd)
                    fd = None
                    continue
                due += piece / self._rate
                if due < time.monotonic() - 0.2:
                    due = time.monotonic()  # this thread was held up: no burst
                self._stop.wait(max(0.0, due - time.monotonic()))
        finally:
            if fd is not None:
                os.close(fd)
