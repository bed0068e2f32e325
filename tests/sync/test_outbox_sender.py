"""The sender's bookkeeping: a record leaves the outbox only on a successful PUBACK."""

from __future__ import annotations

from kiosk.store import open_database
from kiosk.store.outbox import OutboxRepository
from kiosk.sync.outbox import OutboxSender


def test_a_refused_publish_stays_queued_and_goes_again_on_the_next_connection(tmp_path):
    database = open_database(tmp_path / "kiosk.sqlite3")
    outbox = OutboxRepository(database, budget_bytes=1 << 20)
    for n in range(3):
        outbox.append("up/events", f"e-{n}", b'{"n":%d}' % n)
    sender = OutboxSender(outbox)
    sent: list[tuple[int, bytes]] = []

    def publish(topic: str, payload: bytes) -> int:
        sent.append((len(sent) + 1, payload))
        return len(sent)

    sender.connected()
    sender.pump(publish)
    assert [payload for _, payload in sent] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    sender.published(1)
    sender.refused(2)  # "Not authorized"
    sender.published(3)
    sender.flush()
    assert [record.record_id for record in outbox.pending()] == ["e-1"]
    assert sender.refusals == 1 and sender.delivered == 2

    sender.pump(publish)  # same connection: not resent in a loop
    assert len(sent) == 3
    sender.disconnected()
    sender.connected()
    sender.pump(publish)
    assert sent[-1][1] == b'{"n":1}'
    database.close()


def test_an_idle_sender_does_not_query_the_outbox_every_turn(tmp_path, clock):
    database = open_database(tmp_path / "kiosk.sqlite3")
    outbox = OutboxRepository(database, budget_bytes=1 << 20)
    sender = OutboxSender(outbox, clock=clock.monotonic)
    queries = []
    real_pending = outbox.pending
    outbox.pending = lambda **kw: queries.append(kw) or real_pending(**kw)

    sender.connected()
    sender.pump(lambda topic, payload: 1)
    assert len(queries) == 1
    for _ in range(10):
        clock.advance(0.1)
        sender.pump(lambda topic, payload: 1)
    assert len(queries) == 1  # nothing new was appended: no query

    outbox.append("up/events", "e-1", b"{}")
    sender.wake()
    sender.pump(lambda topic, payload: 7)
    assert len(queries) == 2 and sender.inflight == 1
    database.close()


def test_residents_messages_acknowledged_by_the_broker_are_reported_sent(tmp_path):
    from kiosk.store.messages import MessagesRepository

    database = open_database(tmp_path / "kiosk.sqlite3")
    outbox = OutboxRepository(database, budget_bytes=1 << 20)
    messages = MessagesRepository(database)
    for n in range(2):
        messages.add_outgoing(f"m-{n}", "A1", "c-1", "hi", "2026-11-23T19:00:00.000Z")
        outbox.append("kiosk/v1/f/k/up/outbox", f"m-{n}", b'{"m":%d}' % n)
    outbox.append("kiosk/v1/f/k/up/events", "e-1", b"{}")
    reported: list[list[str]] = []
    sender = OutboxSender(outbox, on_messages_sent=reported.append)

    mids = iter(range(1, 100))
    sender.connected()
    sender.pump(lambda topic, payload: next(mids))
    assert sender.inflight == 3
    sender.published(1)
    sender.published(3)  # the event
    sender.flush()
    assert reported == [["m-0"]]
    assert messages.get("m-0").status == "sent"
    assert messages.get("m-1").status == "queued"

    sender.flush()  # nothing new acknowledged: nobody is told anything
    assert reported == [["m-0"]]
    sender.published(2)
    sender.flush()
    assert reported == [["m-0"], ["m-1"]]
    database.close()
