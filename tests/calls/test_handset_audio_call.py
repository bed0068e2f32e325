"""A real call carries the handset: one kiosk's microphone is heard in the other's earpiece.

Both handsets are PCMs of the fake sound card of ``tests/hardware/test_alsa_audio.py`` (ALSA's
``file`` plugin: a FIFO spoken into in real time, a raw file played into); the call between them
is aiortc's, with Opus both ways, as in ``test_call.py``.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest

from hardware.alsa_audio import AlsaEarpiece, AlsaMicrophone
from hardware.interfaces import DeviceState
from hardware.simulated import SimulatedCamera
from kiosk.assembly import build_kiosk
from kiosk.calls import Call
from kiosk.calls.handset_audio import EarpieceSink, MicrophoneTrack
from kiosk.core.clock import SystemClock
from kiosk.core.kiosk import Kiosk
from tests.calls.test_call import HOUSING, LOBBY, Relay, tasks_left
from tests.calls.test_visit_between_kiosks import (
    both_join,
    hang_up_all,
    publish_facility,
    run_visit,
)
from tests.conftest import make_config
from tests.facility_cloud import FACILITY
from tests.hardware.sound_card import FakeSoundCard, Voice, dominant_hz, tone
from tests.waiting import until


def test_the_housing_microphone_is_heard_in_the_lobby_earpiece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = FakeSoundCard(tmp_path, monkeypatch)
    housing_handset, lobby_handset = card.plug("housing"), card.plug("lobby")
    microphone, earpiece = AlsaMicrophone("housing"), AlsaEarpiece("lobby")
    track = MicrophoneTrack(microphone)

    async def main() -> tuple[Call, Call]:
        relay = Relay()
        # Small and slow pictures: the audio is under test, and the box has two cores.
        cameras = [SimulatedCamera(width=160, height=120, fps=10.0) for _ in range(2)]
        for camera in cameras:
            camera.start()
        housing = Call(
            relay.side(HOUSING),
            cameras[0],
            offerer=True,
            on_state=lambda _state: None,
            fps=10.0,
            microphone=track,
        )
        lobby = Call(
            relay.side(LOBBY),
            cameras[1],
            offerer=False,
            on_state=lambda _state: None,
            fps=10.0,
            earpiece=EarpieceSink(earpiece),
        )
        try:
            async with asyncio.timeout(60):
                await asyncio.gather(housing.start(), lobby.start())
                await until(
                    lambda: housing.state == lobby.state == "connected", 20, "both connected"
                )
                heard = lobby.remote_audio
                await until(
                    lambda: heard.frames > 100 and heard.level > 0.1,
                    20,
                    "two seconds of the housing's voice in the lobby",
                )
                await housing.hang_up("hangup")
                await until(lambda: lobby.state == "closed", 5, "the lobby hears the bye")
        finally:
            await housing.close()
            await lobby.close()
            for camera in cameras:
                await asyncio.to_thread(camera.stop)
        await until(lambda: not tasks_left(), 1.0, lambda: f"no task left: {tasks_left()}")
        return housing, lobby

    with Voice(housing_handset, tone(1000)):
        microphone.start()
        earpiece.start()
        try:
            housing, lobby = asyncio.run(main())
        finally:
            microphone.stop()
            earpiece.stop()

    assert microphone.state == earpiece.state == DeviceState.MISSING  # stopped
    assert housing.audio_frames_sent > 100
    assert track.microphone_frames_sent > 100  # the microphone's, not silence filled in
    assert lobby.audio_frames_received > 100
    played = lobby_handset.played()
    voiced = np.flatnonzero(np.abs(played) > 1000)
    assert voiced.size > 48_000  # more than a second of it, through Opus
    assert dominant_hz(played[voiced[0] : voiced[-1]]) == pytest.approx(1000, abs=5)


def test_a_visit_between_kiosks_carries_each_handset_to_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker, cloud
) -> None:
    """Configured with ``hardware.handset_audio``, a kiosk's visit speaks through its handset:
    the resident's voice in the visitor's earpiece and back, and both are off outside the call."""
    (tmp_path / "card").mkdir()
    card = FakeSoundCard(tmp_path / "card", monkeypatch)
    publish_facility(cloud, ends_in_s=60)

    def kiosk(tmp_path, broker, kiosk_id: str, role: str) -> Kiosk:
        config = make_config(
            tmp_path / kiosk_id,
            kiosk_id=kiosk_id,
            role=role,
            facility_id=FACILITY,
            brokers=(broker.url,),
            housing_unit="B" if role == "housing" else None,
            handset_audio=role,  # the fake card's PCM of that name
        )
        return build_kiosk(config, SystemClock())

    async def scenario(housing: Kiosk, lobby: Kiosk) -> None:
        # Nobody is recorded while no visit is under way.
        assert not housing.devices.microphone.running
        await both_join(housing, lobby)
        await until(
            lambda: housing.visit.phase == "in_call" and lobby.visit.phase == "in_call",
            20.0,
            "both in the call",
        )
        # The handset's sound is the call process's own: the kiosk's process never opens it.
        assert not housing.devices.microphone.running and not lobby.devices.earpiece.running
        hu_call, lobby_call = housing.visit._call, lobby.visit._call
        await until(
            lambda: (
                hu_call.stats.audio_frames_received > 100
                and lobby_call.stats.audio_frames_received > 100
            ),
            30,
            "two seconds of voice both ways",
        )
        pids = [hu_call.pid, lobby_call.pid]
        housing.hang_up()
        await hang_up_all(housing, lobby)
        # Each call's process has ended, and the handset's sound devices with it.
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)

    handsets = {"hu-01": card.plug("housing"), "lobby-01": card.plug("lobby")}
    with Voice(handsets["hu-01"], tone(1000)), Voice(handsets["lobby-01"], tone(600)):
        asyncio.run(run_visit(tmp_path, broker, cloud, scenario, make_kiosk=kiosk))
    for kiosk_id, heard_hz in (("lobby-01", 1000), ("hu-01", 600)):
        played = handsets[kiosk_id].played()
        voiced = np.flatnonzero(np.abs(played) > 1000)
        assert voiced.size > 48_000, f"{kiosk_id}'s earpiece played under a second of voice"
        assert dominant_hz(played[voiced[0] : voiced[-1]]) == pytest.approx(heard_hz, abs=5)
