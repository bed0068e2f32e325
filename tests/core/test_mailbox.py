"""The resident's messages during a session: reading, paging, writing, and what became of them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import KioskConfig
from kiosk.contract.topics import Topics
from kiosk.core.clock import FakeClock
from kiosk.core.kiosk import Kiosk
from kiosk.core.mailbox import PAGE_SIZE
from kiosk.store.messages import MessagesRepository, Photo
from kiosk.store.outbox import OutboxRepository
from kiosk.store.residents import ResidentsRepository
from kiosk.sync.inbound import inbound_event
from kiosk.sync.inbox import Inbox
from kiosk.sync.incoming import Incoming
from tests.conftest import make_config
from tests.core.residents import (
    ALVAREZ,
    BROKE,
    JOHNSON,
    NBSP,
    START,
    add_many_messages,
    add_message,
    open_kiosk,
    outbox_records,
    seed_residents,
    sign_in,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(64))
OUTBOX_TOPIC = "kiosk/v1/demo/demo-hu-01/up/outbox"


@pytest.fixture
def kiosk(config: KioskConfig, clock: FakeClock) -> Iterator[Kiosk]:
    kiosk = open_kiosk(config, clock)
    seed_residents(kiosk)
    add_message(
        kiosk, "m-old", JOHNSON[0], "Got your letter.\nMore text", sent_at=START - timedelta(days=2)
    )
    add_message(
        kiosk,
        "m-new",
        JOHNSON[0],
        "The kids say hi",
        contact=("c-9", "T. Johnson"),
        sent_at=START - timedelta(hours=2),
        photos=[("p-1", "image/png", PNG), ("p-2", "image/jpeg", JPEG)],
    )
    add_message(kiosk, "m-other", ALVAREZ[0], "Hola mijo", contact=("c-5", "R. Alvarez"))
    yield kiosk
    kiosk.close()


def credits_of(kiosk: Kiosk, inmate_id: str) -> int:
    return ResidentsRepository(kiosk.database).by_inmate_id(inmate_id)["message_credits"]


def message_rows(kiosk: Kiosk) -> int:
    return kiosk.database.execute("SELECT count(*) FROM messages").fetchone()[0]


def compose(kiosk: Kiosk, text: str, contact_id: str = "c-9") -> None:
    kiosk.session_intent("new_message")
    kiosk.session_intent("write_to", contact_id)
    kiosk.session_intent("set_draft", text)


def test_the_inbox_lists_the_residents_messages_newest_first(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    sign_in(kiosk, clock)
    session = kiosk.view.session
    assert [row.message_id for row in session.inbox] == ["m-new", "m-old"]
    new, old = session.inbox
    assert (new.who, new.first_line, new.when) == (
        "From T. Johnson",
        "The kids say hi",
        f"Nov 23, 11:00{NBSP}AM",  # in the facility's time zone
    )
    assert (old.who, old.first_line) == ("From R. Alvarez", "Got your letter.")
    assert (new.unread, new.unread_label, new.status) == (True, "New", "")
    assert session.unread == "2 new messages"
    assert session.inbox_more is False
    assert "Hola mijo" not in repr(kiosk.view)  # another resident's


def test_an_empty_inbox_says_so(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock, BROKE)
    session = kiosk.view.session
    assert (session.inbox, session.inbox_empty, session.unread) == ((), "No messages yet.", "")


def test_opening_a_message_shows_it_with_its_photos_and_marks_it_read(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    sign_in(kiosk, clock)
    assert kiosk.session_intent("open_message", "m-new") is True
    view = kiosk.view.session
    assert view.page == "message"
    message = view.message
    assert (message.who, message.body, message.contact_name) == (
        "From T. Johnson",
        "The kids say hi",
        "T. Johnson",
    )
    assert message.photos == (Photo("p-1", "image/png", PNG), Photo("p-2", "image/jpeg", JPEG))
    assert view.unread == "1 new message"
    assert MessagesRepository(kiosk.database).get("m-new").read_at == "2026-11-23T19:00:00Z"

    kiosk.session_intent("back")
    view = kiosk.view.session
    assert (view.page, view.message) == ("inbox", None)
    assert [row.unread for row in view.inbox] == [False, True]


def test_another_residents_message_cannot_be_opened(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    assert kiosk.session_intent("open_message", "m-other") is False
    assert kiosk.session_intent("open_message", "no-such") is False
    assert kiosk.view.session.page == "inbox"
    assert kiosk.view.session.message is None
    assert MessagesRepository(kiosk.database).get("m-other").read_at is None
    assert "Hola mijo" not in repr(kiosk.view)


def test_ten_thousand_messages_page_quickly(kiosk: Kiosk, clock: FakeClock) -> None:
    add_many_messages(kiosk, JOHNSON[0], 10_000)
    started = time.perf_counter()
    sign_in(kiosk, clock)
    session = kiosk.view.session
    assert len(session.inbox) == PAGE_SIZE
    assert session.inbox_more is True
    assert [row.message_id for row in session.inbox[:3]] == ["m-00000", "m-00001", "m-00002"]
    assert session.unread == "10002 new messages"

    for _ in range(3):
        kiosk.session_intent("load_more")
    ids = [row.message_id for row in kiosk.view.session.inbox]
    assert len(ids) == 4 * PAGE_SIZE == len(set(ids))
    # One a minute from an hour ago; "m-new", two hours ago, ties with m-00060 (id order).
    assert ids[59:62] == ["m-00059", "m-new", "m-00060"]
    assert ids[-1] == f"m-{4 * PAGE_SIZE - 2:05d}"
    kiosk.session_intent("open_message", "m-00100")
    assert kiosk.view.session.unread == "10001 new messages"
    assert time.perf_counter() - started < 3.0


def test_the_last_page_says_there_is_no_more(kiosk: Kiosk, clock: FakeClock) -> None:
    add_many_messages(kiosk, JOHNSON[0], PAGE_SIZE + 5)
    sign_in(kiosk, clock)
    assert kiosk.session_intent("load_more") is True
    session = kiosk.view.session
    assert len(session.inbox) == PAGE_SIZE + 7
    assert session.inbox_more is False
    assert kiosk.session_intent("load_more") is False


def test_contacts_are_the_people_who_wrote_most_recent_first(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    sign_in(kiosk, clock)
    assert kiosk.view.session.contacts == ()  # only on the contacts page
    kiosk.session_intent("new_message")
    view = kiosk.view.session
    assert view.page == "contacts"
    assert view.contacts == (("c-9", "T. Johnson"), ("c-1", "R. Alvarez"))
    kiosk.session_intent("write_to", "c-5")  # Alvarez's contact: not Johnson's to write to
    assert kiosk.view.session.page == "contacts"
    assert kiosk.view.session.compose is None


def test_sending_spends_a_credit_and_queues_the_contracts_message(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    sign_in(kiosk, clock)
    compose(kiosk, "  Tell them I miss them  ")
    view = kiosk.view.session
    assert view.page == "compose"
    assert (view.compose.to, view.compose.count) == ("To T. Johnson", "21 / 2000")
    assert view.compose.cost == "Sending costs 1 credit. You have 3 credits."
    assert view.compose.can_send is True
    outbox_before = kiosk.outbox.wakes

    message_id = kiosk.session_intent("send")

    assert message_id is not None
    assert credits_of(kiosk, JOHNSON[0]) == 2
    assert kiosk.view.session.credits == "2 credits"
    assert kiosk.outbox.wakes == outbox_before + 1  # the sync layer was woken
    records = outbox_records(kiosk, "outbox")
    assert records == [
        (
            message_id,
            {
                "v": 1,
                "type": "message",
                "message_id": message_id,
                "inmate_id": "A2048",
                "to_contact_id": "c-9",
                "body": "Tell them I miss them",
                "created_at": "2026-11-23T19:00:00.000Z",
            },
        )
    ]
    topics = [
        record.topic for record in OutboxRepository(kiosk.database, budget_bytes=1 << 30).pending()
    ]
    assert topics == [OUTBOX_TOPIC]
    # The inbox shows it at the top with its state in words.
    session = kiosk.view.session
    assert session.page == "inbox"
    top = session.inbox[0]
    assert (top.message_id, top.who, top.status, top.status_code) == (
        message_id,
        "To T. Johnson",
        "Waiting to send",
        "queued",
    )
    stored = MessagesRepository(kiosk.database).get(message_id)
    assert stored.sent_at == "2026-11-23T19:00:00.000Z"  # the inbox's format: text order holds


def test_a_reply_goes_to_the_sender_of_the_message(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    kiosk.session_intent("open_message", "m-old")
    kiosk.session_intent("reply")
    assert kiosk.view.session.compose.to == "To R. Alvarez"
    kiosk.session_intent("set_draft", "Thanks")
    message_id = kiosk.session_intent("send")
    assert outbox_records(kiosk, "outbox")[0][1]["to_contact_id"] == "c-1"
    assert MessagesRepository(kiosk.database).get(message_id).contact_name == "R. Alvarez"


def test_at_zero_credits_nothing_is_sent_nor_written(kiosk: Kiosk, clock: FakeClock) -> None:
    add_message(kiosk, "m-b", BROKE[0], "Hello", contact=("c-3", "A. Friend"))
    sign_in(kiosk, clock, BROKE)
    compose(kiosk, "Please send stamps", contact_id="c-3")
    compose_view = kiosk.view.session.compose
    assert compose_view.can_send is False
    assert compose_view.problem == (
        "You have no message credits left. Ask staff how to get more credits."
    )
    rows = message_rows(kiosk)

    assert kiosk.session_intent("send") is None

    assert kiosk.view.session.compose.problem == (
        "You have no message credits left. Your message was not sent. "
        "Ask staff how to get more credits."
    )
    assert message_rows(kiosk) == rows
    assert outbox_records(kiosk, "outbox") == []
    assert credits_of(kiosk, BROKE[0]) == 0
    assert kiosk.view.session.page == "compose"  # the draft is still theirs to keep or drop


def test_a_message_too_long_is_refused(kiosk: Kiosk, clock: FakeClock) -> None:
    kiosk.receive(inbound_event("config", {"message_max_chars": 10}))
    sign_in(kiosk, clock)
    compose(kiosk, "x" * 11)
    compose_view = kiosk.view.session.compose
    assert (compose_view.count, compose_view.over_limit, compose_view.can_send) == (
        "11 / 10",
        True,
        False,
    )
    assert kiosk.session_intent("send") is None
    assert kiosk.view.session.compose.problem == (
        "Your message is too long. Make it shorter, then send it."
    )
    assert credits_of(kiosk, JOHNSON[0]) == 3
    assert outbox_records(kiosk, "outbox") == []
    kiosk.session_intent("set_draft", "x" * 10)
    assert kiosk.session_intent("send") is not None


def test_an_empty_message_is_refused(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    compose(kiosk, "   \n ")
    assert kiosk.view.session.compose.can_send is False
    assert kiosk.session_intent("send") is None
    assert kiosk.view.session.compose.problem == "Write your message first."
    assert credits_of(kiosk, JOHNSON[0]) == 3


def test_a_full_outbox_refuses_the_message_and_keeps_the_credit(
    tmp_path: Path, clock: FakeClock
) -> None:
    kiosk = open_kiosk(make_config(tmp_path, outbox_budget_mb=1), clock)
    try:
        seed_residents(kiosk)
        add_message(kiosk, "m-1", JOHNSON[0], "Hi", contact=("c-9", "T. Johnson"))
        filler = OutboxRepository(kiosk.database, budget_bytes=1 << 20)
        filler.append("kiosk/v1/demo/demo-hu-01/up/events", "e-1", b"x" * ((1 << 20) - 100))
        sign_in(kiosk, clock)
        compose(kiosk, "y" * 200)
        rows = message_rows(kiosk)

        assert kiosk.session_intent("send") is None

        assert kiosk.view.session.compose.problem == (
            "The kiosk cannot send messages right now. Your message was not sent and no "
            "credit was used. Please tell staff."
        )
        assert credits_of(kiosk, JOHNSON[0]) == 3
        assert message_rows(kiosk) == rows
        assert outbox_records(kiosk, "outbox") == []
    finally:
        kiosk.close()


def test_leaving_the_compose_page_discards_the_draft(kiosk: Kiosk, clock: FakeClock) -> None:
    sign_in(kiosk, clock)
    compose(kiosk, "half a thought")
    kiosk.session_intent("back")
    assert kiosk.view.session.compose is None
    assert kiosk.view.session.page == "inbox"


def sent_message(kiosk: Kiosk, clock: FakeClock) -> str:
    sign_in(kiosk, clock)
    compose(kiosk, "See you Sunday")
    return kiosk.session_intent("send")


def status_words(kiosk: Kiosk, message_id: str) -> str:
    (row,) = [row for row in kiosk.view.session.inbox if row.message_id == message_id]
    return row.status


def test_the_status_of_a_sent_message_follows_the_facility(kiosk: Kiosk, clock: FakeClock) -> None:
    message_id = sent_message(kiosk, clock)
    assert status_words(kiosk, message_id) == "Waiting to send"

    # The broker acknowledged it (the link's connection deletes it from the outbox).
    outbox = OutboxRepository(kiosk.database, budget_bytes=1 << 30)
    seqs = [record.seq for record in outbox.pending()]
    assert outbox.delete_acknowledged(seqs) == [message_id]
    kiosk.receive(inbound_event("messages_sent", [message_id]))
    assert status_words(kiosk, message_id) == "Sent"

    messages = MessagesRepository(kiosk.database)
    for status, words in (
        ("received", "Received by the facility"),
        ("approved", "Approved"),
        ("delivered", "Delivered"),
    ):
        messages.set_status(message_id, status)
        kiosk.receive(inbound_event("message_status", None))
        assert status_words(kiosk, message_id) == words


def test_a_rejected_message_shows_the_reason_and_the_refund(kiosk: Kiosk, clock: FakeClock) -> None:
    message_id = sent_message(kiosk, clock)
    MessagesRepository(kiosk.database).set_status(
        message_id, "rejected", "It names a staff member.", credits_refunded=1
    )
    ResidentsRepository(kiosk.database).set_credits(JOHNSON[0], 3)
    kiosk.receive(inbound_event("message_status", None))

    assert status_words(kiosk, message_id) == "Not approved"
    assert kiosk.view.session.credits == "3 credits"
    kiosk.session_intent("open_message", message_id)
    message = kiosk.view.session.message
    assert (message.who, message.body, message.status) == (
        "To T. Johnson",
        "See you Sunday",
        "Not approved",
    )
    assert message.status_detail == "Not approved: It names a staff member. 1 credit refunded."


class FakeLink:
    def __init__(self) -> None:
        self.acked: list[Incoming] = []

    def ack(self, incoming: Incoming) -> None:
        self.acked.append(incoming)


def deliver_status(kiosk: Kiosk, payload: dict[str, Any]) -> None:
    """A ``message_status`` through the sync layer's inbox, as it comes from the cloud."""
    topics = Topics("demo", "demo-hu-01")
    inbox = Inbox(
        topics,
        kiosk.database,
        notify=lambda kind, data: kiosk.receive(inbound_event(kind, data)),
        rejected=lambda topic, reason: pytest.fail(reason),
        command_seen_again=lambda *args: None,
    )
    raw = json.dumps({"v": 1, "type": "message_status", **payload}).encode()
    link = FakeLink()
    inbox.handle(link, Incoming(topics.down("message-status"), raw, False, 1, 1, 1))
    assert len(link.acked) == 1


