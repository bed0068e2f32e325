"""Visit signalling over the contract's ``signal`` payload, and two real calls in one process.

The two calls talk through :class:`Relay`, which plays the cloud: every payload a side publishes
is checked against the contract's model and handed to the other side on the next loop turn.
Each side films its own simulated camera (640x480, 30 fps, time code on) and sends a tone.
Timing bounds are loose: the build machine is shared and has few cores.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc import RTCIceCandidate, RTCSessionDescription

from hardware.simulated import SimulatedCamera, timecode
from kiosk.calls import READY, Bye, Call, VisitSignalling
from kiosk.contract.downlink import SignalPayload
from tests.waiting import until

VISIT = "visit-42"
HOUSING = "housing-a1"
LOBBY = "lobby-2"
SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"

# -- signalling ----------------------------------------------------------------------------


def test_send_publishes_contract_payloads() -> None:
    sent: list[dict[str, Any]] = []
    signalling = VisitSignalling(VISIT, HOUSING, sent.append)

    async def scenario() -> None:
        await signalling.send(READY)
        await signalling.send(RTCSessionDescription(sdp=SDP, type="offer"))
        await signalling.send(RTCSessionDescription(sdp=SDP, type="answer"))
        await signalling.send(Bye("hangup"))

    asyncio.run(scenario())
    assert [p["kind"] for p in sent] == ["ready", "offer", "answer", "bye"]
    for payload in sent:
        model = SignalPayload.model_validate(payload)
        assert (model.visit_id, model.from_kiosk_id) == (VISIT, HOUSING)
    assert sent[1]["sdp"] == SDP
    assert sent[3]["reason"] == "hangup"
    assert "sdp" not in sent[0]


def test_send_awaits_an_async_publisher_and_refuses_other_objects() -> None:
    sent: list[str] = []

    async def publish(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        sent.append(payload["kind"])

    signalling = VisitSignalling(VISIT, HOUSING, publish)

    async def scenario() -> None:
        await signalling.send(READY)
        with pytest.raises(ValueError):
            await signalling.send(RTCSessionDescription(sdp=SDP, type="rollback"))
        with pytest.raises(TypeError):
            await signalling.send("hello")  # type: ignore[arg-type]

    asyncio.run(scenario())
    assert sent == ["ready"]


def test_deliver_takes_dicts_and_models_and_ignores_others_and_ourselves() -> None:
    signalling = VisitSignalling(VISIT, LOBBY, lambda payload: None)

    def signal(kind: str, **fields: Any) -> dict[str, Any]:
        base = {"v": 1, "type": "signal", "visit_id": VISIT, "from_kiosk_id": HOUSING}
        return {**base, "kind": kind, **fields}

    async def scenario() -> list[object]:
        assert signalling.deliver(signal("ready"))
        assert signalling.deliver(SignalPayload.model_validate(signal("offer", sdp=SDP)))
        assert not signalling.deliver(signal("ready", visit_id="visit-other"))
        assert not signalling.deliver(signal("ready", from_kiosk_id=LOBBY))  # our own echo
        assert not signalling.deliver(signal("offer"))  # no SDP
        assert not signalling.deliver(signal("hello"))
        assert not signalling.deliver("not a payload")
        assert signalling.deliver(signal("bye", reason="schedule"))
        assert signalling.deliver(
            signal(
                "candidate",
                candidate="candidate:1 1 udp 2130706431 192.0.2.7 50000 typ host",
                sdp_mid="0",
                sdp_mline_index=0,
            )
        )
        assert signalling.pending() == 4
        return [await signalling.receive() for _ in range(4)]

    ready, offer, bye, candidate = asyncio.run(scenario())
    assert ready is READY
    assert isinstance(offer, RTCSessionDescription)
    assert (offer.type, offer.sdp) == ("offer", SDP)
    assert bye == Bye("schedule")
    assert isinstance(candidate, RTCIceCandidate)
    assert (candidate.ip, candidate.port, candidate.sdpMid) == ("192.0.2.7", 50000, "0")


def test_a_candidate_goes_out_as_the_contract_says() -> None:
    sent: list[dict[str, Any]] = []
    signalling = VisitSignalling(VISIT, HOUSING, sent.append)
    other = VisitSignalling(VISIT, LOBBY, lambda payload: None)

    async def scenario() -> object:
        candidate = RTCIceCandidate(
            component=1,
            foundation="1",
            ip="192.0.2.7",
            port=50000,
            priority=2130706431,
            protocol="udp",
            type="host",
            sdpMid="0",
            sdpMLineIndex=0,
        )
        await signalling.send(candidate)
        assert other.deliver(SignalPayload.model_validate(sent[0]))
        return await other.receive()

    received = asyncio.run(scenario())
    assert sent[0]["candidate"].startswith("candidate:")
    assert isinstance(received, RTCIceCandidate)
    assert (received.ip, received.port, received.sdpMLineIndex) == ("192.0.2.7", 50000, 0)


# -- two calls -----------------------------------------------------------------------------


class Relay:
    """The cloud between the two kiosks: validates each payload, relays it on the next turn.

    A side that is not ``listening`` (its kiosk is not subscribed yet) loses what is sent to it.
    """

    def __init__(self) -> None:
        self.sides: dict[str, VisitSignalling] = {}
        self.listening: dict[str, bool] = {}
        self.sent: list[tuple[str, str]] = []  # (from kiosk, kind)

    def side(self, kiosk_id: str) -> VisitSignalling:
        signalling = VisitSignalling(VISIT, kiosk_id, functools.partial(self._publish, kiosk_id))
        self.sides[kiosk_id] = signalling
        self.listening[kiosk_id] = True
        return signalling

    def _publish(self, sender: str, payload: dict[str, Any]) -> None:
        model = SignalPayload.model_validate(json.loads(json.dumps(payload)))
        self.sent.append((sender, model.kind))
        loop = asyncio.get_running_loop()
        for kiosk_id, signalling in self.sides.items():
            if kiosk_id != sender and self.listening[kiosk_id]:
                loop.call_soon(signalling.deliver, model)


@dataclass
class Peer:
    name: str
    call: Call
    camera: SimulatedCamera
    states: list[str] = field(default_factory=list)
    camera_events: list[bool] = field(default_factory=list)


def make_peer(relay: Relay, kiosk_id: str, *, offerer: bool) -> Peer:
    camera = SimulatedCamera(width=640, height=480, fps=30.0, timecode=True)
    camera.start()
    states: list[str] = []
    events: list[bool] = []
    call = Call(
        relay.side(kiosk_id),
        camera,
        offerer=offerer,
        on_state=states.append,
        on_camera_failed=events.append,
    )
    return Peer(kiosk_id, call, camera, states, events)


def tasks_left() -> list[asyncio.Task]:
    """The loop's tasks other than the one asking: none once both calls are closed."""
    return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


