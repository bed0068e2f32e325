"""One visit's video call: a WebRTC peer connection (aiortc) driven by the visit's signalling.

Roles. The housing kiosk is the *offerer*: it makes every offer, the first one and each
restart. The other side (a lobby kiosk, or the cloud's media gateway) is the *answerer*: it
answers any offer at any time, replacing its peer connection if it had one. aiortc has neither
trickle ICE nor ``restartIce``: an offer carries every candidate (``setLocalDescription``
gathers them first), and a restart is a fresh peer connection with a fresh offer.

Joining. :meth:`Call.start` sends ``ready`` (the contract's "my participant has joined"). The
offerer sends its offer straight away and sends it again when the peer's ``ready`` shows the peer
was not listening yet; a ``ready`` while media flows is a duplicate and is ignored, one while
nothing flows means the peer re-joined and starts a restart. The answerer answers a repeated
offer with the same answer.

States reported through ``on_state`` (only on change), from the current peer connection:

- ``connecting``: the first negotiation is under way;
- ``connected``: media flows both ways (ICE and DTLS are up);
- ``reconnecting``: a restart is under way, or the peer closed its connection (its restart, or
  its hang-up, follows);
- ``failed``: ICE or DTLS failed; the owner decides whether to :meth:`Call.restart` (offerer) or
  to end the visit;
- ``closed``: the call is over, for good: :meth:`Call.hang_up`, :meth:`Call.close`, or the
  peer's ``bye`` (then :attr:`Call.end_reason` holds the peer's reason and
  :attr:`Call.ended_by_peer` is true).

Known limit: an answer still on its way when the offerer restarts cannot be told from the answer
to the new offer (SDP answers do not name their offer); it would fail the new connection, and the
next restart mends it. Restarts are rare (after a failure or a re-join), so the window is small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceCandidate,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from hardware.interfaces import Camera
from kiosk.calls import fresh_frames, rate_control
from kiosk.calls.send_rate import SendRate
from kiosk.calls.signalling import READY, Bye, Ready, SignalObject, VisitSignalling
from kiosk.calls.tracks import (
    AudioLevelSink,
    CameraVideoTrack,
    ForwardingTrack,
    ToneAudioTrack,
    VideoSink,
)

log = logging.getLogger(__name__)

STATES = ("new", "connecting", "connected", "reconnecting", "failed", "closed")
# Remote media newer than this means the peer connection is alive: a peer's "ready" is then a
# duplicate (its sync link reconnected), not a re-join that needs a restart.
_MEDIA_FRESH_S = 2.0
PEER_CLOSE_GRACE_S = 1.5


class Call:
    """One visit's WebRTC call between this kiosk and its peer.

    ``ice_servers``: STUN/TURN servers (``RTCIceServer`` or URL strings). ``None`` means none
    at all: host candidates only, which is what a facility network and the loopback tests
    need (aiortc's own default would ask a public STUN server). ``relay_only``: only relayed
    candidates (TURN), for a facility whose firewall lets no direct UDP out.
    ``on_camera_failed(failed)`` is told when the camera stops delivering (the call continues
    with audio and a "camera unavailable" picture) and when it delivers again.
    ``microphone`` and ``earpiece``: the handset's track and sink for this call (see
    :mod:`kiosk.calls.handset_audio`; the call stops them when it ends). Without them a tone
    stands in for the voice sent, and the voice received is only measured.
    """

    def __init__(
        self,
        signalling: VisitSignalling,
        camera: Camera,
        *,
        offerer: bool,
        on_state: Callable[[str], None],
        ice_servers: Sequence[RTCIceServer | str] | None = None,
        relay_only: bool = False,
        fps: float = 30.0,
        tone_hz: float = 440.0,
        on_camera_failed: Callable[[bool], None] | None = None,
        picture_filter: Callable[[Any], Any] | None = None,
        microphone: MediaStreamTrack | None = None,
        earpiece: AudioLevelSink | None = None,
    ) -> None:
        self._signalling = signalling
        self.offerer = offerer
        self._on_state = on_state
        self._on_camera_failed = on_camera_failed
        self._ice_servers = [
            server if isinstance(server, RTCIceServer) else RTCIceServer(urls=server)
            for server in (ice_servers or ())
        ]
        self._relay_only = relay_only
        self.local_video = CameraVideoTrack(
            camera, fps=fps, on_camera_failed=self._camera_changed, picture_filter=picture_filter
        )
        self.local_audio: MediaStreamTrack = (
            microphone if microphone is not None else ToneAudioTrack(frequency=tone_hz)
        )
        self.remote_video = VideoSink()
        self.remote_audio = earpiece if earpiece is not None else AudioLevelSink()
        self.state = "new"
        self.end_reason: str | None = None
        self.ended_by_peer = False
        self.restarts = 0  # peer connections replaced after the first
        self.started_at: float | None = None  # time.monotonic() when start() began
        self.send_rate = SendRate()  # the current peer connection's

        self._pc: RTCPeerConnection | None = None
        self._receiver: asyncio.Task[None] | None = None
        # Serialises negotiation: an incoming offer, an answer and a restart never interleave.
        self._negotiating = asyncio.Lock()
        self._offer_pending = False  # offerer: an offer is being made, not yet sent
        self._awaiting_answer = False  # offerer: the current pc's offer is sent, unanswered
        self._answered_offer: str | None = None  # answerer: the SDP of the offer last answered
        self._pcs_made = 0
        self._rate_watch: asyncio.Task[None] | None = None
        self._ending = False
        self._ended = asyncio.Event()

    # -- what the UI and the core read ----------------------------------------------------

    @property
    def camera_failed(self) -> bool:
        return self.local_video.camera_failed

    @property
    def frames_sent(self) -> int:
        return self.local_video.frames_sent

    @property
    def frames_received(self) -> int:
        return self.remote_video.frames

    @property
    def audio_frames_sent(self) -> int:
        return getattr(self.local_audio, "frames_sent", 0)

    @property
    def audio_frames_received(self) -> int:
        return self.remote_audio.frames

    @property
    def peer_connection(self) -> RTCPeerConnection | None:
        """The current peer connection (for statistics); replaced by every restart."""
        return self._pc

    # -- what the core does ---------------------------------------------------------------

    async def start(self) -> None:
        """Join: listen for the peer's signals, say ``ready``, and (offerer) send the offer."""
        if self._receiver is not None or self._ending:
            raise RuntimeError("a call starts once")
        self.started_at = time.monotonic()
        self._set_state("connecting")
        self._receiver = asyncio.create_task(
            self._receive_signals(), name=f"call-{self._signalling.visit_id}-signals"
        )
        await self._signalling.send(READY)
        if self.offerer:
            async with self._negotiating:
                await self._guarded(self._offer())

    async def restart(self) -> None:
        """Offerer: replace the peer connection and send a fresh offer (an ICE restart)."""
        if not self.offerer:
            raise RuntimeError("only the offerer restarts a call; the answerer follows its offer")
        if self._receiver is None:
            raise RuntimeError("the call has not started")
        async with self._negotiating:
            await self._guarded(self._offer())

    async def hang_up(self, reason: str = "hangup") -> None:
        """Tell the peer (``bye``) and close; ``closed`` is reported."""
        await self._end(reason, by_peer=False, say_bye=True)

    async def close(self) -> None:
        """Close without telling the peer (the kiosk is shutting down); ``closed`` is reported."""
        await self._end(None, by_peer=False, say_bye=False)

    async def wait_closed(self) -> None:
        await self._ended.wait()

    # -- negotiation ----------------------------------------------------------------------

    async def _guarded(self, step: Awaitable[None]) -> None:
        """Run a negotiation step; one the call's end overtook just stops."""
        try:
            await step
        except Exception:
            if self._ending:
                log.debug("visit %s: negotiation stopped by the call's end", self.visit_id)
                return
            raise

    @property
    def visit_id(self) -> str:
        return self._signalling.visit_id

    async def _offer(self) -> None:
        if self._ending:
            return
        if self._pc is not None:
            self._set_state("reconnecting")
            self.restarts += 1
        self._offer_pending = True
        try:
            pc = await self._fresh_pc()
            await pc.setLocalDescription(await pc.createOffer())  # gathers every candidate
            if pc is not self._pc:
                return
            self._awaiting_answer = True
            await self._signalling.send(pc.localDescription)
        finally:
            self._offer_pending = False

    async def _answer(self, offer: RTCSessionDescription) -> None:
        pc = self._pc
        if pc is not None and offer.sdp == self._answered_offer and pc.localDescription:
            log.info("visit %s: the same offer again; the same answer again", self.visit_id)
            await self._signalling.send(pc.localDescription)
            return
        if pc is not None:
            self._set_state("reconnecting")
            self.restarts += 1
        pc = await self._fresh_pc()
        await pc.setRemoteDescription(offer)
        await pc.setLocalDescription(await pc.createAnswer())
        if pc is not self._pc:
            return
        self._answered_offer = offer.sdp
        await self._signalling.send(pc.localDescription)

    async def _fresh_pc(self) -> RTCPeerConnection:
        """Close the current peer connection (its senders let go of our tracks), open a new one."""
        old, self._pc = self._pc, None
        self._awaiting_answer = False
        self._answered_offer = None
        if old is not None:
            await old.close()
        if self._ending:  # the call ended while the old connection closed: open nothing
            raise RuntimeError("the call has ended")
        policy = RTCIceTransportPolicy.RELAY if self._relay_only else RTCIceTransportPolicy.ALL
        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=list(self._ice_servers), iceTransportPolicy=policy)
        )
        self._pcs_made += 1
        number = self._pcs_made

        @pc.on("connectionstatechange")
        def _on_connection_state() -> None:
            self._pc_state_changed(pc)

        @pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if pc is not self._pc:
                return
            log.debug("visit %s: pc %d receives %s", self.visit_id, number, track.kind)
            fresh_frames.install(pc, track)
            if track.kind == "video":
                self.remote_video.start(track)
            elif track.kind == "audio":
                self.remote_audio.start(track)

        # Handles, not the tracks: aiortc stops a sender's track when the connection closes.
        pc.addTrack(ForwardingTrack(self.local_video))
        pc.addTrack(ForwardingTrack(self.local_audio))
        self.send_rate = SendRate()  # a new path: what the old one carried says little
        self._rate_watch = rate_control.attach(
            pc, self.send_rate, self.local_video.quality.fit_line
        )
        self._pc = pc
        return pc

    def _pc_state_changed(self, pc: RTCPeerConnection) -> None:
        if pc is not self._pc or self._ending:
            return  # a replaced connection closing
        state = pc.connectionState
        log.debug("visit %s: connection %s", self.visit_id, state)
        if state == "connected":
            self._set_state("connected")
        elif state == "failed":
            self._set_state("failed")
        elif state == "closed":
            # Closed by the peer (DTLS close): its new offer, or its bye, is on the way through
            # the cloud, slower than the close itself. "Reconnecting" only if neither came by
            # then: a hang-up at the other end must not flash it before "ended".
            asyncio.get_running_loop().call_later(PEER_CLOSE_GRACE_S, self._peer_closed, pc)

    def _peer_closed(self, pc: RTCPeerConnection) -> None:
        if pc is self._pc and not self._ending:
            self._set_state("reconnecting")

    async def _receive_signals(self) -> None:
        while True:
            obj = await self._signalling.receive()
            if isinstance(obj, Bye):
                log.info("visit %s: the peer said bye (%s)", self.visit_id, obj.reason)
                await self._end(obj.reason, by_peer=True, say_bye=False)
                return
            if isinstance(obj, Ready) and self._offer_pending:
                continue  # the offer being made will reach the peer that just joined
            try:
                async with self._negotiating:
                    if self._ending:
                        return
                    await self._guarded(self._handle(obj))
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad SDP from the peer must not end our listening
                log.exception("visit %s: could not handle %s", self.visit_id, type(obj).__name__)

    async def _handle(self, obj: SignalObject) -> None:
        pc = self._pc
        if isinstance(obj, RTCSessionDescription) and obj.type == "offer":
            if self.offerer:
                log.warning("visit %s: an offer to the offerer was ignored", self.visit_id)
                return
            await self._answer(obj)
        elif isinstance(obj, RTCSessionDescription):  # an answer
            if not (self.offerer and pc is not None and self._awaiting_answer):
                log.info("visit %s: an answer nobody waits for was ignored", self.visit_id)
                return
            self._awaiting_answer = False
            await pc.setRemoteDescription(obj)
        elif isinstance(obj, RTCIceCandidate):
            if pc is not None and pc.remoteDescription is not None:
                await pc.addIceCandidate(obj)
        elif isinstance(obj, Ready) and self.offerer:
            if self._awaiting_answer and pc is not None and pc.localDescription is not None:
                await self._signalling.send(pc.localDescription)  # the peer missed it
            elif not self._media_flowing():
                log.info("visit %s: the peer joined again; restarting", self.visit_id)
                await self._offer()

    def _media_flowing(self) -> bool:
        now = time.monotonic()
        return any(
            sink.last_frame_at is not None and now - sink.last_frame_at < _MEDIA_FRESH_S
            for sink in (self.remote_audio, self.remote_video)
        )

    # -- the end --------------------------------------------------------------------------

    async def _end(self, reason: str | None, *, by_peer: bool, say_bye: bool) -> None:
        if self._ending:
            await self._ended.wait()
            return
        self._ending = True
        self.end_reason = reason
        self.ended_by_peer = by_peer
        try:
            if say_bye:
                try:
                    await self._signalling.send(Bye(reason))
                except Exception:  # the peer will see the media stop; close regardless
                    log.exception("visit %s: could not say bye", self.visit_id)
            receiver, self._receiver = self._receiver, None
            if receiver is not None and receiver is not asyncio.current_task():
                receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiver
            pc, self._pc = self._pc, None
            if pc is not None:
                await pc.close()
            if self._rate_watch is not None:
                self._rate_watch.cancel()
            await self.remote_video.stop()
            await self.remote_audio.stop()
            self.local_video.stop()
            self.local_audio.stop()
        finally:
            self._set_state("closed")
            self._ended.set()

    # -- reporting ------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        if state == self.state or self.state == "closed":
            return
        log.info("visit %s: call %s -> %s", self.visit_id, self.state, state)
        self.state = state
        try:
            self._on_state(state)
        except Exception:  # the listener's bug must not break the call
            log.exception("call state listener raised")

    def _camera_changed(self, failed: bool) -> None:
        if self._on_camera_failed is not None:
            try:
                self._on_camera_failed(failed)
            except Exception:
                log.exception("camera failure listener raised")
