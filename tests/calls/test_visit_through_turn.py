"""A visit through the facility's TURN relay: the cloud's config names the relay and allows
only relayed paths, as a facility whose firewall lets no direct UDP out must. Two kiosk cores,
a real Mosquitto, the cloud simulator and Debian's coturn, all on loopback."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from kiosk.core.kiosk import Kiosk
from tests.calls.test_visit_between_kiosks import both_join, publish_facility, run_visit
from tests.turn_server import PASSWORD, TurnServer
from tests.waiting import until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def turn(tmp_path: Path):
    with TurnServer(tmp_path / "turn") as server:
        yield server


def test_a_visit_held_through_the_facilitys_turn_relay_only(tmp_path, broker, cloud, turn):
    publish_facility(cloud, ends_in_s=120)
    for kiosk_id, role in (("hu-01", "housing"), ("lobby-01", "lobby")):
        cloud.publish_config(
            kiosk_id, role=role, ice_servers=[turn.ice_server], ice_relay_only=True
        )

    async def scenario(housing: Kiosk, lobby: Kiosk) -> None:
        await until(lambda: housing.settings.call_network.relay_only, 20.0, "the relay config")
        await until(lambda: lobby.settings.call_network.relay_only, 20.0, "the relay config")
        await both_join(housing, lobby)
        await until(
            lambda: housing.visit.phase == "in_call" and lobby.visit.phase == "in_call",
            30.0,
            "both in the call",
        )
        hu_call, lobby_call = housing.visit._call, lobby.visit._call
        await until(
            lambda: hu_call.stats.frames_received > 30 and lobby_call.stats.frames_received > 30,
            30.0,
            "pictures both ways",
        )
        await until(
            lambda: hu_call.stats.audio_level > 0.01 and lobby_call.stats.audio_level > 0.01,
            10.0,
            "the voice both ways",
        )

    asyncio.run(run_visit(tmp_path, broker, cloud, scenario))

    # Each side offered only addresses on the relay: no direct path was even tried.
    descriptions = [r["sdp"] for r in cloud.received("signal") if r["kind"] in ("offer", "answer")]
    candidates = [line for sdp in descriptions for line in sdp.splitlines() if "candidate:" in line]
    assert candidates, "no candidates in the offer or the answer"
    assert all(" typ relay" in line for line in candidates), candidates
    relay_ports = {int(m.group(1)) for line in candidates if (m := re.search(r" (\d+) typ", line))}
    assert len(relay_ports) >= 2  # one allocation each side
    # The relay allocated for both and carried the media.
    log = turn.log_text()
    assert log.count("ALLOCATE processed, success") >= 2, log[-3000:]
    assert PASSWORD not in "".join(str(r) for r in cloud.received("events"))
