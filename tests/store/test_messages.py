"""MessagesRepository on real SQLite files."""

from __future__ import annotations

import os
import pathlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlcipher3 import dbapi2 as sqlite3

from kiosk.core.clock import FakeClock
from kiosk.store import Message, MessagesRepository, Photo, open_database
from kiosk.store.connection import Connection
from kiosk.store.transaction import transaction

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))


@pytest.fixture
def messages(db: Connection, clock: FakeClock) -> MessagesRepository:
    return MessagesRepository(db, now=clock.now)


def add(
    messages: MessagesRepository,
    message_id: str,
    sent_at: str,
    *,
    inmate_id: str = "i-100",
    body: str | None = None,
    photos: Sequence[tuple[str, str, Any]] = (),
) -> bool:
    body = f"body of {message_id}" if body is None else body
    return messages.add_incoming(message_id, inmate_id, "c-1", "Luis", sent_at, body, photos)


def test_an_incoming_message_with_its_photos(messages: MessagesRepository) -> None:
    big = os.urandom(2 * 1024 * 1024)
    photos = [("p-2", "image/jpeg", JPEG), ("p-1", "image/png", PNG), ("p-3", "image/jpeg", big)]
    assert add(messages, "m-1", "2024-05-01T07:00:00Z", body="Hola ✓", photos=photos) is True

    assert messages.get("m-1") == Message(
        message_id="m-1",
        inmate_id="i-100",
        direction="in",
        contact_id="c-1",
        contact_name="Luis",
        sent_at="2024-05-01T07:00:00Z",
        body="Hola ✓",
        status="delivered",
        reason=None,
        read_at=None,
    )
    stored = messages.photos("m-1")
    assert stored == [
        Photo("p-2", "image/jpeg", JPEG),
        Photo("p-1", "image/png", PNG),
        Photo("p-3", "image/jpeg", big),
    ]
    assert all(type(photo.data) is bytes for photo in stored)
    assert messages.photos("m-404") == []
    assert messages.get("m-404") is None


def test_adding_a_message_again_is_a_no_op(messages: MessagesRepository, db: Connection) -> None:
    assert add(messages, "m-1", "2024-05-01T07:00:00Z", photos=[("p-1", "image/png", PNG)])
    assert not add(
        messages, "m-1", "2024-05-02T07:00:00Z", body="changed", photos=[("p-9", "image/png", b"x")]
    )
    message = messages.get("m-1")
    assert message is not None and message.body == "body of m-1"
    assert message.sent_at == "2024-05-01T07:00:00Z"
    assert messages.photos("m-1") == [Photo("p-1", "image/png", PNG)]
    assert db.execute("SELECT count(*) FROM photos").fetchone()[0] == 1


def test_a_failing_photo_stores_nothing_of_the_message(
    messages: MessagesRepository, db: Connection
) -> None:
    add(messages, "m-1", "2024-05-01T07:00:00Z", photos=[("p-1", "image/png", PNG)])
    with pytest.raises(sqlite3.IntegrityError):
        add(
            messages,
            "m-2",
            "2024-05-01T08:00:00Z",
            photos=[("p-2", "image/png", PNG), ("p-1", "image/png", PNG)],
        )
    with pytest.raises(TypeError):
        add(messages, "m-3", "2024-05-01T08:00:00Z", photos=[("p-3", "image/png", "not bytes")])
    assert messages.get("m-2") is None
    assert messages.get("m-3") is None
    assert db.execute("SELECT photo_id FROM photos").fetchall() == [("p-1",)]
    assert not db.in_transaction
    # Not remembered as seen: a corrected delivery is stored.
    assert add(messages, "m-2", "2024-05-01T08:00:00Z", photos=[("p-2", "image/png", PNG)])


def test_an_outgoing_message_is_queued(messages: MessagesRepository, clock: FakeClock) -> None:
    assert messages.add_outgoing("m-out", "i-100", "c-1", "Gracias", contact_name="Luis") is True
    assert messages.get("m-out") == Message(
        "m-out",
        "i-100",
        "out",
        "c-1",
        "Luis",
        "2024-05-01T08:00:00Z",
        "Gracias",
        "queued",
        None,
        None,
    )
    assert messages.add_outgoing("m-out", "i-100", "c-1", "again") is False
    message = messages.get("m-out")
    assert message is not None and message.body == "Gracias"

    when = datetime(2024, 5, 1, 9, 30, 15, tzinfo=UTC)
    messages.add_outgoing("m-2", "i-100", "c-1", "x", when)
    messages.add_outgoing("m-3", "i-100", "c-1", "y", "2024-05-01T09:31:00Z")
    assert [m.sent_at for m in messages.for_resident("i-100", 10)] == [
        "2024-05-01T09:31:00Z",
        "2024-05-01T09:30:15Z",
        "2024-05-01T08:00:00Z",
    ]
    with pytest.raises(ValueError, match="naive"):
        messages.add_outgoing("m-4", "i-100", "c-1", "z", datetime(2024, 5, 1, 9, 0))


