"""The front desk's questions to the cloud, through a real broker: a request goes out at once,
its answer comes back by its id; without a connection, or without an answer in time, the
kiosk knows at once or at the wait's end, and a late answer is dropped."""

from __future__ import annotations

import asyncio
import time

from kiosk.contract.codec import build_downlink
from kiosk.sync.service import SyncService
from tests.waiting import until

LOBBY = "lobby-01"


def test_a_request_is_answered_by_its_id_and_no_answer_is_none_at_the_waits_end(lobby_kiosk, cloud):
    lobby = lobby_kiosk

    async def scenario() -> None:
        sync = SyncService(lobby, lobby.outbox)
        sync.requests.wait_s = 3.0
        sync.start()
        try:
            await until(lambda: sync.link.connected, 20, "connected")
            answer = await sync.requests.ask(
                "application_status", application_number="AP-7K2Q9X", last_name="Alvarez"
            )
            # The facility has no such application: it says so, by the request's id.
            assert answer is not None and answer.status == "unknown"
            (sent,) = cloud.received("requests", LOBBY)
            assert sent["request_id"] == answer.request_id
            assert sent["application_number"] == "AP-7K2Q9X"

            # The cloud goes away, the broker stays: nobody answers. None once the wait is
            # over, not before, and nothing is left waiting.
            cloud.stop()
            began = time.monotonic()
            unanswered = await sync.requests.ask(
                "application_status", application_number="AP-0000", last_name="Nobody"
            )
            assert unanswered is None and time.monotonic() - began >= 3.0
            assert sync.requests.waiting == 0
            # Its answer coming late is dropped: nobody waits for it any more.
            late = build_downlink(
                "answer", request_id="r-late", kind="application_status", status="unknown"
            )
            assert sync.requests.answered(late) is False
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
