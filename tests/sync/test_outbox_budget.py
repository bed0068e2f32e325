"""The outbox's disk budget: telemetry says it is filling; a full outbox never stops the kiosk."""

from __future__ import annotations

import pytest

from cloudsim.broker import free_port
from kiosk.assembly import build_kiosk
from kiosk.core.ports import OutgoingMessage
from kiosk.store.outbox import OutboxFull
from kiosk.sync.service import SyncService
from tests.conftest import make_config


@pytest.fixture
def offline_sync(tmp_path, clock):
    # A broker address where nobody listens: the kiosk is offline, everything queues.
    url = f"mqtt://127.0.0.1:{free_port()}"
    kiosk = build_kiosk(make_config(tmp_path, brokers=(url,), outbox_budget_mb=1), clock)
    sync = SyncService(kiosk, kiosk.outbox)
    yield kiosk, sync
    kiosk.close()


def test_telemetry_reports_the_outbox_filling_and_a_full_outbox_drops_events_loudly(
    offline_sync, clock
):
    kiosk, sync = offline_sync
    detail = {"note": "x" * 900}
    before = sync.telemetry()
    assert before["outbox_depth"] == 0 and before["outbox_fill"] == 0

    for _ in range(500):  # about 0.5 MiB of a 1 MiB budget
        kiosk.outbox.event("selftest", detail)
    half = sync.telemetry()
    assert half["outbox_depth"] == 500
    assert 0.4 < half["outbox_fill"] < 0.7
    assert half["outbox_bytes"] > 400_000

    for _ in range(1000):  # far past the budget: the kiosk keeps going
        kiosk.outbox.event("selftest", detail)
    full = sync.telemetry()
    assert full["events_dropped"] > 0
    assert full["outbox_fill"] > 0.95
    assert full["outbox_depth"] + full["events_dropped"] == 1500  # each kept or counted

    # What a resident sends is refused plainly rather than silently dropped.
    with pytest.raises(OutboxFull):
        kiosk.outbox.put_message(OutgoingMessage("m-1", "A1024", "c-1", "y" * 10_000, clock.now()))

    # A tamper attempt with a full outbox is still blocked and counted.
    dropped = kiosk.outbox.events_dropped
    while kiosk.outbox.events_dropped == dropped:  # fill the last bytes with small events
        kiosk.outbox.event("selftest", {})
    dropped = kiosk.outbox.events_dropped
    kiosk.record_tamper("escape")
    assert kiosk.tamper_attempts["escape"] == 1
    assert kiosk.outbox.events_dropped == dropped + 1


def test_telemetry_counts_records_the_broker_refused_and_keeps_them(offline_sync):
    kiosk, sync = offline_sync
    kiosk.outbox.event("selftest", {})
    sent = []
    sync.sender.connected()
    sync.sender.pump(lambda topic, data: sent.append(topic) or len(sent))
    assert sent  # on the wire, as message id 1
    sync.sender.refused(1)  # the broker's PUBACK says "Not authorized"
    sync.sender.flush()

    telemetry = sync.telemetry()
    assert telemetry["outbox_refused"] == 1
    assert telemetry["outbox_depth"] == 1  # still queued, to go again on the next connection