def test_status_changes(messages: MessagesRepository) -> None:
    messages.add_outgoing("m-out", "i-100", "c-1", "Gracias", "2024-05-01T07:05:00Z")
    add(messages, "m-in", "2024-05-01T07:00:00Z")

    assert messages.set_status("m-out", "received") is True
    assert messages.set_status("m-out", "rejected", "content") is True
    message = messages.get("m-out")
    assert message is not None and (message.status, message.reason) == ("rejected", "content")
    assert messages.set_status("m-out", "delivered") is True
    message = messages.get("m-out")
    assert message is not None and (message.status, message.reason) == ("delivered", None)

    assert messages.set_status("m-404", "approved") is False
    assert messages.set_status("m-in", "rejected") is False  # not a message the kiosk sent
    incoming = messages.get("m-in")
    assert incoming is not None and incoming.status == "delivered"
    with pytest.raises(ValueError, match="status"):
        messages.set_status("m-out", "lost")


def test_reading_marks_once_and_counts_unread(
    messages: MessagesRepository, clock: FakeClock
) -> None:
    add(messages, "m-1", "2024-05-01T07:00:00Z")
    add(messages, "m-2", "2024-05-01T07:01:00Z")
    add(messages, "m-3", "2024-05-01T07:02:00Z", inmate_id="i-101")
    messages.add_outgoing("m-4", "i-100", "c-1", "reply", "2024-05-01T07:03:00Z")
    assert messages.unread_count("i-100") == 2  # the outgoing one is not unread
    assert messages.unread_count("i-101") == 1
    assert messages.unread_count("i-999") == 0

    assert messages.mark_read("m-1", "2024-05-01T08:00:00Z") is True
    assert messages.mark_read("m-1", "2024-05-01T09:00:00Z") is False
    first = messages.get("m-1")
    assert first is not None and first.read_at == "2024-05-01T08:00:00Z"
    assert messages.unread_count("i-100") == 1

    clock.advance(3 * 60)
    assert messages.mark_read("m-2") is True
    second = messages.get("m-2")
    assert second is not None and second.read_at == "2024-05-01T08:03:00Z"
    assert messages.unread_count("i-100") == 0
    assert messages.mark_read("m-404") is False


def test_for_resident_pages_newest_first(messages: MessagesRepository) -> None:
    add(messages, "m-a", "2024-05-01T07:00:00Z")
    add(messages, "m-c", "2024-05-01T09:00:00Z")
    add(messages, "m-b", "2024-05-01T09:00:00Z")  # same time: ordered by id
    add(messages, "m-x", "2024-05-01T10:00:00Z", inmate_id="i-101")
    messages.add_outgoing("m-d", "i-100", "c-2", "out", "2024-05-01T08:00:00Z")

    assert [m.message_id for m in messages.for_resident("i-100", 10)] == [
        "m-c",
        "m-b",
        "m-d",
        "m-a",
    ]
    first = messages.for_resident("i-100", 2)
    assert [m.message_id for m in first] == ["m-c", "m-b"]
    assert first[-1].page_key == ("2024-05-01T09:00:00Z", "m-b")
    second = messages.for_resident("i-100", 2, before=first[-1].page_key)
    assert [m.message_id for m in second] == ["m-d", "m-a"]
    assert messages.for_resident("i-100", 2, before=second[-1].page_key) == []
    assert [m.message_id for m in messages.for_resident("i-101", 10)] == ["m-x"]
    with pytest.raises(ValueError, match="limit"):
        messages.for_resident("i-100", 0)