def test_a_message_status_with_the_new_balance_updates_the_header(
    kiosk: Kiosk, clock: FakeClock
) -> None:
    message_id = sent_message(kiosk, clock)
    assert kiosk.view.session.credits == "2 credits"
    deliver_status(kiosk, {"message_id": message_id, "status": "received", "message_credits": 7})
    assert kiosk.view.session.credits == "7 credits"
    assert status_words(kiosk, message_id) == "Received by the facility"


@pytest.mark.parametrize(
    ("language", "refunded", "words"),
    [
        ("en", 1, "Not approved: It names a staff member. 1 credit refunded."),
        ("en", 2, "Not approved: It names a staff member. 2 credits refunded."),
        ("es", 1, "No aprobado: It names a staff member. Se devolvió 1 crédito."),
        ("es", 2, "No aprobado: It names a staff member. Se devolvieron 2 créditos."),
    ],
)
def test_a_rejection_from_the_cloud_shows_its_refund(
    kiosk: Kiosk, clock: FakeClock, language: str, refunded: int, words: str
) -> None:
    message_id = sent_message(kiosk, clock)
    deliver_status(
        kiosk,
        {
            "message_id": message_id,
            "status": "rejected",
            "reason": "It names a staff member.",
            "credits_refunded": refunded,
            "message_credits": 3,
        },
    )
    kiosk.session_intent("open_message", message_id)
    kiosk.set_language(language)
    assert kiosk.view.session.message.status_detail == words


@pytest.mark.parametrize(
    ("language", "credits", "cost"),
    [
        ("en", "1 credit", "Sending costs 1 credit. You have 1 credit."),
        ("es", "1 crédito", "Enviar cuesta 1 crédito. Tiene 1 crédito."),
    ],
)
def test_one_credit_left_is_said_in_the_singular(
    kiosk: Kiosk, clock: FakeClock, language: str, credits: str, cost: str
) -> None:
    ResidentsRepository(kiosk.database).set_credits(JOHNSON[0], 1)
    sign_in(kiosk, clock)
    compose(kiosk, "See you Sunday")
    kiosk.set_language(language)
    view = kiosk.view.session
    assert (view.credits, view.compose.cost) == (credits, cost)
