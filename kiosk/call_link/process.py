"""The call's process: spawned with its frame slots, often ahead of the visit it will serve.

Spawned, not forked: a fork would copy the kiosk's screen and threads into it. A fresh
interpreter takes about a second to import aiortc, so :class:`CallProcesses` keeps one ready
once asked to (a visit's join window has opened), and the visit's call starts at once.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from kiosk.call_link.frame_slot import FrameSlot
from kiosk.call_link.messages import CallSpec, Loaded

log = logging.getLogger(__name__)

# The other side's picture is shown at most this large; a larger one is scaled down as it is
# converted, in the call's process.
REMOTE_MAX = (1280, 720)
JOIN_S = 5.0


@dataclass(frozen=True)
class CallSettings:
    """The kiosk's configuration as its calls need it."""

    camera_size: tuple[int, int] = (640, 480)
    blur_without_face: bool = False
    handset_audio: str | None = None
    fps: float = 30.0


def _serve(conn: Connection, spec: CallSpec) -> None:
    # By name: the kiosk's process must not import aiortc, even to name the child's target.
    importlib.import_module("kiosk.calls.call_process").serve(conn, spec)


class CallProcess:
    """One running call process: its pipe and its slots."""

    def __init__(self, context: Any, settings: CallSettings) -> None:
        width, height = settings.camera_size
        self.spec = CallSpec(
            camera=FrameSlot(context, width, height),
            remote=FrameSlot(context, *REMOTE_MAX),
            sent=FrameSlot(context, width, height),
            blur_without_face=settings.blur_without_face,
            handset_audio=settings.handset_audio,
            fps=settings.fps,
            # The call logs as the kiosk does, into the same journal.
            log_level=logging.getLogger().getEffectiveLevel(),
        )
        self.conn, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(theirs, self.spec), name="visit-call", daemon=True
        )
        self._started_at = time.monotonic()
        self._process.start()
        theirs.close()
        self._loaded = False
        log.info("call process %d started", self._process.pid)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.is_alive()

    def loaded(self) -> bool:
        """Whether it has said it is ready for a call (only asked before its call starts)."""
        with contextlib.suppress(EOFError, OSError):
            while not self._loaded and self.conn.poll():
                if isinstance(self.conn.recv(), Loaded):
                    self._loaded = True
                    log.info(
                        "call process %d ready in %.1f s",
                        self._process.pid,
                        time.monotonic() - self._started_at,
                    )
        return self._loaded

    def send(self, message: Any) -> bool:
        """Tell the call; ``False`` if it is gone."""
        try:
            self.conn.send(message)
            return True
        except (BrokenPipeError, OSError):
            return False

    def close(self) -> None:
        """Wait a moment for the process to end by itself, then end it (blocks: an executor's)."""
        self._process.join(JOIN_S)
        if self._process.is_alive():
            log.warning("call process %d did not end; killed", self._process.pid)
            self._process.kill()
            self._process.join(JOIN_S)
        self.conn.close()


class CallProcesses:
    """Hands each visit a call process; :meth:`prepare` spawns the next one ahead of time."""

    def __init__(self, settings: CallSettings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._ready: CallProcess | None = None

    def prepare(self) -> None:
        if self._ready is None or not self._ready.alive():
            self._ready = CallProcess(self._context, self.settings)

    def ready_to_call(self) -> bool:
        """A spare process is waiting, and has loaded what a call needs."""
        return self._ready is not None and self._ready.alive() and self._ready.loaded()

    def take(self) -> CallProcess:
        ready, self._ready = self._ready, None
        if ready is not None and ready.alive():
            return ready
        return CallProcess(self._context, self.settings)

    def close(self) -> None:
        """The spare one, if any, ends (the kiosk is stopping)."""
        ready, self._ready = self._ready, None
        if ready is not None:
            ready.conn.close()  # it ends when its pipe closes