def test_ten_thousand_messages_page_in_order_through_an_index(
    messages: MessagesRepository, db: Connection
) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # Many share a second, so the id breaks ties; ids are not in time order.
    expected = []
    started = time.perf_counter()
    with transaction(db):
        for n in range(10_000):
            sent_at = (start + timedelta(seconds=n // 3)).isoformat().replace("+00:00", "Z")
            message_id = f"m-{(n * 7919) % 10_000:05d}"
            add(messages, message_id, sent_at, inmate_id="i-100" if n % 10 else "i-101")
            if n % 10:
                expected.append((sent_at, message_id))
    inserted = time.perf_counter()
    seen: list[tuple[str, str]] = []
    before = None
    while True:
        page = messages.for_resident("i-100", 50, before=before)
        if not page:
            break
        seen.extend(m.page_key for m in page)
        before = page[-1].page_key
    paged = time.perf_counter()

    assert seen == sorted(expected, reverse=True)
    assert len(seen) == 9_000
    assert messages.unread_count("i-100") == 9_000
    # How fast, against the plain store and a bare SQLite, is bench/session.py's to say; here,
    # that no page reads the whole table.
    plan = " ".join(
        row[-1]
        for row in db.execute(
            "EXPLAIN QUERY PLAN SELECT message_id FROM messages WHERE inmate_id = ? "
            "AND (sent_at, message_id) < (?, ?) ORDER BY sent_at DESC, message_id DESC LIMIT 50",
            ("i-100", *seen[100]),
        )
    )
    assert "USING INDEX" in plan and "SCAN" not in plan, plan
    print(f"\n10,000 messages: insert {inserted - started:.2f} s, page {paged - inserted:.2f} s")


def test_add_inside_a_rolled_back_transaction_is_undone(
    messages: MessagesRepository, db: Connection
) -> None:
    with pytest.raises(RuntimeError), transaction(db):
        add(messages, "m-1", "2024-05-01T07:00:00Z", photos=[("p-1", "image/png", PNG)])
        messages.add_outgoing("m-2", "i-100", "c-1", "reply", "2024-05-01T07:05:00Z")
        raise RuntimeError("failed")
    assert messages.get("m-1") is None
    assert messages.get("m-2") is None
    assert db.execute("SELECT count(*) FROM photos").fetchone()[0] == 0


def test_messages_survive_close_and_reopen(path: pathlib.Path) -> None:
    db = open_database(path)
    add(MessagesRepository(db), "m-1", "2024-05-01T07:00:00Z", photos=[("p-1", "image/jpeg", JPEG)])
    db.close()
    db = open_database(path)
    try:
        messages = MessagesRepository(db)
        assert messages.photos("m-1") == [Photo("p-1", "image/jpeg", JPEG)]
        assert messages.unread_count("i-100") == 1
    finally:
        db.close()


def test_mark_sent_moves_only_queued_messages_the_kiosk_wrote(
    messages: MessagesRepository,
) -> None:
    messages.add_outgoing("m-1", "i-100", "c-1", "one", "2024-05-01T07:01:00Z")
    messages.add_outgoing("m-2", "i-100", "c-1", "two", "2024-05-01T07:02:00Z")
    add(messages, "m-in", "2024-05-01T07:00:00Z")
    messages.set_status("m-2", "approved")  # the cloud's word came first

    assert messages.mark_sent(["m-1", "m-2", "m-in", "m-404"]) == ["m-1"]
    assert messages.get("m-1").status == "sent"
    assert messages.get("m-2").status == "approved"  # never pulled back
    assert messages.get("m-in").status == "delivered"
    assert messages.mark_sent(["m-1"]) == []  # twice: no change the second time


def test_a_refund_is_kept_when_a_later_status_carries_none(messages: MessagesRepository) -> None:
    messages.add_outgoing("m-1", "i-100", "c-1", "one", "2024-05-01T07:01:00Z")
    assert messages.get("m-1").credits_refunded is None
    messages.set_status("m-1", "rejected", "content", credits_refunded=1)
    assert (messages.get("m-1").reason, messages.get("m-1").credits_refunded) == ("content", 1)
    messages.set_status("m-1", "rejected", "content")
    assert messages.get("m-1").credits_refunded == 1


def test_contacts_are_who_wrote_to_the_resident_latest_first_by_latest_name(
    messages: MessagesRepository,
) -> None:
    messages.add_incoming("m-1", "i-100", "c-1", "Luis", "2024-05-01T07:00:00Z", "a")
    messages.add_incoming("m-2", "i-100", "c-2", "Ana", "2024-05-01T07:05:00Z", "b")
    messages.add_incoming("m-3", "i-100", "c-1", "Luis M.", "2024-05-01T07:10:00Z", "c")
    messages.add_incoming("m-4", "i-101", "c-3", "Someone else's", "2024-05-01T07:20:00Z", "d")
    messages.add_outgoing("m-5", "i-100", "c-9", "to a stranger", "2024-05-01T07:30:00Z")

    assert messages.contacts("i-100") == [("c-1", "Luis M."), ("c-2", "Ana")]
    assert messages.contacts("i-101") == [("c-3", "Someone else's")]
    assert messages.contacts("i-999") == []


def test_a_late_status_never_takes_a_message_back(tmp_path) -> None:
    from kiosk.store import open_database
    from kiosk.store.messages import MessagesRepository

    db = open_database(tmp_path / "k.db")
    messages = MessagesRepository(db)
    messages.add_outgoing("m-1", "A1", "c-1", "hi", "2026-11-23T19:00:00.000Z")
    assert messages.set_status("m-1", "approved")
    assert not messages.set_status("m-1", "received")  # arrived late, out of order
    assert messages.get("m-1").status == "approved"
    assert messages.set_status("m-1", "delivered")
    assert messages.get("m-1").status == "delivered"
    db.close()