Scenario = Callable[[Relay, Peer, Peer], Awaitable[None]]


@pytest.fixture
def asyncio_errors(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """What asyncio complained about ("Task was destroyed but it is pending!", ...)."""
    caplog.set_level(logging.ERROR, logger="asyncio")

    def errors() -> list[str]:
        gc.collect()
        return [r.getMessage() for r in caplog.records if r.name == "asyncio"]

    return errors


def run_calls(scenario: Scenario) -> None:
    """Run ``scenario`` with a housing kiosk (offerer) and a lobby kiosk, then close both and
    check that nothing is left running on the loop."""

    async def main() -> None:
        relay = Relay()
        housing = make_peer(relay, HOUSING, offerer=True)
        lobby = make_peer(relay, LOBBY, offerer=False)
        try:
            async with asyncio.timeout(30):
                await scenario(relay, housing, lobby)
        finally:
            await housing.call.close()
            await lobby.call.close()
            await asyncio.to_thread(housing.camera.stop)
            await asyncio.to_thread(lobby.camera.stop)
        for peer in (housing, lobby):
            assert peer.states[-1] == "closed"
            assert peer.states.count("closed") == 1
        # Cancelled callbacks run out within a few turns of the loop.
        await until(lambda: not tasks_left(), 1.0, lambda: f"no task left: {tasks_left()}")

    asyncio.run(main())


async def connect(housing: Peer, lobby: Peer) -> float:
    """Start both calls; returns the seconds until both were connected."""
    await asyncio.gather(housing.call.start(), lobby.call.start())
    began = time.monotonic()
    await until(lambda: housing.call.state == lobby.call.state == "connected", 10, "both connected")
    return time.monotonic() - began


async def frames_flow(*peers: Peer, more_than: int = 30) -> None:
    targets = {peer.name: peer.call.remote_video.frames + more_than for peer in peers}
    await until(
        lambda: all(p.call.remote_video.frames > targets[p.name] for p in peers),
        10,
        f"{more_than} more frames on each side",
    )


def test_two_kiosks_connect_see_and_hear_each_other_then_hang_up(asyncio_errors) -> None:
    async def scenario(relay: Relay, housing: Peer, lobby: Peer) -> None:
        connected_s = await connect(housing, lobby)
        await frames_flow(housing, lobby)
        for peer in (housing, lobby):
            video = peer.call.remote_video
            assert video.size == (640, 480)
            image = video.latest_image()
            assert image is not None and image.shape == (480, 640, 3)
            await until(lambda p=peer: p.call.remote_audio.level > 0.05, 5, "audible tone")
            assert peer.call.frames_sent > 30
            assert peer.call.camera_failed is False
        await asyncio.sleep(1.0)  # a steady second for the frame rate
        for peer in (housing, lobby):
            call = peer.call
            video = call.remote_video
            assert call.started_at is not None and video.first_frame_at is not None
            stamped = timecode.read(video.latest_image())
            latency = f"{time.time() * 1000 - stamped:.0f} ms" if stamped is not None else "n/a"
            print(
                f"\n{peer.name}: first remote frame {video.first_frame_at - call.started_at:.2f} s"
                f" after start (both connected after {connected_s:.2f} s);"
                f" receiving {video.fps:.1f} fps, {video.frames} frames;"
                f" camera-to-screen latency {latency};"
                f" audio {call.remote_audio.level_dbfs:.1f} dBFS"
            )
            assert video.fps > 10

        await housing.call.hang_up("hangup")
        await until(lambda: lobby.call.state == "closed", 5, "the lobby hears the bye")
        assert housing.states == ["connecting", "connected", "closed"]
        assert lobby.call.end_reason == "hangup" and lobby.call.ended_by_peer
        assert housing.call.end_reason == "hangup" and not housing.call.ended_by_peer
        assert (HOUSING, "bye") in relay.sent

    run_calls(scenario)
    assert not asyncio_errors()


def test_the_offerer_restarts_and_media_flows_again(asyncio_errors) -> None:
    async def scenario(relay: Relay, housing: Peer, lobby: Peer) -> None:
        await connect(housing, lobby)
        await frames_flow(housing, lobby)
        first_pc = housing.call.peer_connection
        began = time.monotonic()
        await housing.call.restart()  # returns once the old connection is closed
        before = {p.name: p.call.remote_video.frames for p in (housing, lobby)}
        await until(
            lambda: housing.call.state == lobby.call.state == "connected", 10, "reconnected"
        )
        await until(
            lambda: all(p.call.remote_video.frames > before[p.name] for p in (housing, lobby)),
            10,
            "a first frame on each side after the restart",
        )
        print(f"\nrestart: first frames again {time.monotonic() - began:.2f} s after restart()")
        await frames_flow(housing, lobby)
        assert housing.call.peer_connection is not first_pc
        assert housing.call.restarts == lobby.call.restarts == 1
        for peer in (housing, lobby):
            assert peer.states[:2] == ["connecting", "connected"]
            assert "reconnecting" in peer.states[2:]
            assert peer.states[-1] == "connected"
        with pytest.raises(RuntimeError):
            await lobby.call.restart()  # only the offerer restarts

        await lobby.call.hang_up("visitor_left")
        await until(lambda: housing.call.state == "closed", 5, "the housing hears the bye")
        assert housing.call.end_reason == "visitor_left"

    run_calls(scenario)
    assert not asyncio_errors()


def test_a_camera_that_stops_leaves_the_call_going_with_audio(asyncio_errors) -> None:
    async def scenario(relay: Relay, housing: Peer, lobby: Peer) -> None:
        await connect(housing, lobby)
        await frames_flow(housing, lobby)
        await asyncio.to_thread(housing.camera.stop)
        stopped_at = time.monotonic()
        await until(lambda: housing.camera_events == [True], 5, "camera_failed")
        took = time.monotonic() - stopped_at
        print(f"\ncamera failure reported {took:.2f} s after the camera stopped")
        assert housing.call.camera_failed
        audio_frames = lobby.call.remote_audio.frames
        video_frames = lobby.call.remote_video.frames
        await asyncio.sleep(1.0)  # the second over which the rates below are measured
        assert lobby.call.remote_audio.frames > audio_frames + 25  # 50 a second
        assert lobby.call.remote_audio.level > 0.05
        assert lobby.call.state == housing.call.state == "connected"
        # The lobby sees a "camera unavailable" picture at a low rate, not a frozen face.
        assert lobby.call.remote_video.frames - video_frames < 10
        image = lobby.call.remote_video.latest_image()
        assert image is not None and timecode.read(image) is None

        housing.camera.start()
        await until(lambda: housing.camera_events == [True, False], 5, "camera back")
        await frames_flow(lobby)
        assert not housing.call.camera_failed

    run_calls(scenario)
    assert not asyncio_errors()


def test_an_offer_lost_before_the_peer_listens_is_sent_again_on_its_ready(asyncio_errors) -> None:
    async def scenario(relay: Relay, housing: Peer, lobby: Peer) -> None:
        relay.listening[LOBBY] = False  # the lobby kiosk has not subscribed yet
        await housing.call.start()
        assert (HOUSING, "offer") in relay.sent
        await asyncio.sleep(0.2)  # nobody heard the offer: nothing may come of it meanwhile
        assert housing.call.state == "connecting"
        relay.listening[LOBBY] = True
        await lobby.call.start()
        await until(
            lambda: housing.call.state == lobby.call.state == "connected", 10, "both connected"
        )
        await frames_flow(housing, lobby, more_than=10)
        assert relay.sent.count((HOUSING, "offer")) == 2
        assert housing.call.restarts == lobby.call.restarts == 0

    run_calls(scenario)
    assert not asyncio_errors()
