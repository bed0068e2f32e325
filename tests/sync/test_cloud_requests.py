"""The front desk's questions to the cloud, through a real broker: a request goes out at once,
its answer comes back by its id; without a connection, or without an answer in time, the
kiosk knows at once or at the wait's end, and a late answer is dropped."""

from __future__ import annotations

import asyncio
import time

import pytest

from kiosk.assembly import build_kiosk
from kiosk.contract.codec import build_downlink
from kiosk.core.clock import SystemClock
from kiosk.sync.service import SyncService
from tests.conftest import make_config
from tests.facility_cloud import FACILITY
from tests.waiting import until

LOBBY = "lobby-01"


@pytest.fixture
def lobby(tmp_path, broker):
    config = make_config(
        tmp_path, role="lobby", kiosk_id=LOBBY, facility_id=FACILITY, brokers=(broker.url,)
    )
    kiosk = build_kiosk(config, SystemClock())
    yield kiosk
    kiosk.close()


def test_a_request_is_answered_by_its_id_and_no_answer_is_none_at_the_waits_end(lobby, cloud):
    def answer_status(record) -> None:
        if record.kind == "requests" and record["last_name"] == "Alvarez":
            cloud.call_later(
                0,
                lambda: cloud.answer(
                    LOBBY,
                    record["request_id"],
                    "application_status",
                    status="not_approved",
                    reason="The ID photo is too dark to read.",
                ),
            )

    cloud.on_record = answer_status

    async def scenario() -> None:
        sync = SyncService(lobby, lobby.outbox)
        sync.requests.wait_s = 3.0
        sync.start()
        try:
            await until(lambda: sync.link.connected, 20, "connected")
            answer = await sync.requests.ask(
                "application_status", application_number="AP-7K2Q9X", last_name="Alvarez"
            )
            assert answer is not None and answer.status == "not_approved"
            assert answer.reason == "The ID photo is too dark to read."
            (sent,) = cloud.received("requests", LOBBY)
            assert (
                sent["application_number"] == "AP-7K2Q9X" and sent["kind"] == "application_status"
            )

            # Nobody answers this one: None once the wait is over, not before.
            began = time.monotonic()
            unanswered = await sync.requests.ask(
                "application_status", application_number="AP-0000", last_name="Nobody"
            )
            assert unanswered is None and time.monotonic() - began >= 3.0
            assert sync.requests.waiting == 0
            # Its answer coming late is dropped: nobody waits for it any more.
            (late,) = [r for r in cloud.received("requests", LOBBY) if r["last_name"] == "Nobody"]
            answer = build_downlink(
                "answer", request_id=late["request_id"], kind="application_status", status="unknown"
            )
            assert sync.requests.answered(answer) is False
        finally:
            await sync.stop()

        # Offline: the kiosk knows at once, and nothing is queued for later.
        began = time.monotonic()
        assert (
            await sync.requests.ask(
                "application_status", application_number="AP-7K2Q9X", last_name="Alvarez"
            )
            is None
        )
        assert time.monotonic() - began < 1.0

    asyncio.run(scenario())
