"""The call's own process: one visit's call, where the kiosk's screen cannot take its time.

Spawned by :mod:`kiosk.call_link.process` (often before the visit, so that its imports are
done when the call is wanted). It reads the kiosk's camera from a frame slot, holds the
aiortc call, writes each picture the other side sends into another slot as soon as it is
decoded (only the newest is ever converted: one still being converted when newer ones come
makes them wait as one), and tells the kiosk over the pipe what happens: states, signals to
publish, the camera failing, and its figures every half second.

The process ends after the call does, or when the kiosk's end of the pipe closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from multiprocessing.connection import Connection
from typing import Any

from aiortc import RTCIceServer

from kiosk.call_link.frame_slot import FrameSlot
from kiosk.call_link.messages import (
    CallSpec,
    CallStats,
    CameraFailed,
    DropConnection,
    Finished,
    HangUp,
    Loaded,
    Publish,
    Restart,
    Signal,
    Start,
    State,
)
from kiosk.calls.call import Call
from kiosk.calls.media_watch import MediaWatch
from kiosk.calls.signalling import VisitSignalling
from kiosk.calls.slot_camera import SlotCamera

log = logging.getLogger(__name__)

STATS_EVERY_S = 0.5
# The call comes before the screen when the processor is short: at nice 0 beside two screens
# drawn in software, a picture took 100-230 ms from camera to decoder; at -10, 55-90 ms
# (tests/drawn_visit.py). The kiosk's service allows it (systemd/kiosk.service: LimitNICE).
CALL_NICENESS = -10


def serve(conn: Connection, spec: CallSpec) -> None:
    """The process's whole life: wait for the visit, hold its call, report, end."""
    logging.basicConfig(
        level=spec.log_level,
        format="%(asctime)s %(levelname)s call[%(process)d] %(name)s: %(message)s",
    )
    # Each ICE check logged would drown the visit's own lines.
    logging.getLogger("aioice").setLevel(max(spec.log_level, logging.WARNING))
    _come_first()
    with contextlib.suppress(BrokenPipeError, OSError):
        conn.send(Loaded())
    asyncio.run(_CallHost(conn, spec).run())


def _come_first() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, 0, CALL_NICENESS)
    except OSError as error:
        log.warning(
            "the call runs at the screen's priority (%s): give the kiosk LimitNICE=%d",
            error.strerror,
            20 - CALL_NICENESS,
        )


