"""Kept only as long as needed: with the clock moved forward, what the facility's retention no
longer allows is gone from the kiosk (at start, then daily, never mid-session), and what a
resident sees is what it allows; a message not yet handed to the cloud is never purged."""

from __future__ import annotations

from datetime import timedelta

from kiosk.config import KioskConfig
from kiosk.contract.times import utc_text
from kiosk.core.clock import FakeClock
from kiosk.store.database import connect
from kiosk.store.database_key import NO_KEY
from kiosk.store.messages import MessagesRepository
from kiosk.store.retention import purge
from kiosk.sync.inbound import inbound_event
from tests.core.residents import ALVAREZ, add_message, open_kiosk, seed_residents, sign_in

PHOTO = ("p-1", "image/jpeg", b"\xff\xd8 an old photo of the kids " * 20)


def days_ago(clock: FakeClock, days: float) -> str:
    return utc_text(clock.now() - timedelta(days=days))


def test_at_start_messages_and_photos_past_their_days_are_gone_and_unsent_ones_stay(
    config: KioskConfig, clock: FakeClock
) -> None:
    kiosk = open_kiosk(config, clock)
    try:
        seed_residents(kiosk)
        add_message(kiosk, "m-new", "A1024", "new", sent_at=clock.now() - timedelta(days=2))
        add_message(kiosk, "m-40", "A1024", "forty days", sent_at=clock.now() - timedelta(days=40),
                    photos=[PHOTO])  # fmt: skip
        add_message(kiosk, "m-100", "A1024", "old", sent_at=clock.now() - timedelta(days=100))
        messages = MessagesRepository(kiosk.database)
        messages.add_outgoing("m-unsent", "A1024", "c-1", "not sent yet", days_ago(clock, 200))
        kiosk.tick()  # the first tick: the purge at start (90 days, photos 30)
        assert messages.get("m-100") is None
        assert messages.get("m-40") is not None and messages.photos("m-40") == []
        assert messages.get("m-new") is not None
        assert messages.get("m-unsent") is not None  # the cloud does not have it yet
        # Opened, the message says its photo is gone, in the resident's language (Spanish).
        sign_in(kiosk, clock, ALVAREZ)
        assert kiosk.session_intent("open_message", "m-40") is True
        opened = kiosk.view.session.message
        assert opened.body == "forty days" and opened.photos == ()
        assert opened.photos_gone == "Su foto ya no se guarda en este quiosco."
        kiosk.session_intent("open_message", "m-new")
        assert kiosk.view.session.message.photos_gone == ""
        purged = [detail for kind, detail in kiosk.outbox.events if kind == "retention_purged"]
        assert purged == [{"messages": 1, "photos": 1, "events": 0, "messages_days": 90,
                           "photos_days": 30, "events_days": 30}]  # fmt: skip
    finally:
        kiosk.close()


def test_the_facilitys_days_apply_and_the_purge_comes_again_each_day(
    config: KioskConfig, clock: FakeClock
) -> None:
    kiosk = open_kiosk(config, clock)
    try:
        seed_residents(kiosk)
        retention = {"messages_days": 7, "photos_days": 3, "events_days": 1}
        kiosk.receive(inbound_event("config", {"retention": retention}))
        add_message(kiosk, "m-5", "A1024", "five days", sent_at=clock.now() - timedelta(days=5))
        kiosk.tick()
        messages = MessagesRepository(kiosk.database)
        assert messages.get("m-5") is not None
        clock.advance(3 * 24 * 3600)  # eight days old now
        kiosk.tick()
        assert messages.get("m-5") is None
        assert [kind for kind, _ in kiosk.outbox.events].count("retention_purged") == 1
    finally:
        kiosk.close()


def test_no_purge_while_a_resident_reads(config: KioskConfig, clock: FakeClock) -> None:
    kiosk = open_kiosk(config, clock)
    try:
        seed_residents(kiosk)
        kiosk.tick()
        add_message(kiosk, "m-89", "A1024", "nearly", sent_at=clock.now() - timedelta(days=89))
        clock.advance(2 * 24 * 3600)
        sign_in(kiosk, clock, ALVAREZ)  # her inbox is open: nothing goes from under her
        kiosk.tick()
        assert MessagesRepository(kiosk.database).get("m-89") is not None
        kiosk.sign_out()
        kiosk.tick()
        assert MessagesRepository(kiosk.database).get("m-89") is None
    finally:
        kiosk.close()


def test_a_purged_message_is_not_left_in_the_file(tmp_path, clock: FakeClock) -> None:
    """Even with the key taken: its pages are zeroed, and the WAL emptied after."""
    from kiosk.store import open_database

    path = tmp_path / "kiosk.sqlite3"
    db = open_database(path, key=NO_KEY)  # plain, to read the bytes as they would decrypt
    marker = "A-MESSAGE-PAST-ITS-DAYS-41d2"
    MessagesRepository(db).add_incoming(
        "m-old", "A1024", "c-1", "Rosa", days_ago(clock, 120), marker * 20, [PHOTO]
    )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert marker.encode() in path.read_bytes()
    cutoff = days_ago(clock, 90)
    purged = purge(db, messages_before=cutoff, photos_before=cutoff, events_before=cutoff)
    assert (purged.messages, purged.photos) == (1, 1)
    wal = path.with_name(path.name + "-wal")
    left = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert marker.encode() not in left and PHOTO[2][:20] not in left
    db.close()
    assert connect(path, NO_KEY).execute("SELECT count(*) FROM photos").fetchone()[0] == 0