class _CallHost:
    def __init__(self, conn: Connection, spec: CallSpec) -> None:
        self._conn = conn
        self._spec = spec
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._call: Call | None = None
        self._watch: MediaWatch | None = None
        self._camera = SlotCamera(spec.camera)
        self._devices: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._picture_came = asyncio.Event()
        self._consent_lost = 0
        self._was_connected = False

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self._conn.fileno(), self._read_pipe)
        try:
            while True:
                message = await self._inbox.get()
                if message is None:  # the kiosk is gone: end without a word
                    await self._end("peer")
                    return
                if isinstance(message, HangUp):
                    await self._end(message.reason)
                    return
                await self._handle(message)
        finally:
            loop.remove_reader(self._conn.fileno())
            self._camera.stop()

    def _read_pipe(self) -> None:
        try:
            while self._conn.poll():
                self._inbox.put_nowait(self._conn.recv())
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
            self._inbox.put_nowait(None)

    def _send(self, message: Any) -> None:
        try:
            self._conn.send(message)
        except (BrokenPipeError, OSError):
            log.warning("the kiosk is gone; %s not told", type(message).__name__)

    async def _handle(self, message: Any) -> None:
        if isinstance(message, Start):
            self._start(message)
        elif self._call is None:
            log.warning("%s before the call started: ignored", type(message).__name__)
        elif isinstance(message, Signal):
            self._signalling.deliver(message.payload)
        elif isinstance(message, Restart):
            self._spawn(self._call.restart())
        elif isinstance(message, DropConnection):
            pc = self._call.peer_connection
            if pc is not None:
                self._spawn(pc.close())

    # --- the call ----------------------------------------------------------------------------

    def _start(self, start: Start) -> None:
        if self._call is not None:
            log.warning("a second start for one call: ignored")
            return
        spec = self._spec
        self._signalling = VisitSignalling(
            start.visit_id, start.kiosk_id, lambda payload: self._send(Publish(payload))
        )
        sound: dict[str, Any] = {}
        if spec.handset_audio:
            sound = self._handset(spec.handset_audio)
        self._call = call = Call(
            self._signalling,
            self._camera,
            offerer=start.offerer,
            on_state=self._state,
            ice_servers=[
                RTCIceServer(list(s.urls), username=s.username, credential=s.credential)
                for s in start.ice_servers
            ],
            relay_only=start.relay_only,
            fps=spec.fps,
            on_camera_failed=lambda failed: self._send(CameraFailed(failed)),
            picture_filter=self._picture_filter(),
            **sound,
        )
        call.remote_video.on_frame = self._picture_came.set
        self._watch = MediaWatch(call, self._state, offerer=start.offerer)
        self._spawn(call.start())
        self._spawn(self._watch.run())
        self._spawn(self._write_pictures(call, spec.remote))
        self._spawn(self._report())

    def _handset(self, device: str) -> dict[str, Any]:
        from hardware.alsa_audio import AlsaEarpiece, AlsaMicrophone
        from kiosk.calls.handset_audio import EarpieceSink, MicrophoneTrack

        microphone, earpiece = AlsaMicrophone(device), AlsaEarpiece(device)
        microphone.start()
        earpiece.start()
        self._devices = [microphone, earpiece]
        return {"microphone": MicrophoneTrack(microphone), "earpiece": EarpieceSink(earpiece)}

    def _picture_filter(self) -> Any:
        if not self._spec.blur_without_face:
            return None
        from kiosk.calls.face_gate import FaceGate

        gate, sent = FaceGate(), self._spec.sent

        def blurred_when_faceless(image: Any) -> Any:
            out = gate(image)
            sent.write(out, captured_at=time.monotonic())
            return out

        return blurred_when_faceless

    def _state(self, state: str) -> None:
        if state == "connected":
            self._was_connected = True
        elif state == "failed" and self._was_connected:
            # A connection that was up and failed by itself: ICE consent expired.
            self._consent_lost += 1
        self._send(State(state))

    async def _write_pictures(self, call: Call, slot: FrameSlot) -> None:
        sink = call.remote_video
        written = None
        while call.state != "closed":
            await self._picture_came.wait()
            self._picture_came.clear()
            frame, arrived_at = sink.latest_frame, sink.last_frame_at
            if frame is None or frame is written or arrived_at is None:
                continue
            written = frame
            width, height = _fitting(frame.width, frame.height, slot)
            image = frame.to_ndarray(format="bgr24", width=width, height=height)
            slot.write(image, captured_at=arrived_at, arrived_at=arrived_at)
            # Let the loop run between two pictures: the sound and the checks come first.
            await asyncio.sleep(0)

    async def _report(self) -> None:
        while self._call is not None and self._call.state != "closed":
            self._send(self._stats())
            await asyncio.sleep(STATS_EVERY_S)

    def _stats(self) -> CallStats:
        call = self._call
        assert call is not None
        remote_audio = call.remote_audio
        heard = [t for t in (call.remote_video.last_frame_at, remote_audio.last_frame_at) if t]
        watch = self._watch
        return CallStats(
            state=call.state,
            restarts=call.restarts,
            frames_sent=call.frames_sent,
            camera_frames_sent=call.local_video.camera_frames_sent,
            frames_received=call.frames_received,
            audio_frames_sent=call.audio_frames_sent,
            audio_frames_received=call.audio_frames_received,
            audio_level=remote_audio.level,
            longest_silence_s=remote_audio.longest_silence_s,
            fps_received=call.remote_video.fps,
            send_size=call.local_video.sent_size,
            send_fps=round(call.local_video.send_fps, 1),
            send_usage=round(call.local_video.quality.usage, 2),
            send_kbit=call.send_rate.target_bps // 1000,
            codec=_codec(call),
            consent_expired=self._consent_lost,
            last_media_at=max(heard) if heard else None,
            process_cpu_s=time.process_time(),
            stalls=watch.stalls if watch else 0,
            poor_seconds=watch.poor_seconds_so_far(time.monotonic()) if watch else 0.0,
        )

    async def _end(self, reason: str) -> None:
        call = self._call
        try:
            if call is not None:
                if reason == "peer":
                    await call.close()  # the peer said bye (or the kiosk went): no bye back
                else:
                    await call.hang_up(reason)
            for task in list(self._tasks):
                task.cancel()
            for task in list(self._tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        finally:
            for device in self._devices:
                with contextlib.suppress(Exception):
                    device.stop()
            self._send(Finished(self._stats() if call is not None else CallStats()))

    def _spawn(self, step: Any) -> None:
        task = asyncio.get_running_loop().create_task(step)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a call step failed", exc_info=task.exception())
            self._send(State("failed"))


def _fitting(width: int, height: int, slot: FrameSlot) -> tuple[int, int]:
    """The picture's size, scaled down (aspect kept, even sides) if the slot is smaller."""
    if slot.fits(width, height):
        return width, height
    scale = min(slot.max_width / width, slot.max_height / height)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _codec(call: Call) -> str | None:
    pc = call.peer_connection
    if pc is None:
        return None
    for transceiver in pc.getTransceivers():
        codecs = getattr(transceiver, "_codecs", None)
        if transceiver.kind == "video" and codecs:
            return str(codecs[0].mimeType)
    return None
